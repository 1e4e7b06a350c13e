"""Turning the YAML cases of tests/contract/data into HttpRequests (shared by the contract tests)."""

from __future__ import annotations

import base64
import json
import os
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import yaml

from graphtape.model import HttpRequest

DATA = Path(__file__).parent / "data"
GRAPH = "https://graph.microsoft.com"


def load(name: str) -> Any:
    return yaml.safe_load((DATA / name).read_text(encoding="utf-8"))


def big_mime(attachment_bytes: int, *, to: bool = True) -> bytes:
    """A base64 MIME body whose attachment has ``attachment_bytes`` random bytes."""
    msg = EmailMessage()
    msg["From"] = "alexw@contoso.com"
    if to:
        msg["To"] = "megan@contoso.com"
    msg["Subject"] = "big"
    msg.set_content("see attached")
    msg.add_attachment(os.urandom(attachment_bytes), maintype="application", subtype="zip", filename="a.zip")
    return base64.encodebytes(msg.as_bytes())


def big_json(file_bytes: int) -> bytes:
    content = base64.b64encode(os.urandom(file_bytes)).decode()
    body = {"@odata.type": "#microsoft.graph.fileAttachment", "name": "a.zip", "contentBytes": content}
    return json.dumps(body).encode()


GENERATORS = {
    "big-json": lambda: big_json(3_300_000),
    "big-mime": lambda: big_mime(3_300_000),
}


def case_body(case: dict[str, Any]) -> tuple[bytes, str]:
    """(body bytes, default content type) of a case."""
    if "json" in case:
        return json.dumps(case["json"]).encode(), "application/json"
    if "mime" in case:
        raw = case["mime"].encode(case.get("mime_encoding", "utf-8"))
        encoded = base64.b64encode(raw) if case.get("mime_base64_unwrapped") else base64.encodebytes(raw)
        return encoded, "text/plain"
    if "mime_base64" in case:
        return case["mime_base64"].encode(), "text/plain"
    if "generate" in case:
        name = case["generate"]
        return GENERATORS[name](), "text/plain" if "mime" in name else "application/json"
    body = case.get("body", "").encode(case.get("body_encoding", "utf-8"))
    return body, "application/json" if body else ""


def case_request(case: dict[str, Any]) -> HttpRequest:
    body, default_type = case_body(case)
    content_type = case.get("content_type", default_type)
    headers = [("Content-Type", content_type)] if content_type else []
    url = case.get("url") or GRAPH + case["path"]
    return HttpRequest(method=case.get("method", "POST"), url=url, headers=headers, body=body)
