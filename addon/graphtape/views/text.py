"""Graph mail bodies as people read them: a MIME message (its headers, parts and attachments, then the message
itself) and a ``$batch`` item by item. Pure text from bytes, for mitmproxy's contentviews (``views/mitm.py``).

A MIME view is a summary, a separator line (``MESSAGE_LINE``), then the message as decoded text: whatever follows
that line is the message, so an edited view is read back from it (``message_of``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from graphtape.bodies.batch import depends_on, item_body, item_headers, item_id
from graphtape.bodies.kinds import decode_base64_mime, looks_like_rfc5322, media_type, parse_json
from graphtape.bodies.mime import MimePart, header_text, leaf_parts, read_message, summarize_parts
from graphtape.model import header

MESSAGE_LINE = "---- graphtape: the message, decoded (an edit below this line is encoded again when saved) ----"
SUMMARY_HEADERS = ("From", "To", "Cc", "Bcc", "Subject", "Date")
_INDENT = "    "


def text_of(data: bytes) -> tuple[str, str]:
    """Bytes as text and the codec that gives them back (UTF-8, else Latin-1: every byte is one character)."""
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def mime_summary(msg: MimePart, size: int, encoding: str) -> list[str]:
    """The headers people look for, each part (leaf) with its type, name and decoded size, and the defects."""
    lines = [f"MIME message ({encoding}), {size} bytes decoded"]
    for name in SUMMARY_HEADERS:
        value = header_text(msg.headers, name)
        if value is not None:
            lines.append(f"{name}: {value}")
    parts = summarize_parts(msg)
    lines.append(f"parts: {len(parts)}")
    for part, leaf in zip(parts, leaf_parts(msg), strict=True):
        role = "attachment" if leaf.headers.get_content_disposition() == "attachment" or part.filename else "part"
        name = f" {part.filename!r}" if part.filename else ""
        charset = f"; charset={part.charset}" if part.charset else ""
        lines.append(f"  [{part.index}] {role}{name}: {part.content_type}{charset}, {part.size} bytes")
    defects = sorted({type(d).__name__ for p in msg.walk() for d in p.defects})
    if defects:
        lines.append(f"defects: {', '.join(defects)}")
    return lines


def mime_view(decoded: bytes, encoding: str) -> str:
    """The summary, the separator line, then the message as text."""
    summary = mime_summary(read_message(decoded), len(decoded), encoding)
    return "\n".join([*summary, MESSAGE_LINE, text_of(decoded)[0]])


def message_of(view: str, original: bytes) -> bytes:
    """The message an edited view holds (what follows ``MESSAGE_LINE``), in ``original``'s codec and line ends
    (an editor that saved LF where the message had CRLF gets CRLF back). ValueError without the line."""
    at = view.find(MESSAGE_LINE)
    if at < 0:
        raise ValueError(f"graphtape: the line {MESSAGE_LINE!r} is missing from the edited view, so where the "
                         "message starts is unknown; keep that line and edit below it")
    message = view[at + len(MESSAGE_LINE):]
    message = message[2:] if message.startswith("\r\n") else message[1:] if message.startswith("\n") else message
    if b"\r\n" in original:
        message = message.replace("\r\n", "\n").replace("\n", "\r\n")
    return message.encode(text_of(original)[1])


# ---------------------------------------------------------------------------------------------------- $batch


def _json_lines(value: Any, indent: str) -> list[str]:
    return [indent + line for line in json.dumps(value, indent=2, ensure_ascii=False).splitlines()]


def _body_lines(item: dict[str, Any]) -> list[str]:
    """An item's body: JSON indented, a base64 MIME message summarised, other text as it is."""
    if item.get("body") is None:
        return []
    if not isinstance(item["body"], str):
        return [f"{_INDENT}body:", *_json_lines(item["body"], _INDENT * 2)]
    data = item_body(item)
    decoded = decode_base64_mime(data)
    if decoded is not None and looks_like_rfc5322(decoded):
        summary = mime_summary(read_message(decoded), len(decoded), "base64")
        return [f"{_INDENT}body:", *(_INDENT * 2 + line for line in summary)]
    content_type = media_type(header(item_headers(item), "content-type") or "")
    if content_type == "application/json" or not content_type:
        try:
            return [f"{_INDENT}body:", *_json_lines(parse_json(data), _INDENT * 2)]
        except (ValueError, RecursionError):
            pass
    text, _ = text_of(data)
    return [f"{_INDENT}body ({len(data)} bytes):", *(_INDENT * 2 + line for line in text.splitlines())]


def _headers_lines(item: dict[str, Any]) -> list[str]:
    return [f"{_INDENT}{name}: {value}" for name, value in item_headers(item)]


def batch_request_view(items: Sequence[Any]) -> str:
    lines = [f"$batch request: {len(items)} item(s)"]
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            lines.append(f"[{index}] not an item: {json.dumps(item)[:200]}")
            continue
        after = depends_on(item)
        lines.append(f"[{index}] id {item_id(item)}: {item.get('method')} {item.get('url')}"
                     + (f"  (dependsOn {', '.join(after)})" if after else ""))
        lines += _headers_lines(item) + _body_lines(item)
    return "\n".join(lines)


def batch_answer_view(items: Sequence[Any], asked: Sequence[Any] | None = None) -> str:
    """A batch answer's items in the order given, each with the request item it answers (by id) when known."""
    positions = {item_id(a): i for i, a in enumerate(asked or []) if item_id(a) is not None}
    lines = [f"$batch answer: {len(items)} item(s)"]
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            lines.append(f"[{index}] not an item: {json.dumps(item)[:200]}")
            continue
        ident = item_id(item)
        where = positions.get(ident)
        request = asked[where] if asked is not None and where is not None else None
        answers = (f"  (answers request item [{where}] {request.get('method')} {request.get('url')})"
                   if isinstance(request, dict) else "")
        lines.append(f"[{index}] id {ident}: {item.get('status')}{answers}")
        lines += _headers_lines(item) + _body_lines(item)
    return "\n".join(lines)
