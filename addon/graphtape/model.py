"""The plain data every other module passes around: requests, responses, findings, deviations, and the
vocabulary (modes, outcomes, match kinds, what fails a session) as ``StrEnum``s defined here only.

Bodies are always the *decoded* bytes (any Content-Encoding such as gzip undone), so that parsing,
validating, matching and diffing never see compression.

An ``HttpRequest`` is also the one parsed view of a request: its Graph URL, media type, JSON and
base64 MIME content are parsed the first time something asks, and kept on the object (it is
immutable, so what was parsed stays true). Validation, matching, diffing and reporting all read
those, so a replayed request is parsed once, and a recorded one once per interaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from graphtape.bodies import kinds, mime

if TYPE_CHECKING:
    from graphtape.bodies.digest import BodyDigest
    from graphtape.graph import GraphUrl

# The values are what option strings, reports and cassettes say: a member compares (and serialises) equal to it.


class Mode(StrEnum):
    """What the proxy does with Graph calls (mitmproxy option ``graphtape_mode``)."""

    RECORD = "record"
    REPLAY = "replay"
    INSPECT = "inspect"
    OFF = "off"
    SIMULATE = "simulate"  # every Graph call answered from an in-memory mailbox (graphtape.simulate), offline
    NEW_EPISODES = "new_episodes"  # replay what matches, record (append) what does not (proxy/modes/episodes.py)


class PluginMode(StrEnum):
    """What the pytest plugin does with a test's cassette (``--graphtape-mode``)."""

    REPLAY = "replay"
    RECORD = "record"
    ONCE = "once"  # record the missing cassettes, replay the rest
    SIMULATE = "simulate"  # every marked test against a fresh simulated mailbox, no cassette
    NEW_EPISODES = "new_episodes"  # replay what the cassette has, append what it lacks (pytest-recording's name)


class Outcome(StrEnum):
    """What became of one request."""

    PENDING = ""  # not decided yet (its answer is still on the way)
    MATCHED = "matched"  # replay: served from the cassette
    UNMATCHED = "unmatched"  # replay: nothing recorded looks like it
    EXHAUSTED = "exhausted"  # replay: its interactions were all used
    REJECTED = "rejected"  # the contract check answered with Graph's error
    RECORDED = "recorded"  # record: written to the cassette
    NOT_RECORDED = "not-recorded"  # record: refused (a secret in it, or the write failed)
    OBSERVED = "observed"  # inspect: shown
    FAILED = "failed"  # the upstream did not answer
    SIGNED_IN = "signed-in"  # replay: a sign-in call (token, discovery) answered offline, never recorded
    SIMULATED = "simulated"  # simulate: answered by the simulated mailbox
    FAULTED = "faulted"  # an injected fault (graphtape.faults) answered it: not sent, recorded or replayed


class MatchKind(StrEnum):
    """What the matcher found for a request."""

    MATCHED = "matched"
    UNMATCHED = "unmatched"
    EXHAUSTED = "exhausted"  # recorded, but each recorded answer was already served


class FailOn(StrEnum):
    """What fails a session (``--fail-on``, ``graphtape_fail_on``, the marker's ``fail_on=``)."""

    UNMATCHED = "unmatched"
    VIOLATION = "violation"  # a contract error
    DEVIATION = "deviation"  # a request differs from its recording (cosmetic differences aside)
    UNUSED = "unused"  # a recorded interaction was never served
    RETRY = "retry"  # a client retried before Retry-After asked (retry.too-soon)
    EXPIRED = "expired"  # a served interaction was older than max_age (cassette.expired; replay/expiry.py)
    COSMETIC = "cosmetic"  # a cosmetic deviation (Accept, enum case, redundant @odata.type: diffing/cosmetic.py)


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
    # A body recorded as its digest (an upload-session chunk): ``body`` is then b"" (bodies/digest.py).
    body_digest: BodyDigest | None = None

    @property
    def content_type(self) -> str:
        return header(self.headers, "content-type", "") or ""

    # The parsed view: each is computed once, on first use (cached_property writes the instance's __dict__,
    # which a frozen dataclass allows; equality and repr see the four fields only).

    @cached_property
    def graph_url(self) -> GraphUrl | None:
        """The URL split as Graph reads it; None outside Graph /v1.0 and /beta."""
        from graphtape.graph import parse_graph_url  # graph builds HttpResponses: imported when first needed

        return parse_graph_url(self.url)

    @cached_property
    def key(self) -> str:
        """The matching key: method, normalised URL and Content-Range (``graph.request_key``)."""
        from graphtape.graph import key_of

        return key_of(self.method, self.url, self.graph_url, header(self.headers, "content-range") or "")

    @cached_property
    def media_type(self) -> str:
        """``"application/json"`` for ``application/json; charset=utf-8``; "" without a Content-Type."""
        return kinds.media_type(self.content_type)

    @cached_property
    def json(self) -> kinds.JsonBody:
        """The body parsed as JSON (whatever its Content-Type says: readers check that first)."""
        return kinds.parse_json_body(self.body)

    @cached_property
    def mime_bytes(self) -> bytes | None:
        """The body decoded as base64 MIME (Graph's ``text/plain`` uploads); None if it is not base64."""
        return kinds.decode_base64_mime(self.body)

    @cached_property
    def mime_message(self) -> mime.MimePart | None:
        """The decoded MIME body read once (``bodies.mime``: headers by ``email``, parts split), for the contract
        check, the differ and the descriptions; None if the body is not base64 of an RFC 5322 message."""
        decoded = self.mime_bytes
        if decoded is None or not kinds.looks_like_rfc5322(decoded):
            return None
        return mime.read_message(decoded)


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
    # Why it is cosmetic ("header Accept", "enum case", "redundant @odata.type"); "" = it counts (diffing/cosmetic.py)
    cosmetic: str = ""

    def line(self) -> str:
        mark = f" (cosmetic: {self.cosmetic})" if self.cosmetic else ""
        if self.kind == "changed":
            return f"{self.path}: {self.recorded!r} -> {self.actual!r}{mark}"
        if self.kind == "added":
            return f"{self.path}: added {self.actual!r}{mark}"
        return f"{self.path}: removed {self.recorded!r}{mark}"
