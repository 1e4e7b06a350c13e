"""The contract of upload-session chunks, pure: Content-Range read, each chunk checked against its session.

Graph's facts (outlook-large-attachments, attachment-createuploadsession, errors): each ``PUT`` to the
``uploadUrl`` carries ``Content-Range: bytes {start}-{end}/{total}`` (0-based), ``Content-Length``,
``Content-Type: application/octet-stream`` and no ``Authorization``; at most 4 MB; bytes in order; the
total is the session's ``AttachmentItem.size``. An intermediate chunk is answered ``200`` with
``nextExpectedRanges: ["{next}"]``, the last ``201`` with a ``Location`` header; ``DELETE`` cancels (204).
The rules, their codes, statuses and messages are in contract/mail-contract.yaml (``upload.*``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from graphtape.bodies.digest import BodyDigest
from graphtape.contract.data import limit
from graphtape.contract.rules import finding
from graphtape.model import Finding, HttpRequest, header

_RANGE = re.compile(r"\s*bytes\s+(\d+)-(\d+)/(\d+)\s*", re.IGNORECASE)
OCTET_STREAM = "application/octet-stream"


@dataclass(frozen=True)
class ContentRange:
    start: int
    end: int  # inclusive
    total: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def __str__(self) -> str:
        return f"bytes {self.start}-{self.end}/{self.total}"


def parse_content_range(value: str | None) -> ContentRange | None:
    """``bytes 0-4194303/10485760``; None unless well-formed (start <= end < total)."""
    m = _RANGE.fullmatch(value or "")
    if m is None:
        return None
    start, end, total = (int(g) for g in m.groups())
    return ContentRange(start, end, total) if start <= end < total else None


@dataclass
class UploadState:
    """One upload session as graphtape follows it: what it was created for, and how far it has got."""

    size: int | None  # the AttachmentItem size the session was created with (None: not known)
    next_offset: int = 0  # the next byte the session expects
    finished: bool = False  # its last byte was received (201), or it was deleted
    before: int = 0  # next_offset before the last chunk was taken (Graph may refuse what graphtape passed)

    def expected(self) -> list[str]:
        """``nextExpectedRanges`` as Outlook gives it: ``["0-"]`` at first, then ``["{next}"]``."""
        return ["0-"] if self.next_offset == 0 else [str(self.next_offset)]


def body_size(req: HttpRequest) -> int:
    return req.body_digest.size if req.body_digest is not None else len(req.body)


def check_chunk(req: HttpRequest, state: UploadState) -> list[Finding]:
    """The findings of one chunk PUT against its session (``state`` is not changed: see ``advance``)."""
    found = _framing(req)
    if state.finished:
        return [*found, finding("upload.session-finished", "url",
                                "this upload session has received its last byte or was deleted; create a new one")]
    rng = parse_content_range(header(req.headers, "content-range"))
    if rng is None:
        sent = header(req.headers, "content-range")
        what = f"is {sent!r}" if sent is not None else "is missing"
        return [*found, finding("upload.content-range", "header:Content-Range",
                                f"Content-Range {what}; send 'bytes {{start}}-{{end}}/{{total}}' (0-based, inclusive)")]
    size, maximum = body_size(req), limit("upload_chunk_max_bytes")
    if size != rng.length:
        found.append(finding("upload.length", "body", f"the body is {size} bytes; {rng} is {rng.length}"))
    if rng.length > maximum:
        found.append(finding("upload.chunk-too-large", "header:Content-Range",
                             f"{rng} is {rng.length} bytes, over the {maximum} (4 MB) a chunk may hold"))
    if state.size is not None and rng.total != state.size:
        found.append(finding("upload.total-mismatch", "header:Content-Range",
                             f"{rng} declares {rng.total} bytes; the session was created for {state.size}"))
    if rng.start < state.next_offset:
        found.append(finding("upload.overlap", "header:Content-Range",
                             f"{rng} starts at {rng.start}, but bytes up to {state.next_offset - 1} were received "
                             f"already; nextExpectedRanges is {state.expected()}"))
    elif rng.start > state.next_offset:
        found.append(finding("upload.out-of-order", "header:Content-Range",
                             f"{rng} starts at {rng.start}; the session expects byte {state.next_offset} next "
                             f"(nextExpectedRanges {state.expected()})"))
    return found


def _framing(req: HttpRequest) -> list[Finding]:
    found = []
    if header(req.headers, "authorization") is not None:
        found.append(finding("upload.authorization", "header:Authorization",
                             "the uploadUrl is pre-authenticated: send the chunk without Authorization"))
    ctype = (header(req.headers, "content-type") or "").split(";")[0].strip().lower()
    if ctype != OCTET_STREAM:
        found.append(finding("upload.content-type", "header:Content-Type",
                             f"Content-Type is {ctype or 'missing'}; send {OCTET_STREAM}"))
    return found


def advance(req: HttpRequest, state: UploadState, findings: list[Finding]) -> None:
    """Take an accepted chunk (no error among ``findings``) into ``state``; a DELETE ends the session."""
    if req.method.upper() == "DELETE":
        state.finished = True
        return
    state.before = state.next_offset
    if any(f.severity == "error" for f in findings):
        return
    rng = parse_content_range(header(req.headers, "content-range"))
    if rng is not None:
        state.next_offset = rng.end + 1
        state.finished = state.next_offset >= rng.total


def take_answer(state: UploadState, status: int, next_ranges: object) -> None:
    """What Graph answered a chunk says where the session is (record/inspect: its word wins over ours)."""
    if status == 201:
        state.finished = True
    elif status >= 400:  # refused: the session is where it was before that chunk
        state.next_offset, state.finished = state.before, False
    elif status == 200 and isinstance(next_ranges, list) and next_ranges and isinstance(next_ranges[0], str):
        head = next_ranges[0].split("-")[0]
        if head.isdigit():
            state.next_offset = int(head)


def is_chunk(req: HttpRequest) -> bool:
    """A PUT with a Content-Range and a body outside Graph (only an upload URL in scope gets that far)."""
    return (req.method.upper() == "PUT" and bool(req.body) and header(req.headers, "content-range") is not None
            and req.graph_url is None)


def chunk_digest(req: HttpRequest) -> BodyDigest | None:
    """The digest a recording keeps instead of a chunk's bytes, else None."""
    return BodyDigest.of(req.body) if is_chunk(req) else None
