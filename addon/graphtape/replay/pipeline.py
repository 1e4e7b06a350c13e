"""Offline replay of one checked request: match -> diff -> serve, or explain the miss.

Nothing here knows mitmproxy. The proxy's request pipeline (``graphtape.proxy.pipeline``) has already parsed
the request, validated it and answered the ones the contract refuses; ``Replayer.handle`` takes the rest, with
their findings, and returns the response to send. Every request gets an answer; none goes to the network.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from graphtape.cassette.matchon import DEFAULT, MatchOn
from graphtape.diffing.core import diff_requests, nearest
from graphtape.diffing.ignore import DEFAULT_IGNORE, IgnoreRules
from graphtape.graph import error_response
from graphtape.model import Finding, HttpRequest, HttpResponse, Interaction, MatchKind, Outcome, header
from graphtape.replay.expiry import Expiry
from graphtape.replay.matching import Match, Matcher
from graphtape.session.describe import short_path
from graphtape.session.exchanges import Exchange, Session

# Statuses of graphtape's own answers (documented in the README).
UNMATCHED_STATUS = 404
EXHAUSTED_STATUS = 410
NEAREST = 3  # recorded requests named for a miss


@dataclass
class Replayer:
    """A cassette's interactions, served to the requests that match them.

    ``rules``: the deviation paths ignored when a served request is diffed against its recording and when the
    nearest recordings of a miss are ranked (the volatile defaults, plus the project's, the command line's and
    the cassette's own). ``expiry``: how old a served recording may be (replay/expiry.py): an older one gets a
    warning finding, and with ``on_expiry = fail`` is a problem of the session too (it fails whatever fail_on says).
    ``match_on``: what a request must share with a recording (cassette/matchon.py); a request refused by its body or
    header criteria is unmatched, and the answer says which criterion failed against the nearest recording.
    """

    cassette: str
    interactions: Sequence[Interaction]
    session: Session
    allow_repeats: bool = False
    rules: IgnoreRules = DEFAULT_IGNORE
    clock: Callable[[], float] = time.monotonic  # when a request came and was answered (Retry-After checks)
    expiry: Expiry | None = None
    match_on: MatchOn = DEFAULT

    def __post_init__(self) -> None:
        self.matcher = Matcher(self.interactions, allow_repeats=self.allow_repeats, match_on=self.match_on,
                               rules=self.rules)
        self._requests = [i.request for i in self.interactions]

    def retune(self, *, allow_repeats: bool, rules: IgnoreRules, match_on: MatchOn | None = None) -> None:
        """Options changed mid-replay: the session and the interactions used so far are kept."""
        self.allow_repeats = self.matcher.allow_repeats = allow_repeats
        self.rules = rules
        self.match_on = match_on or self.match_on
        self.matcher = self.matcher.retuned(self.match_on, rules)

    def handle(self, req: HttpRequest, findings: Sequence[Finding] = ()) -> tuple[Exchange, HttpResponse]:
        """The session's entry for ``req`` (its contract ``findings`` on it) and the answer to send."""
        at = self.clock()
        ex = self.session.start(req.method, req.url)
        ex.findings = list(findings)
        resp = self._handle(ex, req)
        ex.status = resp.status
        ex.findings.extend(self.session.retries.arrived(req.key, at))  # a retry sooner than a 429 asked
        self.session.retries.answered(req.key, resp.status, header(resp.headers, "retry-after"), at)
        return ex, resp

    def _handle(self, ex: Exchange, req: HttpRequest) -> HttpResponse:
        match = self.matcher.find(req)
        if match.index is None:
            return self._miss(ex, req, match)
        self.matcher.use(match.index)
        ex.outcome = Outcome.MATCHED
        ex.interaction = match.index
        recorded = self.interactions[match.index]
        ex.deviations = diff_requests(recorded.request, req, self.rules)
        self._judge_age(ex, match.index, recorded.recorded_at)
        return recorded.response

    def _judge_age(self, ex: Exchange, index: int, recorded_at: str) -> None:
        found = self.expiry.finding(index, recorded_at) if self.expiry is not None else None
        if found is None:
            return
        ex.findings.append(found)
        if self.expiry is not None and self.expiry.fail:
            self.session.problems.append(f"#{ex.number} {ex.method} {ex.url}: {found.message} (on_expiry = fail)")

    def _miss(self, ex: Exchange, req: HttpRequest, match: Match) -> HttpResponse:
        if match.kind == MatchKind.EXHAUSTED and not match.body_recorded:
            return self._body_differs(ex, req)
        if match.kind == MatchKind.EXHAUSTED:
            ex.outcome = Outcome.EXHAUSTED
            ex.note = "every recorded interaction for it was already served"
            msg = (f"graphtape: {req.method} {short_path(req.url)} was recorded in {self.cassette}, but each "
                   f"recorded answer was already served (pass --allow-repeats to serve them again, or record "
                   f"the extra call).")
            return error_response(EXHAUSTED_STATUS, "graphtape.CassetteExhausted", msg)
        if match.refused:
            return self._refused(ex, req, match.refused)
        near = self._nearest_text(req)
        ex.outcome = Outcome.UNMATCHED
        ex.note = f"nearest: {near}" if near else "the cassette has no interactions"
        msg = (f"graphtape: no interaction in {self.cassette} matches {req.method} {short_path(req.url)}. "
               + (f"Nearest recorded: {near}." if near else "The cassette is empty.")
               + " Re-record the cassette if the call is new.")
        return error_response(UNMATCHED_STATUS, "graphtape.UnmatchedRequest", msg)

    def _body_differs(self, ex: Exchange, req: HttpRequest) -> HttpResponse:
        """The URL was recorded, never with this body, and its recordings are used: say so, and how it differs."""
        near = self._nearest_text(req)
        ex.outcome = Outcome.EXHAUSTED
        ex.note = f"the body differs from every recording of it; nearest: {near}"
        msg = (f"graphtape: {req.method} {short_path(req.url)} was recorded in {self.cassette}, but not with this "
               f"body, and each recorded answer of it was already served. Nearest recorded: {near}. If the new body "
               "is intended, record the call again (graphtape record --append, or re-record the cassette).")
        return error_response(EXHAUSTED_STATUS, "graphtape.CassetteExhausted", msg)

    def _refused(self, ex: Exchange, req: HttpRequest, refused: Sequence[int]) -> HttpResponse:
        """Recorded with its method and URL, but match_on's body or header criteria refused every recording: which
        criterion failed against the nearest of them."""
        assert self.matcher.criteria is not None
        closest = nearest(req, [self._requests[i] for i in refused], 1, self.rules)
        index = refused[closest[0][0]] if closest else refused[0]
        why = "; ".join(self.matcher.criteria.failures(index, req)) or "a match_on criterion failed"
        ex.outcome = Outcome.UNMATCHED
        ex.note = f"match_on {self.match_on.text()}: nearest #{index + 1}: {why}"
        msg = (f"graphtape: no interaction in {self.cassette} matches {req.method} {short_path(req.url)} on match_on "
               f"{self.match_on.text()}: it was recorded ({len(refused)} time(s)), but against the nearest recording, "
               f"#{index + 1}, {why}. If the change is intended, record the call again; or match on less "
               "(match_on, --match-on) or ignore the field (ignore, --ignore).")
        return error_response(UNMATCHED_STATUS, "graphtape.UnmatchedRequest", msg)

    def _nearest_text(self, req: HttpRequest) -> str:
        parts = []
        for index, devs in nearest(req, self._requests, NEAREST, self.rules):
            r = self.interactions[index].request
            diff = "; ".join(d.line() for d in devs[:4])
            parts.append(f"#{index + 1} {r.method} {short_path(r.url)}" + (f" [{diff}]" if diff else ""))
        return " | ".join(parts)

    def finish(self) -> None:
        self.session.unused = self.matcher.unused()


def outside_graph(req_method: str, url: str) -> HttpResponse:
    """Offline replay's answer to a call outside Microsoft Graph: nothing is sent on."""
    return error_response(UNMATCHED_STATUS, "graphtape.UnmatchedRequest",
                          f"graphtape: {req_method} {url} is outside Microsoft Graph; offline replay answers only "
                          "recorded Graph calls and sends nothing to the network.")


OUTSIDE_NOTE = "not a Microsoft Graph /v1.0 or /beta URL; offline replay sends nothing on"
