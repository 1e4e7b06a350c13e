"""Recognising and decoding the kinds of body Graph mail traffic carries: JSON, base64 MIME, text."""

from __future__ import annotations

import binascii
import json
import re
from typing import Any


def media_type(content_type: str) -> str:
    """``"application/json; charset=utf-8"`` -> ``"application/json"``."""
    return content_type.split(";", 1)[0].strip().lower()


def is_json_type(content_type: str) -> bool:
    mt = media_type(content_type)
    return mt == "application/json" or mt.endswith("+json")


def is_mime_upload_type(content_type: str) -> bool:
    """Graph takes base64 MIME as ``text/plain`` (the documented type)."""
    return media_type(content_type) == "text/plain"


_RECENT = 2  # bodies whose decoding is kept: one request is validated, matched and diffed in turn
_recent_decoded: tuple[tuple[bytes, bytes | None], ...] = ()


def decode_base64_mime(body: bytes) -> bytes | None:
    """Strictly decode a base64 MIME body (line wrapping allowed); None if it is not valid base64.

    Done in C (``binascii`` strict mode): a 4 MB body decodes in ~20 ms, where a regex check took ~90 ms.
    The last bodies decoded are remembered by identity (the very same bytes object): replay decodes
    a request's body to check it, to match it and to diff it, and a 4 MB one costs ~17 ms each time.
    """
    global _recent_decoded
    recent = _recent_decoded
    for seen, decoded in recent:
        if seen is body:
            return decoded
    decoded = _decode_base64_mime(body)
    _recent_decoded = ((body, decoded), *recent[: _RECENT - 1])  # one assignment: safe across threads
    return decoded


def _decode_base64_mime(body: bytes) -> bytes | None:
    compact = body.translate(None, b"\r\n\t ")
    if not compact or len(compact) % 4:
        return None
    try:
        return binascii.a2b_base64(compact, strict_mode=True)
    except (binascii.Error, ValueError):
        return None


def looks_like_rfc5322(data: bytes) -> bool:
    """A cheap test that decoded bytes start with a header block (``Name: value``)."""
    head = data[:1000].lstrip(b"\r\n")
    first = head.split(b"\n", 1)[0]
    return bool(re.match(rb"^[!-9;-~]+:", first))


def parse_json(body: bytes) -> Any:
    """Parse a JSON body; raises ValueError with the position on bad input."""
    return json.loads(body.decode("utf-8-sig"))

