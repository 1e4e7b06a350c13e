"""Reading RFC 5322 / MIME messages with the standard ``email`` package.

Shared by the contract checks, the differ and inspect: one place that turns the bytes inside a
base64 MIME body into headers and parts.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage
from typing import Any

RECIPIENT_HEADERS: tuple[str, ...] = ("To", "Cc", "Bcc")


MAX_CACHED_HEADER = 512  # characters: longer header values are parsed on every read, never kept
HEADER_CACHE_CHARS = 32_768  # characters of header values kept parsed (a parsed value takes ~200-400 bytes a character)


class _HeaderFactory(HeaderRegistry):
    """The ``email`` package's header factory, minus the two costs of every header read.

    Reading a header parses it anew each time (``get_content_type`` alone reads Content-Type several
    times), and ``HeaderRegistry`` builds a new class for each parse (``type(...)``, ~12 µs). Here the
    class per header name is built once, and the most recently read header values are kept parsed
    (the same name and value give an equal header object, which nothing mutates): a small MIME body's
    To, From and Content-Type cost ~400 µs to parse, and a client sends the same ones again and again.
    What is kept is bounded by characters, not entries: parse trees are big (~700 KB for a 1,800-character
    address list).
    """

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, Any] = {}
        self._parsed: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()

    def __getitem__(self, name: str) -> Any:
        lname = name.lower()
        cls = self._classes.get(lname)
        if cls is None:
            cls = self._classes[lname] = super().__getitem__(name)
        return cls

    def __call__(self, name: str, value: str) -> Any:
        if len(value) > MAX_CACHED_HEADER:
            return self[name](name, value)
        key = (name, value)
        with self._lock:
            header = self._parsed.get(key)
            if header is not None:
                self._parsed.move_to_end(key)
                return header
        header = self[name](name, value)
        with self._lock:
            if key not in self._parsed:
                self._parsed[key] = header
                self._chars += len(name) + len(value)
                while self._chars > HEADER_CACHE_CHARS:
                    (old_name, old_value), _ = self._parsed.popitem(last=False)
                    self._chars -= len(old_name) + len(old_value)
        return header


# ``email.policy.default`` with that factory; one instance serves every message (policies are immutable).
HEADER_FACTORY = _HeaderFactory()
POLICY = email.policy.default.clone(header_factory=HEADER_FACTORY)


def parse_message(data: bytes) -> EmailMessage:
    """Parse a message; never raises on malformed input (problems land in ``msg.defects``)."""
    msg = email.message_from_bytes(data, policy=POLICY)
    assert isinstance(msg, EmailMessage)
    return msg


@dataclass(frozen=True)
class PartSummary:
    index: int
    content_type: str
    filename: str | None
    size: int  # decoded bytes
    sha256: str  # of the decoded content
    charset: str | None


def part_payload(part: EmailMessage) -> bytes:
    """The decoded content of a leaf part (transfer encoding undone), b"" if it cannot be decoded."""
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def leaf_parts(msg: EmailMessage) -> list[EmailMessage]:
    return [p for p in msg.walk() if not p.is_multipart() and isinstance(p, EmailMessage)]


def summarize_parts(msg: EmailMessage) -> list[PartSummary]:
    out = []
    for i, part in enumerate(leaf_parts(msg)):
        data = part_payload(part)
        out.append(
            PartSummary(
                index=i,
                content_type=part.get_content_type(),
                filename=part.get_filename(),
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                charset=part.get_content_charset(),
            )
        )
    return out


def recipients(msg: EmailMessage) -> list[str]:
    """Addresses in To, Cc and Bcc, in that order."""
    found: list[str] = []
    for name in RECIPIENT_HEADERS:
        for value in msg.get_all(name, []) or []:
            addresses = getattr(value, "addresses", ())
            found.extend(a.addr_spec for a in addresses if a.addr_spec)
    return found
