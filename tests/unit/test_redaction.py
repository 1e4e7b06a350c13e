"""redaction: secrets replaced before writing; anything token-like left over is found and named."""

from __future__ import annotations

import json
from collections.abc import Sequence
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import TOKEN
from graphtape.cassette.format import interaction_to_data
from graphtape.model import HttpRequest, HttpResponse, Interaction
from graphtape.privacy.redaction import REDACTED, Redactor, find_secrets

JWT = TOKEN  # JWT-shaped, built at run time so no token-looking literal is committed
GRAPH = "https://graph.microsoft.com/v1.0"


def interaction(req_headers: Sequence[tuple[str, str]] = (),
                resp_headers: Sequence[tuple[str, str]] = (), req_body: bytes = b"",
                resp_body: bytes = b"", url: str = f"{GRAPH}/me/messages", req_type: str = "application/json",
                resp_type: str = "application/json") -> Interaction:
    return Interaction(
        HttpRequest("POST", url, [("Content-Type", req_type), *req_headers], req_body),
        HttpResponse(201, "Created", [("Content-Type", resp_type), *resp_headers], resp_body),
    )


# --------------------------------------------------------------------------- headers


@pytest.mark.parametrize(
    "name", ["Authorization", "authorization", "AUTHORIZATION", "Cookie", "cookie", "Set-Cookie", "set-cookie",
             "x-api-key", "X-API-Key", "Proxy-Authorization", "Ocp-Apim-Subscription-Key"],
)
def test_secret_headers_redacted_case_insensitively(name: str) -> None:
    out = Redactor().header_list([("Accept", "application/json"), (name, f"Bearer {JWT}"), ("request-id", "r1")])
    assert out == [("Accept", "application/json"), (name, REDACTED), ("request-id", "r1")]


def test_header_order_and_repeats_kept() -> None:
    headers = [("Set-Cookie", "a=1"), ("X-Keep", "1"), ("set-cookie", "b=2")]
    assert Redactor().header_list(headers) == [("Set-Cookie", REDACTED), ("X-Keep", "1"), ("set-cookie", REDACTED)]


def test_ordinary_headers_untouched() -> None:
    headers = [("client-request-id", "0f81"), ("Content-Type", "text/plain"), ("User-Agent", "kiota")]
    assert Redactor().header_list(headers) == headers


def test_extra_headers_and_params() -> None:
    r = Redactor.with_extra(headers=[" X-Tenant-Secret ", ""], params=["Sas", " "])
    assert r.header_list([("x-tenant-secret", "s"), ("Authorization", "a")]) == [
        ("x-tenant-secret", REDACTED), ("Authorization", REDACTED)]
    assert r.url("https://x.blob.core.windows.net/c?Sas=abc&sv=2020") == (
        "https://x.blob.core.windows.net/c?Sas=<redacted>&sv=2020")
    assert "" not in r.headers and "" not in r.params
    # the defaults are still there
    assert Redactor().header_list([("x-tenant-secret", "s")]) == [("x-tenant-secret", "s")]


# --------------------------------------------------------------------------- URLs


@pytest.mark.parametrize("param", ["authtoken", "access_token", "client_secret", "AuthToken", "code", "sig"])
def test_secret_query_params_redacted(param: str) -> None:
    url = f"{GRAPH}/me/messages?$select=subject,from&{param}=s3cret&$top=5"
    out = Redactor().url(url)
    query = parse_qs(urlsplit(out).query)
    assert query[param] == [REDACTED]
    assert query["$select"] == ["subject,from"]
    assert query["$top"] == ["5"]
    assert "s3cret" not in out
    assert "$select=subject,from" in out  # not percent-encoded into %24select / %2C


@pytest.mark.parametrize(
    "url",
    [
        f"{GRAPH}/me/messages?$skiptoken=RFNwdAIAAQAAAA&$select=subject",
        f"{GRAPH}/me/messages?%24skiptoken=abc",
        f"{GRAPH}/me/messages/AAMk%3D/$value",
        f"{GRAPH}/me/messages",
        f"{GRAPH}/me/messages?$deltatoken=abc&$filter=isRead%20eq%20false",
    ],
)
def test_urls_without_secrets_are_unchanged(url: str) -> None:
    assert Redactor().url(url) == url


def test_jwt_in_upload_url_of_json_response_is_redacted() -> None:
    # The documented uploadSession: the URL carries the token as ?authtoken=..., inside ('...') segments.
    upload = (f"https://outlook.office.com/api/v2.0/Users('a8e8e219@72aa88bf')/Messages('AAMkADI5MAAIT3drCAAA=')"
              f"/AttachmentSessions('AAMkADI5MAAIT3k0tAAA=')?authtoken={JWT}")
    body = json.dumps({"@odata.context": f"{GRAPH}/$metadata#microsoft.graph.uploadSession",
                       "uploadUrl": upload, "expirationDateTime": "2026-01-29T09:21:55.523Z",
                       "nextExpectedRanges": ["0-"]}, separators=(",", ":")).encode()
    r = Redactor()
    out = r.body(body, "application/json; odata.metadata=minimal")
    assert JWT not in out.decode()
    doc = json.loads(out)
    assert doc["uploadUrl"].startswith("https://outlook.office.com/api/v2.0/Users('a8e8e219@72aa88bf')")
    assert doc["uploadUrl"].endswith(f"?authtoken={REDACTED}")
    assert doc["nextExpectedRanges"] == ["0-"]
    assert out.startswith(b'{"@odata.context":')  # compact stays compact
    # ... and nothing is left for the scan to find
    data = interaction_to_data(r.interaction(interaction(resp_body=body)))
    assert find_secrets(data) == []


def test_spaced_json_stays_spaced_after_redaction() -> None:
    body = json.dumps({"uploadUrl": "https://x.example/u?authtoken=abc"}).encode()  # ", " / ": "
    out = Redactor().body(body, "application/json")
    assert out == b'{"uploadUrl": "https://x.example/u?authtoken=<redacted>"}'


def test_bodies_without_urls_are_returned_as_is() -> None:
    r = Redactor()
    for body, ct in [(b'{"a":  1}', "application/json"), (b"\xff\xfe?", "application/octet-stream"),
                     (b"", "application/json"), (b'{"q":"what?"}', "application/json")]:
        assert r.body(body, ct) is body


def test_url_in_text_body_is_redacted() -> None:
    out = Redactor().body(b"see https://x.example/a?x=1&access_token=abc for it", "text/plain")
    assert out == b"see https://x.example/a?x=1&access_token=<redacted> for it"
    html = b"<a href=\"https://x.example/a?authtoken=abc\">link</a>"
    assert Redactor().body(html, "text/html") == b"<a href=\"https://x.example/a?authtoken=<redacted>\">link</a>"


def test_interaction_redacts_url_headers_and_bodies_and_keeps_the_rest() -> None:
    i = Interaction(
        HttpRequest("GET", f"{GRAPH}/me/messages?access_token=abc", [("Authorization", f"Bearer {JWT}")]),
        HttpResponse(200, "OK", [("Set-Cookie", "x=1")], b"ok"),
        recorded_at="t", duration_ms=1.5,
    )
    out = Redactor().interaction(i)
    assert out.request.url == f"{GRAPH}/me/messages?access_token=<redacted>"
    assert out.request.headers == [("Authorization", REDACTED)]
    assert out.response.headers == [("Set-Cookie", REDACTED)]
    assert (out.response.status, out.response.reason, out.response.body) == (200, "OK", b"ok")
    assert (out.recorded_at, out.duration_ms) == ("t", 1.5)


# --------------------------------------------------------------------------- the scan


def test_find_secrets_finds_a_jwt_in_a_json_body() -> None:
    body = json.dumps({"value": [{"note": f"token {JWT}"}]}).encode()
    hits = find_secrets(interaction_to_data(interaction(resp_body=body)))
    assert [(h.kind, h.where) for h in hits] == [("JWT", "response.body.json.value[0].note")]
    assert JWT not in str(hits[0])  # the report does not repeat the secret
    assert f"{len(JWT)} characters" in str(hits[0])


def test_find_secrets_finds_bearer_in_an_unknown_header() -> None:
    data = interaction_to_data(interaction(req_headers=[("X-Forwarded-Auth", "Bearer abcdefghijklmnopqrstuvwxyz")]))
    hits = find_secrets(data)
    assert [(h.kind, h.where) for h in hits] == [("bearer token", "request.headers[1].X-Forwarded-Auth")]


def test_find_secrets_finds_a_jwt_in_a_text_body_and_url() -> None:
    data = interaction_to_data(interaction(req_body=f"token={JWT}".encode(), req_type="text/plain",
                                           url=f"{GRAPH}/me/messages?t={JWT}"))
    where = {h.where for h in find_secrets(data)}
    assert where == {"request.url", "request.body.text"}


def test_find_secrets_finds_a_jwt_in_a_json_key() -> None:
    data = interaction_to_data(interaction(resp_body=json.dumps({JWT: 1}).encode()))
    assert [h.where for h in find_secrets(data)] == ["response.body.json key"]


def test_find_secrets_in_a_redacted_sdk_request_is_empty() -> None:
    i = interaction(req_headers=[("Authorization", f"Bearer {JWT}"), ("client-request-id", "0f81")],
                    req_body=b'{"Message":{"subject":"Hi"},"SaveToSentItems":false}',
                    resp_headers=[("request-id", "r1")], resp_body=b"")
    assert find_secrets(interaction_to_data(i))  # before redaction: the header is found
    assert find_secrets(interaction_to_data(Redactor().interaction(i))) == []


def test_clean_interaction_has_no_hits() -> None:
    body = json.dumps({"id": "AAMkAGI1AAAoZCfHAAA=", "changeKey": "CQAAABYAAAAiIsqMbYjsT5e/T7KzowPTAAAYpTey",
                       "conversationIndex": "AQHXDt+LptFrN+qH7UGBQ9bFSr1kcw==", "bodyPreview": "bearer of news",
                       "subject": "eyJ is just text"}).encode()
    assert find_secrets(interaction_to_data(interaction(req_body=body, resp_body=body))) == []
