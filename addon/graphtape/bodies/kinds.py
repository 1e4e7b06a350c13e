"""Recognising and decoding the kinds of body Graph mail traffic carries: JSON, base64 MIME, text."""

from __future__ import annotations

import binascii
import json
import re
from dataclasses import dataclass
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


def decode_base64_mime(body: bytes) -> bytes | None:
    """Strictly decode a base64 MIME body (line wrapping allowed); None if it is not valid base64.

    Done in C (``binascii`` strict mode). A request's body is decoded once, by its parsed view
    (``HttpRequest.mime_bytes``): matching, validation and diffing all read that.
    """
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


JsonPath = tuple[str | int, ...]


@dataclass(frozen=True)
class JsonBody:
    """A body parsed as JSON once: its value, the keys given twice in one object, or why it did not parse."""

    value: Any = None
    repeated: tuple[tuple[JsonPath, str], ...] = ()  # (path of the object, key given more than once)
    error: ValueError | RecursionError | None = None  # set: the body is not JSON (value is None)

    @property
    def ok(self) -> bool:
        return self.error is None


def parse_json_body(body: bytes) -> JsonBody:
    """Parse a JSON body the one way every reader needs it; never raises.

    Values are Python's json's (plain dicts and lists; of a key given twice, the last wins); the
    keys given twice are found too, so that the contract can refuse them as OData does
    (DuplicatePropertyNamesNotAllowed). Only a body with such a key is walked again to name where.
    """
    twice: dict[int, tuple[dict[str, Any], list[str]]] = {}  # the object is kept: its id is not reused

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(items)
        if len(obj) != len(items):
            seen: set[str] = set()
            keys: list[str] = []
            twice[id(obj)] = (obj, keys)
            for key, _ in items:
                if key in seen and key not in keys:
                    keys.append(key)
                seen.add(key)
        return obj

    try:
        value = json.loads(body.decode("utf-8-sig"), object_pairs_hook=pairs)
    except (ValueError, RecursionError) as exc:
        return JsonBody(error=exc)
    return JsonBody(value, _repeated_paths(value, twice) if twice else ())


def _repeated_paths(value: Any, twice: dict[int, tuple[dict[str, Any], list[str]]]) -> tuple[tuple[JsonPath, str], ...]:
    out: list[tuple[JsonPath, str]] = []
    todo: list[tuple[JsonPath, Any]] = [((), value)]
    while todo:  # iterative: a deeply nested body must not exhaust the stack here
        path, node = todo.pop()
        if isinstance(node, dict):
            obj, keys = twice.get(id(node), (None, []))
            if obj is node:
                out += [(path, key) for key in keys]
            todo += [((*path, k), v) for k, v in reversed(node.items())]
        elif isinstance(node, list):
            todo += [((*path, i), v) for i, v in reversed(list(enumerate(node)))]
    return tuple(out)

