"""Response checks (warnings only) and the enforcement responses graphtape answers with."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from contract_cases import big_mime

from graphtape.contract import enforcement_response, validate_request, validate_response
from graphtape.model import Finding, HttpRequest, HttpResponse, header

G = "https://graph.microsoft.com"
SENDMAIL = HttpRequest("POST", f"{G}/v1.0/me/sendMail", [("Content-Type", "application/json")], b"{}")
CREATE_REPLY = HttpRequest("POST", f"{G}/v1.0/me/messages/AAMk=/createReply")
ERROR = json.dumps({"error": {"code": "ErrorItemNotFound", "message": "Not found."}}).encode()


def rules(findings: list[Finding]) -> list[str]:
    return [f.rule for f in findings]


def test_documented_success_has_no_finding() -> None:
    assert validate_response(SENDMAIL, HttpResponse(202)) == []
    assert validate_response(CREATE_REPLY, HttpResponse(201, body=b'{"id": "AAMk="}')) == []


def test_drifted_status_and_body_are_warnings() -> None:
    findings = validate_response(SENDMAIL, HttpResponse(201, body=b'{"id": "x"}'))
    assert rules(findings) == ["response.status", "response.body"]
    assert all(f.severity == "warning" for f in findings)
    assert "202" in findings[0].message
    assert findings[0].doc == "https://learn.microsoft.com/graph/api/user-sendmail"
    assert rules(validate_response(CREATE_REPLY, HttpResponse(200, body=b'{"id": "x"}'))) == ["response.status"]
    assert rules(validate_response(CREATE_REPLY, HttpResponse(201, body=b"not json"))) == ["response.body"]


def test_error_shape() -> None:
    assert validate_response(SENDMAIL, HttpResponse(404, body=ERROR)) == []
    assert rules(validate_response(SENDMAIL, HttpResponse(400, body=b"<html>bad</html>"))) == ["response.error-shape"]
    no_code = json.dumps({"error": {"message": "x"}}).encode()
    assert rules(validate_response(SENDMAIL, HttpResponse(500, body=no_code))) == ["response.error-shape"]


def test_throttling_needs_retry_after() -> None:
    throttled = json.dumps({"error": {"code": "ApplicationThrottled", "message": "over limit"}}).encode()
    assert rules(validate_response(SENDMAIL, HttpResponse(429, body=throttled))) == ["response.retry-after"]
    assert validate_response(SENDMAIL, HttpResponse(429, headers=[("Retry-After", "2")], body=throttled)) == []


def test_calls_outside_the_contract_are_not_checked() -> None:
    req = HttpRequest("GET", f"{G}/v1.0/me/messages")
    assert validate_response(req, HttpResponse(418, body=b"teapot")) == []


def _mime_request(body: bytes, path: str = "/v1.0/me/sendMail") -> HttpRequest:
    headers = [("Content-Type", "text/plain"), ("client-request-id", "c-1")]
    return HttpRequest("POST", G + path, headers, body)


def test_bad_base64_gets_exactly_the_documented_400() -> None:
    req = _mime_request(b"not base64!")
    resp = enforcement_response(req, validate_request(req))
    assert resp is not None
    assert resp.status == 400 and resp.reason == "Bad Request"
    assert json.loads(resp.body) == {
        "error": {"code": "ErrorMimeContentInvalidBase64String", "message": "Invalid base64 string for MIME content."}
    }
    assert header(resp.headers, "x-graphtape") == "contract-error"
    assert (header(resp.headers, "content-type") or "").startswith("application/json")
    assert header(resp.headers, "client-request-id") == "c-1"


def test_mime_over_4mb_gets_413() -> None:
    req = _mime_request(big_mime(3_300_000))
    resp = enforcement_response(req, validate_request(req))
    assert resp is not None and resp.status == 413 and resp.reason == "Request Entity Too Large"
    assert json.loads(resp.body)["error"]["code"] == "RequestEntityTooLarge"


def test_schema_errors_get_a_graph_shaped_400_listing_them() -> None:
    body = json.dumps({"message": {"importance": "urgent", "isRead": "yes"}}).encode()
    req = HttpRequest("POST", f"{G}/v1.0/me/sendMail", [("Content-Type", "application/json")], body)
    findings = validate_request(req)
    now = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
    resp = enforcement_response(req, findings, request_id="r-1", now=now)
    assert resp is not None and resp.status == 400
    error = json.loads(resp.body)["error"]
    assert error["code"] == "RequestBodyRead"
    assert error["innerError"] == {"date": "2024-05-01T12:00:00", "request-id": "r-1"}
    for f in findings:
        if f.severity == "error":
            assert f.line() in error["message"]
    assert header(resp.headers, "request-id") == "r-1"


def test_upload_session_too_small_uses_the_documented_code() -> None:
    body = json.dumps({"AttachmentItem": {"attachmentType": "file", "name": "a", "size": 10}}).encode()
    req = HttpRequest("POST", f"{G}/v1.0/me/messages/AAMk=/attachments/createUploadSession", [], body)
    req = HttpRequest(req.method, req.url, [("Content-Type", "application/json")], body)
    resp = enforcement_response(req, validate_request(req))
    assert resp is not None
    assert json.loads(resp.body)["error"]["code"] == "ErrorAttachmentSizeShouldNotBeLessThanMinimumSize"


def test_warnings_alone_are_not_enforced() -> None:
    body = json.dumps({"subject": "hi", "id": "x"}).encode()  # read-only: a warning (subjct is an error now)
    req = HttpRequest("POST", f"{G}/v1.0/me/messages", [("Content-Type", "application/json")], body)
    findings = validate_request(req)
    assert findings and all(f.severity == "warning" for f in findings)
    assert enforcement_response(req, findings) is None
    assert enforcement_response(req, []) is None


def _enforced(path: str, body: object, method: str = "POST") -> dict:
    req = HttpRequest(method, G + path, [("Content-Type", "application/json")], json.dumps(body).encode())
    resp = enforcement_response(req, validate_request(req), request_id="r-2")
    assert resp is not None and resp.status == 400
    error = json.loads(resp.body)["error"]
    return error


def test_an_undeclared_message_property_gets_graphs_request_body_read_word_for_word() -> None:
    error = _enforced("/v1.0/me/messages", {"subjct": "hi"})
    assert error["code"] == "RequestBodyRead"
    assert error["message"] == (
        "The property 'subjct' does not exist on type 'microsoft.graph.message'. Make sure to only use property "
        "names that are defined by the type or mark the type as open type.")
    assert error["innerError"]["request-id"] == "r-2"


@pytest.mark.parametrize(
    ("path", "body", "code", "message_start"),
    [
        ("/v1.0/me/messages", {"internetMessageHeaders": [{"name": f"x-{i}", "value": "v"} for i in range(6)]},
         "InvalidInternetMessageHeaderCollection", "got"),
        ("/v1.0/me/messages", {"internetMessageHeaders": [{"name": "Custom", "value": "v"}]},
         "InvalidInternetMessageHeader", "got"),
        ("/v1.0/me/messages/AAMk=/attachments",
         {"@odata.type": "#microsoft.graph.fileAttachment", "name": "a", "contentBytes": "aGk=", "isInline": None},
         "RequestBodyRead", "A null value was found for the property named 'isInline', which has the expected type "
                            "'Edm.Boolean[Nullable=False]'."),
        ("/v1.0/me/messages", {"singleValueExtendedProperties": [{"id": "Color", "value": "x"}]},
         "ErrorInvalidProperty", "PropertyId values may only be in one of the following formats:"),
        ("/v1.0/me/sendMail", {"saveToSentItems": True},
         "RequestBodyRead", "One or more parameters of the operation 'sendMail' are missing from the request payload. "
                            "The missing parameters are: Message."),
        ("/v1.0/me/messages/AAMk=/move", {"destinationId": "inbox", "folder": "x"},
         "RequestBodyRead", "The parameter 'folder' in the request payload is not a valid parameter for the "
                            "operation 'move'."),
    ],
)
def test_each_rule_is_answered_with_graphs_code(path: str, body: object, code: str, message_start: str) -> None:
    error = _enforced(path, body)
    assert error["code"] == code
    assert message_start in error["message"]
