"""Offline replay as a pipeline of pure steps: validate -> match -> diff -> serve.

Nothing here knows mitmproxy: the addon turns a flow into an ``HttpRequest``, asks ``Replayer.handle``
for the response, and sends it. Every request gets an answer; none goes to the network.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from graphtape.graph import error_response, parse_graph_url
from graphtape.model import Deviation, Finding, HttpRequest, HttpResponse, Interaction, MatchKind, Outcome, header
from graphtape.replay.matching import Matcher
from graphtape.session.describe import short_path
from graphtape.session.exchanges import Exchange, Session

if TYPE_CHECKING:
    from graphtape.signin import SignInAnswer

# Statuses of graphtape's own answers (documented in the README).
UNMATCHED_STATUS = 404
EXHAUSTED_STATUS = 410

Validate = Callable[[HttpRequest], list[Finding]]
Enforce = Callable[[HttpRequest, Sequence[Finding]], HttpResponse | None]
Diff = Callable[[HttpRequest, HttpRequest], list[Deviation]]
Nearest = Callable[[HttpRequest, Sequence[HttpRequest]], list[tuple[int, list[Deviation]]]]
SignIn = Callable[[HttpRequest], "SignInAnswer | None"]
Answer = Callable[[HttpRequest, HttpRequest, Sequence[Finding], HttpResponse], HttpResponse]


@dataclass
class Steps:
    """The checks a replayed request goes through; each is a pure function."""

    validate: Validate | None = None  # contract findings for a request
    enforce: Enforce | None = None  # Graph's documented answer to a request with errors (None: serve)
    diff: Diff | None = None  # deviations of a request from the recorded one
    nearest: Nearest | None = None  # closest recorded requests, with their diffs, for an unmatched one
    signin: SignIn | None = None  # the offline answer to a sign-in call (graphtape.signin.answer); None: unmatched
    answer: Answer | None = None  # the recorded answer as served (recorded request, request, findings, answer)


@dataclass
class Replayer:
    cassette: str
    interactions: Sequence[Interaction]
    session: Session
    allow_repeats: bool = False
    steps: Steps = field(default_factory=Steps)
    # What is in scope (``Scope.covers``): Graph URLs, and the upload URLs the cassette's answers named.
    in_scope: Callable[[str], bool] = lambda url: parse_graph_url(url) is not None
    clock: Callable[[], float] = time.monotonic  # when a request came and was answered (Retry-After checks)

    def __post_init__(self) -> None:
        self.matcher = Matcher(self.interactions, allow_repeats=self.allow_repeats)
        self._requests = [i.request for i in self.interactions]

    def handle(self, req: HttpRequest) -> tuple[Exchange, HttpResponse]:
        at = self.clock()
        ex = self.session.start(req.method, req.url)
        resp = self._handle(ex, req)
        ex.status = resp.status
        ex.findings.extend(self.session.retries.arrived(req.key, at))  # a retry sooner than a 429 asked
        self.session.retries.answered(req.key, resp.status, header(resp.headers, "retry-after"), at)
        return ex, resp

    def _handle(self, ex: Exchange, req: HttpRequest) -> HttpResponse:
        signin = self.steps.signin(req) if self.steps.signin is not None and req.graph_url is None else None
        if signin is not None:  # sign-in (never a Graph URL): answered offline, never from (nor into) a cassette
            ex.outcome, ex.note = Outcome.SIGNED_IN, signin.refusal
            return signin.response
        if req.graph_url is None and not self.in_scope(req.url):
            ex.outcome = Outcome.UNMATCHED
            ex.note = "not a Microsoft Graph /v1.0 or /beta URL; offline replay sends nothing on"
            return error_response(UNMATCHED_STATUS, "graphtape.UnmatchedRequest",
                                  f"graphtape: {req.method} {req.url} is outside Microsoft Graph; offline "
                                  "replay answers only recorded Graph calls and sends nothing to the network.")
        if self.steps.validate is not None:
            ex.findings = self.steps.validate(req)
        if self.steps.enforce is not None and ex.errors:
            rejection = self.steps.enforce(req, ex.findings)
            if rejection is not None:
                ex.outcome = Outcome.REJECTED
                ex.note = "; ".join(f.line() for f in ex.errors[:3])
                return rejection
        match = self.matcher.find(req)
        if match.index is None:
            return self._miss(ex, req, match.kind)
        self.matcher.use(match.index)
        ex.outcome = Outcome.MATCHED
        ex.interaction = match.index
        recorded = self.interactions[match.index]
        if self.steps.diff is not None:
            ex.deviations = self.steps.diff(recorded.request, req)
        if self.steps.answer is not None:  # a $batch: its items' ids, and its refused items' errors (replay/batch.py)
            return self.steps.answer(recorded.request, req, ex.findings, recorded.response)
        return recorded.response

    def _miss(self, ex: Exchange, req: HttpRequest, kind: MatchKind) -> HttpResponse:
        nearest = self._nearest_text(req)
        if kind == MatchKind.EXHAUSTED:
            ex.outcome = Outcome.EXHAUSTED
            ex.note = "every recorded interaction for it was already served"
            msg = (f"graphtape: {req.method} {short_path(req.url)} was recorded in {self.cassette}, but each "
                   f"recorded answer was already served (pass --allow-repeats to serve them again, or record "
                   f"the extra call).")
            return error_response(EXHAUSTED_STATUS, "graphtape.CassetteExhausted", msg)
        ex.outcome = Outcome.UNMATCHED
        ex.note = f"nearest: {nearest}" if nearest else "the cassette has no interactions"
        msg = (f"graphtape: no interaction in {self.cassette} matches {req.method} {short_path(req.url)}. "
               + (f"Nearest recorded: {nearest}." if nearest else "The cassette is empty.")
               + " Re-record the cassette if the call is new.")
        return error_response(UNMATCHED_STATUS, "graphtape.UnmatchedRequest", msg)

    def _nearest_text(self, req: HttpRequest) -> str:
        if self.steps.nearest is not None:
            found = self.steps.nearest(req, self._requests)
            parts = []
            for index, devs in found:
                r = self.interactions[index].request
                diff = "; ".join(d.line() for d in devs[:4])
                parts.append(f"#{index + 1} {r.method} {short_path(r.url)}" + (f" [{diff}]" if diff else ""))
            return " | ".join(parts)
        indices = self.matcher.nearest_keys(req)
        return " | ".join(
            f"#{i + 1} {self.interactions[i].request.method} {short_path(self.interactions[i].request.url)}"
            for i in indices
        )

    def finish(self) -> None:
        self.session.unused = self.matcher.unused()
