"""validate_request never raises, whatever the body, content type, method or URL."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphtape.contract import ENDPOINTS, Endpoint, validate_request, validate_response
from graphtape.model import HttpRequest, HttpResponse

G = "https://graph.microsoft.com"
PATHS = [
    "/v1.0/me/sendMail",
    "/beta/me/messages",
    "/v1.0//users/u%40x/mailFolders/inbox/messages/AAMk%3D/createReply",
    "/beta/me/messages/AAMk=/forward",
    "/v1.0/me/messages/AAMk=",
    "/v1.0/me/messages/AAMk=/$value",
    "/v1.0/me/messages/AAMk=/attachments",
    "/v1.0/me/messages/AAMk=/attachments/createUploadSession",
    "/v1.0/me/messages/AAMk=/send",
    "/v1.0/me/events",
]
CONTENT_TYPES = ["application/json", "text/plain", "text/plain; charset=utf-8", "", "application/xml"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=30,
)
KEYS = [
    "message",
    "Message",
    "comment",
    "toRecipients",
    "mentions",
    "attachments",
    "body",
    "flag",
    "internetMessageHeaders",
    "AttachmentItem",
    "@odata.type",
    "contentBytes",
    "importance",
]


def _assert_no_crash(req: HttpRequest) -> None:
    findings = validate_request(req)
    assert all(f.rule != "graphtape.internal-error" for f in findings), [f.line() for f in findings]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    method=st.sampled_from(["POST", "PATCH", "PUT", "GET"]),
    path=st.sampled_from(PATHS),
    content_type=st.sampled_from(CONTENT_TYPES) | st.text(max_size=30),
    body=st.binary(max_size=400),
)
def test_arbitrary_bytes(method: str, path: str, content_type: str, body: bytes) -> None:
    _assert_no_crash(HttpRequest(method, G + path, [("Content-Type", content_type)], body))


@settings(max_examples=300, deadline=None)
@given(
    path=st.sampled_from(PATHS),
    value=st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=10), json_values, max_size=6) | json_values,
    beta=st.booleans(),
)
def test_arbitrary_json(path: str, value: object, beta: bool) -> None:
    if beta:
        path = path.replace("/v1.0/", "/beta/")
    body = json.dumps(value).encode()
    _assert_no_crash(HttpRequest("POST", G + path, [("Content-Type", "application/json")], body))


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=300), sends=st.booleans())
def test_arbitrary_mime_text(text: str, sends: bool) -> None:
    import base64

    path = "/v1.0/me/sendMail" if sends else "/v1.0/me/messages"
    body = base64.encodebytes(text.encode("utf-8", "surrogatepass"))
    _assert_no_crash(HttpRequest("POST", G + path, [("Content-Type", "text/plain")], body))


@settings(max_examples=200, deadline=None)
@given(
    endpoint=st.sampled_from(ENDPOINTS),
    status=st.integers(100, 599),
    body=st.binary(max_size=200),
)
def test_arbitrary_responses(endpoint: Endpoint, status: int, body: bytes) -> None:
    path = endpoint.path.replace("{mailbox}", "/me").replace("{messages}", "/me/messages")
    req = HttpRequest(endpoint.method, G + "/v1.0" + path.replace("{message}", "/me/messages/A"))
    assert all(f.severity == "warning" for f in validate_response(req, HttpResponse(status, body=body)))


def test_deep_nesting() -> None:
    for body in (b"[" * 100_000 + b"]" * 100_000, b'{"message":' * 5000 + b"1" + b"}" * 5000):
        _assert_no_crash(HttpRequest("POST", G + "/v1.0/me/sendMail", [("Content-Type", "application/json")], body))
    deep = {"subject": "x", "extensions": [json.loads("[" * 500 + "]" * 500)]}
    _assert_no_crash(_json_request(deep))


def test_many_unknown_properties_are_capped() -> None:
    findings = validate_request(_json_request({f"prop{i}": i for i in range(5000)}))
    assert 0 < len(findings) <= 200


def _json_request(value: object) -> HttpRequest:
    body = json.dumps(value).encode()
    return HttpRequest("POST", G + "/v1.0/me/messages", [("Content-Type", "application/json")], body)
