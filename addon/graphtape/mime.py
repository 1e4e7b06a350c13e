"""Reading RFC 5322 / MIME messages with the standard ``email`` package.

Shared by the contract checks, the differ and inspect: one place that turns the bytes inside a
base64 MIME body into headers and parts.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

RECIPIENT_HEADERS: tuple[str, ...] = ("To", "Cc", "Bcc")


class _ParseOncePolicy(email.policy.EmailPolicy):
    """``email.policy.default``, but each header is parsed once per message instead of on every read.

    The email package parses a header again each time it is read (``get_content_type`` alone reads
    Content-Type several times): that was ~80% of checking a small MIME body. One instance per message.
    """

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        object.__setattr__(self, "_parsed", {})  # policies are frozen; this cache is not a setting

    def header_fetch_parse(self, name: str, value: str) -> Any:
        parsed: dict[tuple[str, str], Any] = self._parsed  # type: ignore[attr-defined]
        key = (name, value)
        if key not in parsed:
            parsed[key] = super().header_fetch_parse(name, value)
        return parsed[key]


def parse_message(data: bytes) -> EmailMessage:
    """Parse a message; never raises on malformed input (problems land in ``msg.defects``)."""
    msg = email.message_from_bytes(data, policy=_ParseOncePolicy())
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
