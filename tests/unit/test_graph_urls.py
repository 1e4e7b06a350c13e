"""graph: which URLs are Graph, and which spellings are the same request."""

from __future__ import annotations

import json

import pytest

from graphtape.graph import (
    GRAPH_HOSTS,
    error_response,
    is_graph_host,
    is_token_endpoint,
    normalise_path,
    parse_graph_url,
    request_key,
)

ID = "AAMkAGI1AAAoZCfHAAA="
ID_ENC = "AAMkAGI1AAAoZCfHAAA%3D"


@pytest.mark.parametrize("host", GRAPH_HOSTS)
@pytest.mark.parametrize("version", ["v1.0", "beta"])
def test_all_clouds_and_versions_parse(host: str, version: str) -> None:
    parsed = parse_graph_url(f"https://{host}/{version}/me/sendMail")
    assert parsed is not None
    assert (parsed.host, parsed.version, parsed.resource) == (host, version, "/me/sendMail")
    assert parsed.path == f"/{version}/me/sendMail"


def test_four_national_cloud_hosts_are_known() -> None:
    assert set(GRAPH_HOSTS) == {"graph.microsoft.com", "graph.microsoft.us", "dod-graph.microsoft.us",
                                "microsoftgraph.chinacloudapi.cn"}


@pytest.mark.parametrize(
    "url",
    [
        "https://GRAPH.Microsoft.com/v1.0/me",
        "https://graph.microsoft.com:443/v1.0/me",
        "https://graph.microsoft.com./v1.0/me",
        "http://graph.microsoft.com/v1.0/me",
    ],
)
def test_host_spellings(url: str) -> None:
    parsed = parse_graph_url(url)
    assert parsed is not None
    assert parsed.resource == "/me"


def test_users_path_and_ids() -> None:
    parsed = parse_graph_url(f"https://graph.microsoft.com/v1.0/users/alex@contoso.com/messages/{ID_ENC}/send")
    assert parsed is not None
    assert parsed.resource == f"/users/alex@contoso.com/messages/{ID}/send"


def test_sdk_double_slash_collapsed() -> None:
    parsed = parse_graph_url("https://graph.microsoft.com/v1.0//me//messages")
    assert parsed is not None
    assert parsed.resource == "/me/messages"
    assert parsed.path == "/v1.0/me/messages"


def test_percent_encoded_id_equals_plain_id() -> None:
    a = parse_graph_url(f"https://graph.microsoft.com/v1.0/me/messages/{ID_ENC}")
    b = parse_graph_url(f"https://graph.microsoft.com/v1.0/me/messages/{ID}")
    c = parse_graph_url(f"https://graph.microsoft.com/v1.0/me/messages/{ID_ENC.replace('%3D', '%3d')}")
    assert a is not None and b is not None and c is not None
    assert a.key() == b.key() == c.key()


def test_encoded_slash_stays_distinct_from_a_path_separator() -> None:
    assert normalise_path("/v1.0/me/messages/a%2Fb") == "/v1.0/me/messages/a%2Fb"
    assert normalise_path("/v1.0/me/messages/a%2Fb") != normalise_path("/v1.0/me/messages/a/b")


def test_query_is_sorted_and_decoded() -> None:
    a = parse_graph_url("https://graph.microsoft.com/v1.0/me/messages?$top=5&$select=subject,from")
    b = parse_graph_url("https://graph.microsoft.com/v1.0/me/messages?%24select=subject%2Cfrom&%24top=5")
    assert a is not None and b is not None
    assert a.query == (("$select", "subject,from"), ("$top", "5"))
    assert a.key() == b.key() == "/v1.0/me/messages?$select=subject,from&$top=5"


def test_query_values_matter() -> None:
    assert request_key("GET", "https://graph.microsoft.com/v1.0/me/messages?$top=5") != request_key(
        "GET", "https://graph.microsoft.com/v1.0/me/messages?$top=6")


def test_blank_query_values_kept() -> None:
    parsed = parse_graph_url("https://graph.microsoft.com/v1.0/me/messages?$count=")
    assert parsed is not None and parsed.query == (("$count", ""),)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/v1.0/me",
        "https://graph.microsoft.com.evil.example/v1.0/me",
        "https://evilgraph.microsoft.com/v1.0/me",
        "https://login.microsoftonline.com/common/oauth2/v2.0/token",
        "https://graph.microsoft.com/",
        "https://graph.microsoft.com",
        "https://graph.microsoft.com/v2.0/me",
        "https://graph.microsoft.com/V1.0/me",
        "https://graph.microsoft.com/v1.0me",
        "https://graph.microsoft.com/$metadata",
        "not a url",
        "",
    ],
)
def test_out_of_scope_returns_none(url: str) -> None:
    assert parse_graph_url(url) is None


def test_version_root() -> None:
    parsed = parse_graph_url("https://graph.microsoft.com/v1.0")
    assert parsed is not None and parsed.resource == "/"


def test_request_key_equal_for_sdk_and_doc_spellings() -> None:
    sdk = request_key("post", f"https://graph.microsoft.com/v1.0//me/messages/{ID_ENC}/send")
    doc = request_key("POST", f"https://graph.microsoft.com/v1.0/me/messages/{ID}/send")
    assert sdk == doc == f"POST /v1.0/me/messages/{ID}/send"


def test_request_key_ignores_the_cloud_but_not_the_version_or_method() -> None:
    keys = {request_key("POST", f"https://{h}/v1.0/me/sendMail") for h in GRAPH_HOSTS}
    assert len(keys) == 1
    assert request_key("POST", "https://graph.microsoft.com/beta/me/sendMail") not in keys
    assert request_key("GET", "https://graph.microsoft.com/v1.0/me/sendMail") not in keys


def test_request_key_for_non_graph_url_keeps_host() -> None:
    a = request_key("get", "https://Example.com//a/b?y=2&x=1")
    assert a == "GET https://example.com/a/b?x=1&y=2"
    assert a != request_key("GET", "https://other.example/a/b?x=1&y=2")


@pytest.mark.parametrize(
    ("host", "path", "expected"),
    [
        ("login.microsoftonline.com", "/common/oauth2/v2.0/token", True),
        ("LOGIN.microsoftonline.com", "/", True),
        ("login.microsoftonline.us", "/tenant/discovery", True),
        ("login.chinacloudapi.cn", "/x", True),
        ("example.com", "/oauth2/authorize", True),
        ("sts.example.com", "/adfs/token/", True),
        ("graph.microsoft.com", "/v1.0/me/messages", False),
        ("graph.microsoft.com", "/v1.0/me/sendMail", False),
        ("example.com", "/tokens/list", False),
    ],
)
def test_is_token_endpoint(host: str, path: str, expected: bool) -> None:
    assert is_token_endpoint(host, path) is expected


def test_is_graph_host() -> None:
    assert is_graph_host("dod-graph.microsoft.us")
    assert is_graph_host("Graph.Microsoft.US.")
    assert not is_graph_host("microsoft.com")


def test_error_response_has_graph_shape() -> None:
    resp = error_response(404, "graphtape.UnmatchedRequest", "nothing recorded")
    assert resp.status == 404 and resp.reason == "Not Found"
    doc = json.loads(resp.body)
    assert set(doc) == {"error"}
    assert doc["error"]["code"] == "graphtape.UnmatchedRequest"
    assert doc["error"]["message"] == "nothing recorded"
    inner = doc["error"]["innerError"]
    assert set(inner) == {"date", "request-id", "client-request-id"}
    assert ("request-id", inner["request-id"]) in resp.headers
    assert resp.content_type.startswith("application/json")


def test_error_response_unknown_status_keeps_given_reason() -> None:
    assert error_response(499, "x", "y", reason="Custom").reason == "Custom"
    assert error_response(499, "x", "y").reason == ""
