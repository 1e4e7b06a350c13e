"""describe: one screen per Graph mail call, for inspect and listings."""

from __future__ import annotations

import base64
import json

import pytest

from graphtape.graph import error_response
from graphtape.model import HttpRequest, HttpResponse
from graphtape.session.describe import (
    body_summary,
    describe_exchange,
    json_summary,
    mime_summary,
    short_path,
    subject_and_recipients,
)

GRAPH = "https://graph.microsoft.com/v1.0"
JSON = [("Content-Type", "application/json")]
TEXT = [("Content-Type", "text/plain")]

DRAFT = {
    "subject": "Did you see last night's game?",
    "importance": "Low",
    "body": {"contentType": "HTML", "content": "They were <b>awesome</b>!"},
    "toRecipients": [{"emailAddress": {"address": "AdeleV@contoso.com"}}],
    "ccRecipients": [{"emailAddress": {"address": "AlexW@contoso.com", "name": "Alex"}}],
    "attachments": [{"@odata.type": "#microsoft.graph.fileAttachment", "name": "menu.txt", "contentBytes": "aGk="}],
}

MIME = (
    b"From: Alex <a@contoso.com>\r\n"
    b"To: =?utf-8?B?TcOpZ2Fu?= <m@contoso.com>, b@contoso.com\r\n"
    b"Cc: c@contoso.com\r\n"
    b"Bcc: d@contoso.com\r\n"
    b"Subject: =?utf-8?q?Caf=C3=A9_time?=\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n"
    b"--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello\r\n"
    b"--XX\r\nContent-Type: application/pdf; name=a.pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n"
    b"--XX--\r\n"
)


def test_json_draft() -> None:
    req = HttpRequest("POST", f"{GRAPH}//me/messages", JSON, json.dumps(DRAFT).encode())
    resp = HttpResponse(201, "Created", [("Content-Type", "application/json; odata.metadata=minimal")],
                        b'{"id":"AAMkAGI1AAAoZCfHAAA=","subject":"x"}')
    text = describe_exchange(req, resp, 53.2)
    lines = text.splitlines()
    assert lines[0] == "POST /v1.0/me/messages -> 201 Created in 53 ms"
    assert "    subject: Did you see last night's game?" in lines
    assert "    importance: Low" in lines
    assert "    to: AdeleV@contoso.com" in lines
    assert "    cc: AlexW@contoso.com" in lines
    assert "    attachments: menu.txt" in lines
    assert "    body: HTML, 25 chars" in lines
    assert lines[-1] == "    response id: AAMkAGI1AAAoZCfHAAA="


def test_sdk_sendmail_json_pascal_case() -> None:
    body = {"Message": {"subject": "Meet for lunch?", "toRecipients": [{"emailAddress": {"address": "f@x.com"}}]},
            "SaveToSentItems": False}
    info = json_summary(json.dumps(body).encode())
    assert info == {"subject": "Meet for lunch?", "saveToSentItems": False, "to": ["f@x.com"]}


def test_mime_sendmail_decoded_headers_and_parts() -> None:
    req = HttpRequest("POST", f"{GRAPH}/me/sendMail", TEXT, base64.encodebytes(MIME))
    text = describe_exchange(req, HttpResponse(202, "Accepted"), None)
    lines = text.splitlines()
    assert lines[0] == "POST /v1.0/me/sendMail -> 202 Accepted"
    assert f"    mime: {len(MIME)} bytes" in lines
    assert "    To: Mégan <m@contoso.com>, b@contoso.com" in lines  # RFC 2047 decoded
    assert "    Subject: Café time" in lines
    assert "    Bcc: d@contoso.com" in lines
    assert "    parts: text/plain (5 bytes), application/pdf a.pdf (9 bytes)" in lines
    assert not any("defects" in line for line in lines)


def test_mime_that_is_not_base64_or_not_a_message() -> None:
    assert mime_summary(b"%%% not base64") == {"mime": "not valid base64"}
    assert mime_summary(base64.b64encode(b"\x00\x01 no headers")) == {"mime": "base64, but not an RFC 5322 message"}


def test_error_response() -> None:
    req = HttpRequest("POST", f"{GRAPH}/me/sendMail", TEXT, b"not-base64!")
    resp = error_response(400, "ErrorMimeContentInvalidBase64String", "Invalid base64 string for MIME content.")
    text = describe_exchange(req, resp, 3.0)
    lines = text.splitlines()
    assert lines[0] == "POST /v1.0/me/sendMail -> 400 Bad Request in 3 ms"
    assert "    mime: not valid base64" in lines
    assert lines[-1] == "    error: ErrorMimeContentInvalidBase64String: Invalid base64 string for MIME content."


def test_no_response_and_empty_body() -> None:
    req = HttpRequest("POST", f"{GRAPH}/me/messages/AAMk%3D/send")
    assert describe_exchange(req, None, None) == "POST /v1.0/me/messages/AAMk=/send -> no response"


def test_non_graph_url_shown_whole() -> None:
    assert short_path("https://example.com/a?b=1") == "https://example.com/a?b=1"
    assert short_path(f"{GRAPH}/me/messages?$top=1&$select=id") == "/v1.0/me/messages?$select=id&$top=1"


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        ("application/json", b"{bad", {"json": "malformed"}),
        ("application/json", b"[1,2]", {"json": "list"}),
        ("application/octet-stream", b"\x00" * 10, {"body": "application/octet-stream, 10 bytes"}),
        ("", b"abc", {"body": "no content type, 3 bytes"}),
        ("application/json", b"", {}),
    ],
)
def test_body_summary_other_bodies(content_type: str, body: bytes, expected: dict[str, object]) -> None:
    assert body_summary(content_type, body) == expected


def test_subject_and_recipients_json() -> None:
    req = HttpRequest("POST", f"{GRAPH}/me/messages", JSON, json.dumps(DRAFT).encode())
    assert subject_and_recipients(req) == "\"Did you see last night's game?\" -> AdeleV@contoso.com, AlexW@contoso.com"


def test_subject_and_recipients_mime() -> None:
    req = HttpRequest("POST", f"{GRAPH}/me/sendMail", TEXT, base64.b64encode(MIME))
    assert subject_and_recipients(req) == "'Café time' -> m@contoso.com, b@contoso.com, c@contoso.com, d@contoso.com"


def test_subject_and_recipients_partial_and_empty() -> None:
    only_to = HttpRequest("POST", f"{GRAPH}/me/messages", JSON,
                          b'{"toRecipients":[{"emailAddress":{"address":"a@x.com"}}]}')
    assert subject_and_recipients(only_to) == "-> a@x.com"
    only_subject = HttpRequest("POST", f"{GRAPH}/me/messages", JSON, b'{"subject":"Hi"}')
    assert subject_and_recipients(only_subject) == "'Hi'"
    assert subject_and_recipients(HttpRequest("POST", f"{GRAPH}/me/messages/AAMk%3D/send")) == ""


def test_a_header_the_email_package_cannot_parse_is_shown_as_written() -> None:
    # The standard library's address parser raises AttributeError on this folded group ("undisclosed:; continued"):
    # inspect and listings must still describe the call, showing the header as it was written.
    raw = b"To: a@contoso.com\r\nBcc: undisclosed:;\r\n continued\r\nSubject: hi\r\n\r\nhello\r\n"
    req = HttpRequest("POST", f"{GRAPH}/me/sendMail", TEXT, base64.b64encode(raw))
    assert mime_summary(req.body)["Bcc"] == "undisclosed:; continued"
    assert subject_and_recipients(req) == "'hi' -> a@contoso.com"
    assert "Bcc: undisclosed:; continued" in describe_exchange(req, None, None)
