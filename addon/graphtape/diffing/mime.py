"""How the differ reads an RFC 5322 / MIME message: what it says, not how it was encoded.

Paths (the prefix is ``mime`` for requests, ``response.mime`` for responses):

- ``mime.header.Subject``: top-level headers, names case-insensitive (shown as the recorded side
  spells them), folded values unfolded and RFC 2047 words decoded; address headers (To, Cc, From,
  ...) as a list of ``Name <address>``, diffed by address (``mime.header.To[address=carol@contoso.com]:
  added 'Carol <carol@contoso.com>'``; the same addresses in another order are no deviation:
  ``diffing.keyed``); ``Content-Type`` without its ``boundary`` parameter.
  A header that appears more than once is a list. Content-Transfer-Encoding is not compared.
- ``mime.part[0].type``, ``mime.part[0].text`` (or ``.text.line[N]``), ``.size``, ``.sha256``:
  the body parts (leaf parts that are not attachments) counted from 0 in message order; text parts
  are compared as decoded text (transfer encoding undone, charset applied, CRLF as LF), other parts
  by size and sha256 of the decoded content.
- ``mime.attachment[report.pdf].type``, ``.size``, ``.sha256``: leaf parts with a filename or
  ``Content-Disposition: attachment``, keyed by filename (``[report.pdf (2)]`` for a second file of
  that name, ``[#3]`` for the unnamed leaf part 3).
- A part or attachment only one side has is one ``added``/``removed`` deviation with a summary.
- A ``message/rfc822`` part (a forwarded message) is one part, compared by its content.

The message is read by ``bodies.mime`` (a request's once, for the contract check, matching and this).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from graphtape.bodies.mime import MimePart, read_message
from graphtape.diffing.keyed import diff_addresses, is_address_header
from graphtape.diffing.text import diff_text, sha256_short
from graphtape.model import Deviation

MAX_LEAVES = 500  # leaf parts compared; the rest of a hostile message is ignored

_NOT_COMPARED = frozenset({"content-transfer-encoding"})
_FACET_ORDER = ("type", "text", "size", "sha256")


class Leaf:
    """A leaf part: its headers, and its body as sent; the decoded content is read only when needed."""

    def __init__(self, part: MimePart) -> None:
        entity = part.headers
        self.part = part
        self.raw = part.body
        self.content_type = entity.get_content_type()
        self.encoding = str(entity.get("content-transfer-encoding", "")).strip().lower()
        self.charset = entity.get_content_charset()
        self.filename = entity.get_filename()
        self.is_attachment = bool(self.filename) or entity.get_content_disposition() == "attachment"

    def same_as(self, other: Leaf) -> bool:
        """True if both are sure to have the same facets (same bytes, same way of reading them)."""
        return (self.raw, self.content_type, self.encoding, self.charset) == (
            other.raw,
            other.content_type,
            other.encoding,
            other.charset,
        )

    @functools.cached_property
    def facets(self) -> dict[str, Any]:
        """type and text (text parts), or type, size and sha256."""
        data = self.part.decoded()
        if self.content_type.startswith("text/"):
            return {"type": self.content_type, "text": _text(self.charset, data)}
        return {"type": self.content_type, "size": len(data), "sha256": sha256_short(data)}


@dataclass(frozen=True)
class MimeView:
    """The comparable content of a message."""

    headers: dict[str, tuple[str, Any]]  # lower-case name -> (name as spelled, value)
    parts: list[Leaf]  # body parts, in message order
    attachments: dict[str, Leaf]  # by filename


def read_mime(data: bytes) -> MimeView | None:
    """The view of a message, or None if it cannot be read at all."""
    return mime_view(read_message(data))


def mime_view(message: MimePart) -> MimeView | None:
    """The view of a message already read (a request's ``mime_message``), or None if it cannot be compared."""
    try:
        leaves = [Leaf(part) for _, part in zip(range(MAX_LEAVES), _leaves(message), strict=False)]
        return MimeView(headers=_headers(message.headers), parts=_body_parts(leaves), attachments=_attachments(leaves))
    except Exception:  # the email package on hostile input; the caller compares bytes instead
        return None


def _leaves(part: MimePart) -> Iterator[MimePart]:
    """The leaf parts in message order; a ``message/*`` part is one leaf (its content compared whole)."""
    if part.children is None or part.headers.get_content_maintype() == "message":
        yield part
        return
    for child in part.children:
        yield from _leaves(child)


def _content_type(value: Any) -> str:
    ctype = str(getattr(value, "content_type", "") or str(value).split(";", 1)[0]).strip().lower()
    params = getattr(value, "params", {}) or {}
    kept = sorted(
        (str(k).lower(), str(v).lower() if str(k).lower() == "charset" else str(v))
        for k, v in params.items()
        if str(k).lower() != "boundary"
    )
    return "; ".join([ctype, *(f"{k}={v}" for k, v in kept)])


def _header_value(lname: str, value: Any) -> Any:
    addresses = getattr(value, "addresses", None)
    if addresses is not None:
        return [str(a) for a in addresses]
    if lname == "content-type":
        return _content_type(value)
    return " ".join(str(value).split())


def _headers(entity: EmailMessage) -> dict[str, tuple[str, Any]]:
    found: dict[str, tuple[str, list[Any]]] = {}
    for name, raw in entity.raw_items():
        lname = name.lower()
        if lname in _NOT_COMPARED:
            continue
        try:
            value = _header_value(lname, entity.policy.header_fetch_parse(name, raw))
        except Exception:  # a header the email policy cannot parse: compare what was written
            value = " ".join(str(raw).split())
        found.setdefault(lname, (name, []))[1].append(value)
    return {k: (name, values[0] if len(values) == 1 else values) for k, (name, values) in found.items()}


def _text(charset: str | None, data: bytes) -> str:
    try:
        text = data.decode(charset or "us-ascii", "replace")
    except LookupError:  # an unknown charset
        text = data.decode("utf-8", "replace")
    return text.replace("\r\n", "\n")


def _body_parts(leaves: list[Leaf]) -> list[Leaf]:
    return [leaf for leaf in leaves if not leaf.is_attachment]


def _attachments(leaves: list[Leaf]) -> dict[str, Leaf]:
    out: dict[str, Leaf] = {}
    for index, leaf in enumerate(leaves):
        if not leaf.is_attachment:
            continue
        name = leaf.filename or f"#{index}"
        key, n = name, 1
        while key in out:
            n += 1
            key = f"{name} ({n})"
        out[key] = leaf
    return out


def _summary(facets: dict[str, Any]) -> str:
    if "text" in facets:
        return f"<{facets['type']}, {len(facets['text'])} chars>"
    return f"<{facets['type']}, {facets['size']} bytes, sha256 {facets['sha256']}>"


def _diff_leaves(path: str, a_leaf: Leaf | None, b_leaf: Leaf | None) -> list[Deviation]:
    if a_leaf is None or b_leaf is None:
        if a_leaf is not None:
            return [Deviation(path, "removed", _summary(a_leaf.facets), None)]
        return [] if b_leaf is None else [Deviation(path, "added", None, _summary(b_leaf.facets))]
    if a_leaf.same_as(b_leaf):
        return []
    a, b = a_leaf.facets, b_leaf.facets
    out: list[Deviation] = []
    for facet in _FACET_ORDER:
        if facet not in a and facet not in b:
            continue
        if facet == "text" and facet in a and facet in b:
            out.extend(diff_text(f"{path}.text", a["text"], b["text"]))
        elif facet not in a:
            out.append(Deviation(f"{path}.{facet}", "added", None, b[facet]))
        elif facet not in b:
            out.append(Deviation(f"{path}.{facet}", "removed", a[facet], None))
        elif a[facet] != b[facet]:
            out.append(Deviation(f"{path}.{facet}", "changed", a[facet], b[facet]))
    return out


def _diff_header(path: str, lname: str, recorded: Any, actual: Any) -> list[Deviation]:
    """A header both sides have, with different values: an address list by address, anything else whole."""
    if isinstance(recorded, list) and isinstance(actual, list) and is_address_header(lname) and all(
            isinstance(v, str) for v in [*recorded, *actual]):
        found = diff_addresses(path, recorded, actual)
        if found is not None:
            return found
    return [Deviation(path, "changed", recorded, actual)]


def diff_mime(prefix: str, recorded: MimeView, actual: MimeView) -> list[Deviation]:
    """Deviations between two messages: headers, then body parts, then attachments."""
    out: list[Deviation] = []
    for lname in [*recorded.headers, *(k for k in actual.headers if k not in recorded.headers)]:
        a, b = recorded.headers.get(lname), actual.headers.get(lname)
        path = f"{prefix}.header.{(a or b or (lname, None))[0]}"
        if a is None and b is not None:
            out.append(Deviation(path, "added", None, b[1]))
        elif b is None and a is not None:
            out.append(Deviation(path, "removed", a[1], None))
        elif a is not None and b is not None and a[1] != b[1]:
            out.extend(_diff_header(path, lname, a[1], b[1]))
    for i in range(max(len(recorded.parts), len(actual.parts))):
        a_part = recorded.parts[i] if i < len(recorded.parts) else None
        b_part = actual.parts[i] if i < len(actual.parts) else None
        out.extend(_diff_leaves(f"{prefix}.part[{i}]", a_part, b_part))
    names = [*recorded.attachments, *(k for k in actual.attachments if k not in recorded.attachments)]
    for name in names:
        out.extend(
            _diff_leaves(f"{prefix}.attachment[{name}]", recorded.attachments.get(name), actual.attachments.get(name))
        )
    return out
