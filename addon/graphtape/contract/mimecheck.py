"""Checking base64 MIME bodies (``Content-Type: text/plain``) the way Graph reads them.

The body is base64 (line wrapping allowed) of an RFC 5322 message; the standard ``email`` package
must parse it without defects; calls that send need a To/Cc/Bcc address; each part's charset and
Content-Transfer-Encoding must decode. Locations: ``mime:body`` (the base64 text), ``mime:header:To``
(a header of the message), ``mime:part:N`` (N counts ``msg.walk()``, 0 being the message itself).

The message is the request's one reading of it (``HttpRequest.mime_message``, ``bodies.mime``): headers
parsed by ``email``, parts and defects as ``email``'s parser finds them; a big base64 payload is checked as
bytes, and decoded only when its charset must be tried.
"""

from __future__ import annotations

import binascii
import codecs
import re
from collections.abc import Iterator
from email.message import EmailMessage

from graphtape.bodies import mime
from graphtape.bodies.kinds import looks_like_rfc5322
from graphtape.bodies.mime import MimePart
from graphtape.model import Finding, HttpRequest

from .data import limit
from .rules import finding

ADDRESS_HEADERS = ("From", "Sender", "Reply-To", "To", "Cc", "Bcc")
TRANSFER_ENCODINGS = ("7bit", "8bit", "binary", "quoted-printable", "base64")

_WHITESPACE = b" \t\r\n"
_BASE64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_BAD_QP = re.compile(rb"=(?![0-9A-Fa-f]{2}|[ \t]*(?:\r?\n|$))")
_ENCODED_WORD = re.compile(r"=\?([^?\s*]+)(?:\*[^?\s]*)?\?[QqBb]\?")
_HEADER_NAME = re.compile(rb"[!-9;-~]+")
DEFECTS = {  # what the email package's structural defects mean, for the finding's message
    "NoBoundaryInMultipartDefect": "a multipart Content-Type without a boundary parameter",
    "StartBoundaryNotFoundDefect": "the multipart boundary never appears in the body",
    "CloseBoundaryNotFoundDefect": "the closing boundary line (--boundary--) is missing",
    "MultipartInvariantViolationDefect": "declared multipart, but it has no parts",
    "MissingHeaderBodySeparatorDefect": "a line of the header block is not a header (is the blank line missing?)",
    "FirstHeaderLineIsContinuationDefect": "the first header line starts with whitespace",
    "MisplacedEnvelopeHeaderDefect": "a 'From ' envelope line among the headers",
    "InvalidMultipartContentTransferEncodingDefect": "a multipart with a transfer encoding other than 7bit/8bit/binary",
}


def base64_problem(compact: bytes) -> str | None:
    """Why whitespace-free ``compact`` is not strict base64, or None; checks without decoding."""
    data = compact.rstrip(b"=")
    if len(compact) % 4:
        return f"{len(compact)} base64 characters, not a multiple of 4"
    if len(compact) - len(data) > 2 or b"=" in data:
        return "'=' padding in the middle or more than two of it"
    stray = data.translate(None, _BASE64_ALPHABET)
    return f"characters outside base64: {stray[:10]!r}" if stray else None


def _is_truncated_header(data: bytes, msg: MimePart) -> bool:
    """The docs' example: a header block cut off inside a header name, with no separator and no body."""
    if msg.is_multipart() or not msg.headers.keys():
        return False
    return (
        b"\n\n" not in data
        and b"\r\n\r\n" not in data
        and bool(_HEADER_NAME.fullmatch(msg.body))  # a header name is ASCII: any other text is no cut-off name
    )


def _defects(data: bytes, parts: list[MimePart], doc: str) -> Iterator[Finding]:
    for index, part in enumerate(parts):
        for defect in part.defects:
            name = type(defect).__name__
            if index == 0 and name == "MissingHeaderBodySeparatorDefect" and _is_truncated_header(data, part):
                cut = part.body.decode("ascii")[:40]
                msg = f"the message ends inside a header name ({cut!r}); complete the header line or remove it"
                yield finding("mime.truncated", "mime:part:0", msg, doc)
                continue
            detail = DEFECTS.get(name) or str(defect) or name
            msg = f"{detail} ({name}); the email package cannot read this part as sent"
            yield finding("mime.defect", f"mime:part:{index}", msg, doc)


def _headers(msg: EmailMessage, doc: str) -> Iterator[Finding]:
    present = {name.lower() for name in msg}  # get_all walks every header: ask only for those sent
    for name in ADDRESS_HEADERS:
        if name.lower() not in present:
            continue
        try:
            values = msg.get_all(name, []) or []
            problems = [str(d) for value in values for d in getattr(value, "defects", ())]
        except Exception as exc:  # the header parser can fail on hostile input
            problems = [f"cannot be parsed ({type(exc).__name__})"]
        if problems:
            msg_text = f"{name} is not a valid address list: {'; '.join(problems[:3])}"
            yield finding("mime.defect", f"mime:header:{name}", msg_text, doc)
    for name, value in msg.raw_items():
        for charset in _ENCODED_WORD.findall(str(value)):
            if not _known_charset(charset):
                text = f"encoded word uses the unknown charset {charset!r}; use utf-8"
                yield finding("mime.charset", f"mime:header:{name}", text, doc)


def _known_charset(charset: str) -> bool:
    """A text encoding Python knows (not a bytes-to-bytes codec such as "base64")."""
    try:
        info = codecs.lookup(charset)
    except (LookupError, ValueError):
        return False
    return bool(getattr(info, "_is_text_encoding", True))


def _decode_transfer(cte: str, raw: bytes, need: bool) -> tuple[bytes | None, str | None]:
    """(decoded content, problem) of a leaf's payload; base64 is only decoded when ``need``ed."""
    if cte == "base64":
        compact = raw.translate(None, _WHITESPACE)
        problem = base64_problem(compact)
        if problem:
            return None, f"the base64 payload does not decode: {problem}"
        return (binascii.a2b_base64(compact) if need else None), None
    if cte == "quoted-printable":
        bad = _BAD_QP.search(raw)
        if bad:
            seq = raw[bad.start() : bad.start() + 3]
            return None, f"invalid quoted-printable escape {seq!r}: '=' must start =XX (hex) or end a line"
        return binascii.a2b_qp(raw), None
    return raw, None


def _leaf(part: MimePart, charset: str | None) -> tuple[bytes | None, str | None]:
    """(decoded content, transfer-encoding problem) of a leaf part; decoded only if it has a ``charset``."""
    cte = str(part.headers.get("content-transfer-encoding", "7bit") or "7bit").strip().lower()
    if cte not in TRANSFER_ENCODINGS:
        return None, f"unknown Content-Transfer-Encoding {cte!r}; use base64 or quoted-printable"
    raw = part.body  # as sent; base64 and quoted-printable must be ASCII
    if cte in ("base64", "quoted-printable") and not raw.isascii():
        return None, f"8-bit bytes in a {cte} payload, which must be ASCII; encode the content or use 8bit"
    return _decode_transfer(cte, raw, need=bool(charset))


def _parts(parts: list[MimePart], doc: str) -> Iterator[Finding]:
    for index, part in enumerate(parts):
        if part.is_multipart():
            continue
        headers = part.headers
        charset = headers.get_content_charset() if headers.get_content_maintype() == "text" else None
        decoded, problem = _leaf(part, charset)
        where = f"mime:part:{index}"
        if problem:
            yield finding("mime.transfer-encoding", where, problem, doc)
        if not charset:
            continue
        if not _known_charset(charset):
            yield finding("mime.charset", where, f"unknown charset {charset!r}; use utf-8", doc)
        elif decoded is not None:
            try:
                decoded.decode(charset)
            except (UnicodeError, LookupError, ValueError) as exc:
                text = f"the text is not valid {charset} ({exc}); declare the charset it is written in"
                yield finding("mime.charset", where, text, doc)


def check_mime(body: bytes, *, sends: bool, doc: str) -> list[Finding]:
    """All findings of a base64 MIME request body; ``sends`` for calls that send (need a recipient)."""
    return check_mime_request(HttpRequest("POST", "", [], body), sends=sends, doc=doc)


def check_mime_request(req: HttpRequest, *, sends: bool, doc: str) -> list[Finding]:
    """``check_mime`` of a request's body, read from its view (decoded once for matching and diffing too)."""
    maximum = limit("mime_max_bytes")
    if len(req.body) > maximum:
        msg = f"the MIME body is {len(req.body)} bytes, over Graph's 4 MB ({maximum}); Graph answers 413"
        return [finding("mime.too-large", "mime:body", msg, doc)]
    data = req.mime_bytes
    if data is None:
        msg = "the body is not valid base64; send the RFC 5322 message base64-encoded (line wrapping is fine)"
        return [finding("mime.base64", "mime:body", msg, doc)]
    if not looks_like_rfc5322(data):
        msg = "the base64 decodes to something that does not start with a header block (RFC 5322)"
        return [finding("mime.not-rfc5322", "mime:body", msg, doc)]
    message = req.mime_message
    if message is None or not message.headers.keys():
        text = "the decoded message has no header block (it starts with a blank line)"
        return [finding("mime.not-rfc5322", "mime:body", text, doc)]
    parts = list(message.walk())
    found = [*_defects(data, parts, doc), *_headers(message.headers, doc), *_parts(parts, doc)]
    if sends:
        readable = all(mime.header_values(message.headers, name) is not None for name in mime.RECIPIENT_HEADERS)
        if not readable or not mime.recipients(message.headers):  # an unreadable one is reported by _headers
            text = "the message has no To, Cc or Bcc address; add a recipient header so Graph can send it"
            found.append(finding("mime.no-recipient", "mime:header:To", text, doc))
    return found
