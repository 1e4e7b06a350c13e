"""Requests for the simulator's unit tests: plain ``HttpRequest``s, and ones the official msgraph-sdk serialises
(its request builders' ``to_*_request_information``, the bytes and headers it would put on the wire)."""

from __future__ import annotations

import base64
import datetime
import json
from typing import Any

from graphtape.model import HttpRequest, HttpResponse
from graphtape.simulate import Simulator
from graphtape.simulate.fixture import SeedData, SeedMailbox, mailbox_id

GRAPH = "https://graph.microsoft.com/v1.0"
CLOCK = datetime.datetime(2026, 3, 1, 9, 0, tzinfo=datetime.UTC)
JSON = [("Content-Type", "application/json")]
ADELE, MEGAN = "AdeleV@contoso.com", "MeganB@contoso.com"


def two_mailboxes() -> SeedData:
    """Adele (/me) and Megan, each with Graph's well-known folders."""
    return SeedData((SeedMailbox(mailbox_id(ADELE), ADELE, "Adele Vance"),
                     SeedMailbox(mailbox_id(MEGAN), MEGAN, "Megan Bowen")), ADELE)


def sim(**kwargs: Any) -> Simulator:
    return Simulator(**{"seed": two_mailboxes(), "clock": CLOCK, **kwargs})


def call(s: Simulator, method: str, path: str, body: Any = None, headers: list[tuple[str, str]] | None = None,
         version: str = "v1.0") -> HttpResponse:
    """``body``: a dict (sent as JSON), bytes (as they are), or None."""
    raw = json.dumps(body).encode() if isinstance(body, dict) else (body or b"")
    given = list(headers or (JSON if isinstance(body, dict) else []))
    return s.answer(HttpRequest(method, f"https://graph.microsoft.com/{version}{path}", given, raw))


def doc(resp: HttpResponse) -> Any:
    return json.loads(resp.body)


def draft(s: Simulator, subject: str = "Report", to: str = MEGAN, **more: Any) -> dict[str, Any]:
    headers = more.pop("headers", None)
    resp = call(s, "POST", "/me/messages", {"subject": subject, "toRecipients": [{"emailAddress": {"address": to}}],
                                           **more}, headers=headers)
    assert resp.status == 201, resp.body
    return dict(doc(resp))


def mime(subject: str = "MIME report", attachment: bytes | None = None) -> bytes:
    """Base64 of an RFC 5322 message from Adele to Megan (Cc Alex, Bcc Dana), optionally with a file."""
    lines = ["From: Adele Vance <AdeleV@contoso.com>", "To: Megan Bowen <MeganB@contoso.com>",
             "Cc: Alex Wilber <AlexW@contoso.com>", "Bcc: dana@contoso.com", f"Subject: {subject}",
             "Date: Sun, 28 Feb 2021 07:15:00 +0000", "Message-ID: <report-1@contoso.com>", "MIME-Version: 1.0"]
    if attachment is None:
        text = "\r\n".join([*lines, "Content-Type: text/plain; charset=utf-8", "", "Hi Megan, the figures.", ""])
    else:
        text = "\r\n".join([*lines, 'Content-Type: multipart/mixed; boundary="b1"', "", "--b1",
                            "Content-Type: text/plain; charset=utf-8", "", "See attached.", "--b1",
                            'Content-Type: application/pdf; name="q.pdf"',
                            'Content-Disposition: attachment; filename="q.pdf"', "Content-Transfer-Encoding: base64",
                            "", base64.b64encode(attachment).decode(), "--b1--", ""])
    return base64.b64encode(text.encode())


def sdk_client() -> Any:
    from dev.scenario import make_client

    return make_client(base_url=GRAPH)


def from_sdk(info: Any) -> HttpRequest:
    """The request msgraph-sdk would send for a ``RequestInformation`` (its URL, headers and serialised body)."""
    info.path_parameters["baseurl"] = GRAPH
    headers = [(name, value if isinstance(value, str) else ", ".join(sorted(value)))
               for name, value in info.request_headers.items()]
    url = info.url.replace("/users/me-token-to-replace", "/me")  # as the SDK's UrlReplaceHandler sends it
    return HttpRequest(info.http_method.value, url, headers, info.content or b"")
