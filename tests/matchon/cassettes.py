"""Cassettes for the match_on tests: a JSON draft (with a volatile field the tests ignore), a base64 MIME sendMail
(with a MIME Date, volatile by default) and a read with a Prefer header, built from the model and saved as graphtape
saves them."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from graphtape.cassette.format import new_meta, save_cassette
from graphtape.model import HttpRequest, HttpResponse, Interaction

GRAPH = "https://graph.microsoft.com/v1.0"
JSON = [("Content-Type", "application/json")]
PREFER = 'outlook.body-content-type="text", IdType="ImmutableId"'


def draft(subject: str, trace: str = "t-1") -> bytes:
    """A draft's JSON body; its ``categories`` (``trace``) are what the tests ignore."""
    return json.dumps({"subject": subject, "body": {"contentType": "text", "content": "Hi"},
                       "categories": [trace]}).encode()


def mime(subject: str, date: str = "Mon, 30 Nov 2026 10:00:00 +0000") -> bytes:
    """A sendMail body in base64 MIME, as the Graph docs send it."""
    text = (f"From: alex@contoso.com\r\nTo: megan@contoso.com\r\nSubject: {subject}\r\nDate: {date}\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe report is attached.\r\n")
    return base64.b64encode(text.encode())


def interactions() -> list[Interaction]:
    created = HttpResponse(201, "Created", JSON, json.dumps({"id": "AAMk-draft", "subject": "Report"}).encode())
    read = HttpResponse(200, "OK", JSON, json.dumps({"id": "AAMk-1", "subject": "Report"}).encode())
    return [
        Interaction(HttpRequest("POST", f"{GRAPH}/me/messages", JSON, draft("Report")), created),
        Interaction(HttpRequest("POST", f"{GRAPH}/me/sendMail", [("Content-Type", "text/plain")], mime("Report")),
                    HttpResponse(202, "Accepted", [], b"")),
        Interaction(HttpRequest("GET", f"{GRAPH}/me/messages/AAMk-1", [("Prefer", PREFER)], b""), read),
    ]


def write(path: Path, **meta: Any) -> Path:
    """The three interactions in a cassette at ``path``, with ``meta`` (``match_on=[...]``, ``ignore=[...]``)."""
    save_cassette(path, interactions(), {**new_meta(), **meta})
    return path
