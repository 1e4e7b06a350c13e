"""The plain data every other module passes around: requests, responses, findings, deviations.

Bodies are always the *decoded* bytes (any Content-Encoding such as gzip undone), so that parsing,
validating, matching and diffing never see compression.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Headers = list[tuple[str, str]]
Severity = Literal["error", "warning"]


def header(headers: Headers, name: str, default: str | None = None) -> str | None:
    """The first value of header ``name`` (case-insensitive), or ``default``."""
    lname = name.lower()
    for key, value in headers:
        if key.lower() == lname:
            return value
    return default


@dataclass(frozen=True)
class HttpRequest:
    method: str
    url: str  # the URL the client asked for (Graph URL, even when sent upstream elsewhere)
    headers: Headers = field(default_factory=list)
    body: bytes = b""

    @property
    def content_type(self) -> str:
        return header(self.headers, "content-type", "") or ""


@dataclass(frozen=True)
class HttpResponse:
    status: int
    reason: str = ""
    headers: Headers = field(default_factory=list)
    body: bytes = b""
    # True: ``body`` is as it came on the wire, its Content-Encoding not undone because it could not be (corrupt
    # gzip, an unknown coding); it is served again exactly so, never re-encoded.
    body_as_sent: bool = False

    @property
    def content_type(self) -> str:
        return header(self.headers, "content-type", "") or ""


@dataclass(frozen=True)
class Interaction:
    request: HttpRequest
    response: HttpResponse
    recorded_at: str = ""
    duration_ms: float | None = None


@dataclass(frozen=True)
class Finding:
    """One contract problem in a request or response body."""

    rule: str  # a stable id, e.g. "mime.base64"
    severity: Severity
    location: str  # a JSON pointer ("/toRecipients/0/emailAddress") or "mime:header:To", "mime:part:2"
    message: str  # what a developer reads
    doc: str = ""  # where the rule comes from (a Graph docs URL or the contract file's anchor)

    def line(self) -> str:
        where = f" at {self.location}" if self.location else ""
        return f"{self.severity}: {self.rule}{where}: {self.message}"


@dataclass(frozen=True)
class Deviation:
    """One way a request differs from the recorded one it was matched to."""

    path: str  # e.g. "body.Message.toRecipients[1].emailAddress.address"
    kind: Literal["changed", "added", "removed"]
    recorded: Any = None
    actual: Any = None

    def line(self) -> str:
        if self.kind == "changed":
            return f"{self.path}: {self.recorded!r} -> {self.actual!r}"
        if self.kind == "added":
            return f"{self.path}: added {self.actual!r}"
        return f"{self.path}: removed {self.recorded!r}"
