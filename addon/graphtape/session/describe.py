"""Readable one-screen descriptions of Graph mail calls, for inspect, logs and ``graphtape show``."""

from __future__ import annotations

import json
from typing import Any

from graphtape.bodies.kinds import (
    JsonBody,
    is_json_type,
    is_mime_upload_type,
    parse_json_body,
)
from graphtape.bodies.mime import header_text, recipients, summarize_parts
from graphtape.graph import parse_graph_url
from graphtape.model import HttpRequest, HttpResponse
from graphtape.privacy.output import scrub_text
from graphtape.privacy.redaction import Redactor

_KEY_FIELDS = ("subject", "importance", "isDraft", "saveToSentItems", "comment", "id", "name", "size")


_REDACTOR = Redactor()


def short_path(url: str) -> str:
    """A URL for people to read (logs, listings, messages): Graph's part of it, token-bearing parameters redacted."""
    url = _REDACTOR.url(url)
    parsed = parse_graph_url(url)
    if parsed is None:
        return url
    return parsed.key()


def _addresses(value: Any) -> list[str]:
    out = []
    if isinstance(value, list):
        for r in value:
            if isinstance(r, dict):
                ea = r.get("emailAddress") or r.get("EmailAddress") or {}
                if isinstance(ea, dict) and ea.get("address"):
                    out.append(str(ea["address"]))
    return out


def _message_of(doc: dict[str, Any]) -> dict[str, Any]:
    for key in ("message", "Message"):
        if isinstance(doc.get(key), dict):
            inner: dict[str, Any] = doc[key]
            return inner
    return doc


def json_summary(body: bytes) -> dict[str, Any]:
    """Key fields of a JSON mail body: subject, recipients, attachments, flags."""
    return _json_summary(parse_json_body(body))


def _json_summary(parsed: JsonBody) -> dict[str, Any]:
    if not parsed.ok:
        return {"json": "malformed"}
    doc = parsed.value
    if not isinstance(doc, dict):
        return {"json": type(doc).__name__}
    msg = _message_of(doc)
    out: dict[str, Any] = {}
    for key in _KEY_FIELDS:
        for k in (key, key[0].upper() + key[1:]):
            if k in doc and not isinstance(doc[k], (dict, list)):
                out[key] = doc[k]
            elif k in msg and not isinstance(msg[k], (dict, list)):
                out[key] = msg[k]
    for field in ("toRecipients", "ccRecipients", "bccRecipients"):
        addrs = _addresses(msg.get(field)) or _addresses(doc.get(field[0].upper() + field[1:]))
        if addrs:
            out[field.replace("Recipients", "")] = addrs
    attachments = msg.get("attachments")
    if isinstance(attachments, list) and attachments:
        out["attachments"] = [a.get("name", "?") for a in attachments if isinstance(a, dict)]
    body_part = msg.get("body")
    if isinstance(body_part, dict) and "content" in body_part:
        out["body"] = f"{body_part.get('contentType', '?')}, {len(str(body_part['content']))} chars"
    return out


def mime_summary(body: bytes) -> dict[str, Any]:
    return _mime_summary(HttpRequest("POST", "", [], body))


def _mime_summary(req: HttpRequest) -> dict[str, Any]:
    decoded, msg = req.mime_bytes, req.mime_message
    if decoded is None:
        return {"mime": "not valid base64"}
    if msg is None:
        return {"mime": "base64, but not an RFC 5322 message"}
    out: dict[str, Any] = {"mime": f"{len(decoded)} bytes"}
    for name in ("From", "To", "Cc", "Bcc", "Subject"):
        value = header_text(msg.headers, name)
        if value is not None:
            out[name] = value
    out["parts"] = [
        f"{p.content_type}" + (f" {p.filename}" if p.filename else "") + f" ({p.size} bytes)"
        for p in summarize_parts(msg)
    ]
    if msg.defects:
        out["defects"] = [type(d).__name__ for d in msg.defects]
    return out


def body_summary(content_type: str, body: bytes) -> dict[str, Any]:
    return request_summary(HttpRequest("POST", "", [("Content-Type", content_type)], body))


def request_summary(req: HttpRequest) -> dict[str, Any]:
    """Key facts of a request's body, read from its parsed view (the JSON and base64 the checks parsed)."""
    if not req.body:
        return {}
    if is_json_type(req.content_type):
        return _json_summary(req.json)
    if is_mime_upload_type(req.content_type):
        return _mime_summary(req)
    return {"body": f"{req.content_type or 'no content type'}, {len(req.body)} bytes"}


def subject_and_recipients(req: HttpRequest) -> str:
    """``'Subject' -> a@x, b@y`` for one-line listings (empty when the body carries neither)."""
    info = request_summary(req)
    subject = info.get("subject") or info.get("Subject")
    rcpts: list[str] = []
    for k in ("to", "cc", "bcc"):
        rcpts.extend(info.get(k, []))
    if "mime" in info and req.body:
        msg = req.mime_message
        if msg is not None:
            rcpts = recipients(msg.headers)
    text = f"{subject!r}" if subject else ""
    if rcpts:
        text += (" -> " if text else "-> ") + ", ".join(rcpts)
    return text


def describe_exchange(req: HttpRequest, resp: HttpResponse | None, duration_ms: float | None) -> str:
    """A block for inspect: the call, its status and time, then the decoded body's key facts (scrubbed: a
    Graph error message or a subject can quote a token)."""
    return scrub_text(_describe_exchange(req, resp, duration_ms))


def _describe_exchange(req: HttpRequest, resp: HttpResponse | None, duration_ms: float | None) -> str:
    status = f"{resp.status} {resp.reason}".strip() if resp is not None else "no response"
    took = f" in {duration_ms:.0f} ms" if duration_ms is not None else ""
    lines = [f"{req.method} {short_path(req.url)} -> {status}{took}"]
    for key, value in request_summary(req).items():
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        lines.append(f"    {key}: {value}")
    if resp is not None and resp.body and is_json_type(resp.content_type):
        info = json_summary(resp.body)
        err = _error_code(resp.body)
        if err:
            lines.append(f"    error: {err}")
        elif "id" in info:
            lines.append(f"    response id: {info['id']}")
    return "\n".join(lines)


def _error_code(body: bytes) -> str:
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        return ""
    if isinstance(doc, dict) and isinstance(doc.get("error"), dict):
        e = doc["error"]
        return f"{e.get('code', '?')}: {e.get('message', '')}"
    return ""
