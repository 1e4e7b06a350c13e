"""Reading RFC 5322 / MIME messages: the one reader the contract checks, the differ and the descriptions share.

The standard ``email`` package parses every header block (with ``POLICY`` below); the bodies are split
into parts by ``mimesplit``, by the feed parser's own rules, so that a big base64 attachment is never walked
line by line and its content is read only by whoever asks for it. ``read_message`` gives the parts
``email.message_from_bytes(data, policy=email.policy.default).walk()`` gives, with the same headers, contents
and defects (``tests/unit/test_mime_reader.py`` holds them side by side); a request reads its MIME body once
(``HttpRequest.mime_message``). Where it departs from ``email``, on purpose: a Content-Transfer-Encoding with
spaces around it still decodes; a ``message/delivery-status`` part is one leaf (email splits it into header
blocks); nesting stops at ``MAX_DEPTH`` and a hostile message's parts past ``MAX_PARTS`` are not read.
"""

from __future__ import annotations

import binascii
import email
import email.parser
import email.policy
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import errors
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage
from typing import Any

from graphtape.bodies import mimesplit
from graphtape.bodies.mimeheaders import HeaderBlock, plain_block

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


MAX_DEPTH = 32  # nested entities followed; a deeper one is read as one leaf
MAX_PARTS = 2_000  # entities read; the rest of a hostile message is not split
_EMAIL_DECODES = ("quoted-printable", "x-uuencode", "uuencode", "uue", "x-uue")  # what get_payload(decode=True) undoes


def parse_headers(block: bytes, default_type: str = "text/plain") -> EmailMessage:
    """One header block parsed by ``email`` (never raises; problems land in ``defects``); a plain block without
    the feed parser (``mimeheaders.plain_block``: the same message, faster)."""
    msg: EmailMessage | None = plain_block(block, POLICY)
    if msg is None:
        msg = email.parser.BytesParser(HeaderBlock, policy=POLICY).parsebytes(block, headersonly=True)  # no body
    assert isinstance(msg, EmailMessage)
    if default_type != "text/plain":
        msg.set_default_type(default_type)
    return msg


@dataclass(frozen=True, eq=False)
class MimePart:
    """One entity of a message: its header block as ``email`` parsed it, its body as offsets into the message.

    ``children`` are a multipart's parts, or the one message inside a ``message/*`` part; None for a leaf
    (and for a multipart whose parts cannot be found: its ``defects`` say why). ``defects`` are those the
    ``email`` parser notes on that entity.
    """

    headers: EmailMessage  # headers only, shared by every reader: never modified
    data: bytes = field(repr=False)
    body_start: int
    body_end: int
    children: tuple[MimePart, ...] | None
    defects: tuple[errors.MessageDefect, ...]

    @property
    def body(self) -> bytes:
        """The body as sent (a leaf's content with its transfer encoding)."""
        return self.data[self.body_start : self.body_end]

    def is_multipart(self) -> bool:
        return self.children is not None

    @property
    def content_type(self) -> str:
        return self.headers.get_content_type()

    @property
    def transfer_encoding(self) -> str:
        """Content-Transfer-Encoding, lower case ("" if none); spaces around it do not change it (email's
        ``get_payload`` would not decode ``base64 ``; Graph does, and so do the checks and the differ)."""
        return str(self.headers.get("content-transfer-encoding", "")).strip().lower()

    def walk(self) -> Iterator[MimePart]:
        """This entity, then each inside it, depth first (``EmailMessage.walk``'s order)."""
        todo = [self]
        while todo:
            part = todo.pop()
            yield part
            todo.extend(reversed(part.children or ()))

    def decoded(self) -> bytes:
        """The content, transfer encoding undone, as ``get_payload(decode=True)`` gives a leaf's (b"" for a
        multipart; a ``message/*`` part's is the message inside it, as bytes)."""
        if self.children is not None and self.headers.get_content_maintype() == "multipart":
            return b""
        raw = self.body
        cte = self.transfer_encoding
        if cte == "base64":
            try:  # where binascii's lenient decoder succeeds, it gives what email's does, without its copies
                return binascii.a2b_base64(raw)
            except binascii.Error:
                pass
        elif cte not in _EMAIL_DECODES:
            return raw
        entity = EmailMessage(policy=POLICY)  # email's own decoding: padding repairs, quopri, uuencode
        entity["Content-Transfer-Encoding"] = cte
        entity.set_payload(raw.decode("ascii", "surrogateescape"))
        payload = entity.get_payload(decode=True)
        return payload if isinstance(payload, bytes) else b""


def read_message(data: bytes) -> MimePart:
    """The message in ``data`` and its parts; never raises on malformed input (see each part's ``defects``)."""
    reader = _Reader(data)
    root = reader.entity(0, len(data), False, "text/plain", 0)
    if root.headers.get_content_maintype() == "multipart" and root.children is None:
        return MimePart(root.headers, data, root.body_start, root.body_end, None,
                        (*root.defects, errors.MultipartInvariantViolationDefect()))
    return root


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.entities = 0

    def entity(self, start: int, end: int, strip: bool, default_type: str, depth: int) -> MimePart:
        """The entity at ``data[start:end]``; ``strip``: it is a part, whose last line break is its delimiter's."""
        self.entities += 1
        data = self.data
        head = mimesplit.split_head(data, start, end)
        headers = parse_headers(data[start : head.end], default_type)
        defects: list[errors.MessageDefect] = [] if head.separated else [errors.MissingHeaderBodySeparatorDefect()]
        defects += headers.defects
        pushed = headers.get_payload()  # a "From " line last in the block: email reads it as the body's first line
        if isinstance(pushed, str) and pushed:
            inner = _Reader(pushed.encode("ascii", "surrogateescape") + data[head.body : end])
            inner.entities = self.entities
            part = inner.body(headers, defects, 0, len(inner.data), strip, depth)
            self.entities = inner.entities
            return part
        return self.body(headers, defects, head.body, end, strip, depth)

    def body(self, headers: EmailMessage, defects: list[errors.MessageDefect], body: int, end: int, strip: bool,
             depth: int) -> MimePart:
        """The entity whose headers are read and whose body is ``data[body:end]``."""
        maintype = headers.get_content_maintype()
        if maintype == "message" and depth < MAX_DEPTH and headers.get_content_type() != "message/delivery-status":
            inner = self.entity(body, end, strip, "text/plain", depth + 1)
            content_end = mimesplit.content_end(self.data, body, end) if strip else end
            return MimePart(headers, self.data, body, content_end, (inner,), tuple(defects))
        if maintype == "multipart" and depth < MAX_DEPTH:
            return self.multipart(headers, body, end, defects, depth)
        content_end = mimesplit.content_end(self.data, body, end) if strip else end
        return MimePart(headers, self.data, body, content_end, None, tuple(defects))

    def multipart(self, headers: EmailMessage, body: int, end: int, defects: list[errors.MessageDefect],
                  depth: int) -> MimePart:
        """A multipart entity; one whose parts cannot be found is a leaf, its body kept whole (line breaks too)."""
        boundary = headers.get_boundary()
        if boundary is None:
            defects.append(errors.NoBoundaryInMultipartDefect())
            return MimePart(headers, self.data, body, end, None, tuple(defects))
        if str(headers.get("content-transfer-encoding", "8bit")).lower() not in ("7bit", "8bit", "binary"):
            defects.append(errors.InvalidMultipartContentTransferEncodingDefect())
        try:
            marker = boundary.encode("ascii", "surrogateescape")
        except UnicodeEncodeError:  # a decoded RFC 2231 boundary beyond ASCII: no line of the body can hold it
            marker = b"\n"
        split = mimesplit.split_multipart(self.data, body, end, marker)
        if not split.parts:
            defects.append(errors.StartBoundaryNotFoundDefect())
            return MimePart(headers, self.data, body, split.unsplit_end, None, tuple(defects))
        child_type = "message/rfc822" if headers.get_content_type() == "multipart/digest" else "text/plain"
        children = [self.entity(p.start, p.end, True, child_type, depth + 1)
                    for p in split.parts if self.entities < MAX_PARTS]
        if not split.closed:
            defects.append(errors.CloseBoundaryNotFoundDefect())
        return MimePart(headers, self.data, body, end, tuple(children), tuple(defects))


@dataclass(frozen=True)
class PartSummary:
    index: int
    content_type: str
    filename: str | None
    size: int  # decoded bytes
    sha256: str  # of the decoded content
    charset: str | None


def leaf_parts(msg: MimePart) -> list[MimePart]:
    return [p for p in msg.walk() if not p.is_multipart()]


def summarize_parts(msg: MimePart) -> list[PartSummary]:
    out = []
    for i, part in enumerate(leaf_parts(msg)):
        data = part.decoded()
        out.append(PartSummary(index=i, content_type=part.content_type, filename=part.headers.get_filename(),
                               size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                               charset=part.headers.get_content_charset()))
    return out


def header_values(headers: EmailMessage, name: str) -> list[Any] | None:
    """Every value of header ``name`` parsed; None if the ``email`` package fails on one (it can, on hostile input)."""
    try:
        return list(headers.get_all(name, []) or [])
    except Exception:
        return None


def header_text(headers: EmailMessage, name: str) -> str | None:
    """The first value of header ``name`` as people read it (decoded), or as written if it cannot be parsed."""
    values = header_values(headers, name)
    if values is not None:
        return str(values[0]) if values else None
    raw = next((value for key, value in headers.raw_items() if key.lower() == name.lower()), None)
    return None if raw is None else " ".join(str(raw).split())


def recipients(headers: EmailMessage) -> list[str]:
    """Addresses in To, Cc and Bcc, in that order (a header that cannot be parsed gives none)."""
    found: list[str] = []
    for name in RECIPIENT_HEADERS:
        for value in header_values(headers, name) or []:
            addresses = getattr(value, "addresses", ())
            found.extend(a.addr_spec for a in addresses if a.addr_spec)
    return found
