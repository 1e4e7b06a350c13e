"""diff_requests beyond the golden cases: volatile fields, exact user rules, big bodies, formatting."""

from __future__ import annotations

import base64
import json
from email.message import EmailMessage

import pytest
from dev.deviations import format_deviations, shorten

from graphtape.diffing.core import diff_requests
from graphtape.diffing.ignore import DEFAULT_IGNORE, IgnoreRules
from graphtape.model import Deviation, HttpRequest

GRAPH = "https://graph.microsoft.com/v1.0"


def json_request(body: object, *, url: str = f"{GRAPH}/me/sendMail", **headers: str) -> HttpRequest:
    pairs = [("Content-Type", "application/json"), *headers.items()]
    return HttpRequest("POST", url, pairs, json.dumps(body).encode())


def mime_request(
    *,
    subject: str = "Report",
    date: str = "Mon, 01 Jul 2024 09:00:00 +0000",
    message_id: str = "<1@contoso.com>",
    boundary: str = "b1",
    text: str = "See attached.\n",
    attachment: bytes = b"%PDF-1.4 one",
    headers: tuple[tuple[str, str], ...] = (),
) -> HttpRequest:
    msg = EmailMessage()
    msg["From"] = "bob@contoso.com"
    msg["To"] = "alice@contoso.com"
    msg["Subject"] = subject
    msg["Date"] = date
    msg["Message-ID"] = message_id
    msg.set_content(text)
    msg.add_attachment(attachment, maintype="application", subtype="pdf", filename="report.pdf")
    msg.set_boundary(boundary)
    body = base64.encodebytes(msg.as_bytes())
    return HttpRequest("POST", f"{GRAPH}/me/sendMail", [("Content-Type", "text/plain"), *headers], body)


def test_identical_requests_have_no_deviations() -> None:
    assert diff_requests(mime_request(), mime_request()) == []
    assert diff_requests(json_request({"a": 1}), json_request({"a": 1})) == []


def test_volatile_http_headers_are_ignored() -> None:
    recorded = json_request(
        {"Message": {"subject": "Hi"}},
        Authorization="Bearer one",
        **{"client-request-id": "1111", "SdkVersion": "graph-python/1.59.0", "User-Agent": "httpx/0.27"},
    )
    actual = json_request(
        {"Message": {"subject": "Hi"}},
        Authorization="Bearer two",
        **{"client-request-id": "2222", "SdkVersion": "graph-python/1.65.0", "Retry-Attempt": "2"},
    )
    assert diff_requests(recorded, actual) == []


def test_volatile_mime_fields_are_ignored() -> None:
    recorded = mime_request()
    actual = mime_request(date="Tue, 02 Jul 2024 10:00:00 +0200", message_id="<2@contoso.com>", boundary="other")
    assert diff_requests(recorded, actual) == []
    # ... but only by the default rules: without them, Date and Message-ID show.
    paths = [d.path for d in diff_requests(recorded, actual, IgnoreRules())]
    assert paths == ["mime.header.Date", "mime.header.Message-ID"]


def test_a_user_rule_suppresses_exactly_what_it_names() -> None:
    recorded = mime_request(subject="One", text="a\nb\n", attachment=b"x")
    actual = mime_request(subject="Two", text="a\nc\n", attachment=b"y")
    everything = diff_requests(recorded, actual)
    assert [d.path for d in everything] == [
        "mime.header.Subject",
        "mime.part[0].text.line[2]",
        "mime.attachment[report.pdf].sha256",
    ]
    for dev in everything:
        rules = DEFAULT_IGNORE.merge(IgnoreRules.parse([dev.path]))
        assert diff_requests(recorded, actual, rules) == [d for d in everything if d != dev]


def test_a_user_rule_can_silence_a_whole_area() -> None:
    recorded = json_request({"a": 1, "b": [1, 2]}, Prefer="x")
    actual = json_request({"a": 2, "b": [1, 3]}, Prefer="y")
    rules = DEFAULT_IGNORE.merge(IgnoreRules.parse(["body", "header.*"]))
    assert diff_requests(recorded, actual, rules) == []


def test_big_json_strings_are_compared_by_hash() -> None:
    content = base64.b64encode(bytes(range(256)) * 4000).decode()
    changed = content[:-8] + "AAAAAAA="
    recorded = json_request({"name": "a.bin", "contentBytes": content}, url=f"{GRAPH}/me/messages/1/attachments")
    actual = json_request({"name": "a.bin", "contentBytes": changed}, url=f"{GRAPH}/me/messages/1/attachments")
    (dev,) = diff_requests(recorded, actual)
    assert dev.path == "body.contentBytes" and dev.kind == "changed"
    assert dev.recorded.startswith(f"<{len(content)} chars, sha256 ")
    assert dev.recorded != dev.actual


def test_big_mime_attachment_change_is_found() -> None:
    blob = bytes(range(256)) * 2000
    recorded = mime_request(attachment=blob)
    actual = mime_request(attachment=blob[:-1] + b"\x00")
    assert [d.path for d in diff_requests(recorded, actual)] == ["mime.attachment[report.pdf].sha256"]


def test_many_differing_lines_are_counted_not_listed() -> None:
    recorded = mime_request(text="".join(f"line {i}\n" for i in range(40)))
    actual = mime_request(text="".join(f"LINE {i}\n" for i in range(40)))
    devs = diff_requests(recorded, actual)
    assert len(devs) == 11
    assert devs[-1] == Deviation("mime.part[0].text", "changed", "<41 lines>", "<41 lines; 30 more differences>")


def test_json_with_a_bad_body_is_compared_as_text() -> None:
    recorded = HttpRequest("POST", f"{GRAPH}/me/messages", [("Content-Type", "application/json")], b'{"a": 1')
    actual = HttpRequest("POST", f"{GRAPH}/me/messages", [("Content-Type", "application/json")], b'{"a": 2')
    assert format_deviations(diff_requests(recorded, actual)) == "body.text: '{\"a\": 1' -> '{\"a\": 2'"


def test_empty_and_missing_bodies() -> None:
    send = HttpRequest("POST", f"{GRAPH}/me/messages/1/send", [("Content-Length", "0")])
    with_body = json_request({"comment": "hi"}, url=f"{GRAPH}/me/messages/1/send")
    assert format_deviations(diff_requests(send, with_body)) == (
        "header.Content-Type: added 'application/json'\nbody: added {'comment': 'hi'}"
    )
    assert [d.kind for d in diff_requests(with_body, send)] == ["removed", "removed"]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("short", "'short'"),
        ([1, 2], "[1, 2]"),
    ],
)
def test_short_values_are_shown_whole(value: object, shown: str) -> None:
    assert repr(shorten(value)) == shown


def test_long_values_are_shortened_showing_both_ends() -> None:
    value = "a" * 300 + "END"
    shown = repr(shorten(value))
    assert len(shown) < 140 and shown.startswith("'aaa") and shown.endswith("aaEND' (305 chars)")
    line = format_deviations([Deviation("body.x", "changed", value, "b")])
    assert line.startswith("body.x: 'aaa") and line.endswith("(305 chars) -> 'b'")
