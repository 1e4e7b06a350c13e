"""Building $batch requests for the tests: items as the SDK sends them (uuid ids), MIME as base64 text."""

from __future__ import annotations

import base64
import json
from typing import Any

from graphtape.model import HttpRequest

BATCH_URL = "https://graph.microsoft.com/v1.0/$batch"
JSON_TYPE = [("Content-Type", "application/json")]


def mime(subject: str = "Batch MIME", to: str = "megan@contoso.com",
         date: str = "Mon, 1 Dec 2026 10:00:00 +0000") -> str:
    message = (f"From: Alex <alex@contoso.com>\r\nTo: Megan <{to}>\r\nSubject: {subject}\r\nDate: {date}\r\n"
               "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello from a batch.\r\n")
    return base64.b64encode(message.encode()).decode()


def draft(ident: str, subject: str = "Draft", **extra: Any) -> dict[str, Any]:
    return {"id": ident, "method": "POST", "url": "/me/messages", "headers": {"Content-Type": "application/json"},
            "body": {"subject": subject, "toRecipients": [{"emailAddress": {"address": "megan@contoso.com"}}],
                     **extra}}


def send(ident: str, after: str | None = None, message_id: str = "AAMkAGRWAAAFSmKXAAA=") -> dict[str, Any]:
    item: dict[str, Any] = {"id": ident, "method": "POST", "url": f"/me/messages/{message_id}/send",
                            "headers": {"Content-Type": "application/json"}, "body": {}}
    if after is not None:
        item["dependsOn"] = [after]
    return item


def send_mime(ident: str, body: str | None = None, **kwargs: str) -> dict[str, Any]:
    return {"id": ident, "method": "POST", "url": "/me/sendMail", "headers": {"Content-Type": "text/plain"},
            "body": mime(**kwargs) if body is None else body}


def batch_request(*items: dict[str, Any], url: str = BATCH_URL) -> HttpRequest:
    return HttpRequest("POST", url, JSON_TYPE, json.dumps({"requests": list(items)}).encode())
