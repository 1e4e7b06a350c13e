"""What record and inspect share: each call goes on to Graph (or ``graphtape_upstream``) and its answer comes back."""

from __future__ import annotations

import logging
import time
from urllib.parse import urlsplit

from mitmproxy import http

from graphtape.bodies.limits import BodyTooLarge
from graphtape.graph import is_token_endpoint
from graphtape.model import Outcome
from graphtape.proxy.batch_live import send_without_refused, splice_live
from graphtape.proxy.flows import canonical_url
from graphtape.proxy.marks import log_findings, mark_flow
from graphtape.proxy.modes.base import ModeHandler
from graphtape.proxy.pipeline import in_scope, problem, settle
from graphtape.proxy.state import FlowState, attach
from graphtape.proxy.uploads import learn_answer, route
from graphtape.proxy.upstream import route_upstream
from graphtape.session.describe import short_path
from graphtape.session.exchanges import Session

logger = logging.getLogger("graphtape")


class Forwarding(ModeHandler):
    """A mode that sends calls on: every call to a Graph host is routed to the upstream, if one is set (and to a
    sign-in host or an upload URL, if asked: upstream.py, uploads.py)."""

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        """A body over the limit streams to the server right after this hook: send it where the others go.

        (A chunked body that passes the limit part way streams to the host the client named; see limits.py.)
        """
        if not flow.request.stream:
            return
        url = canonical_url(flow)
        route(self.shared.upstream, self.scope, flow, url)
        state = attach(flow, FlowState(url, self if in_scope(url, self.scope)[0] else None, streamed=True))
        if state.handler is not None:
            self.streaming(flow, state)

    def streaming(self, flow: http.HTTPFlow, state: FlowState) -> None:
        """An in-scope call whose body streams through: it is on its way already."""

    def outside(self, flow: http.HTTPFlow, url: str) -> None:
        route_upstream(self.shared.upstream, flow, url)

    def request(self, flow: http.HTTPFlow, state: FlowState) -> None:
        assert state.request is not None
        state.findings += self.session.retries.arrived(state.request.key, time.monotonic())  # sooner than a 429 asked
        state.refusal = send_without_refused(flow, state.request, state.findings, enforcing=self.enforcing)
        route(self.shared.upstream, self.scope, flow, state.url)

    def too_large(self, flow: http.HTTPFlow, state: FlowState, e: BodyTooLarge) -> None:
        """It goes on unchecked; its answer names it (not recorded, or observed without its body)."""
        route(self.shared.upstream, self.scope, flow, state.url)

    def response(self, flow: http.HTTPFlow, state: FlowState) -> None:
        """Before the mode reads the answer: an upload URL it names comes into scope, and a $batch sent without
        its refused items gets their errors back (the client and the cassette see one answer per item sent)."""
        learn_answer(self.scope, state.request, flow)
        if state.request is not None and flow.response is not None:  # a 429's Retry-After, for the retry
            self.session.retries.answered(state.request.key, flow.response.status_code,
                                          flow.response.headers.get("retry-after"), time.monotonic())
        splice_live(flow, state.refusal)
        self.answered(flow, state)

    def answered(self, flow: http.HTTPFlow, state: FlowState) -> None:
        """The answer to a call this mode sent on came back (it goes on to the client after this hook)."""

    def error(self, flow: http.HTTPFlow, state: FlowState) -> None:
        self.failed_upstream(flow, state, self.session, fails=False)

    def failed_upstream(self, flow: http.HTTPFlow, state: FlowState, session: Session, *, fails: bool) -> None:
        """No answer came (the upstream refused, reset or timed out); ``fails``: the cassette lacks the call."""
        ex = settle(session, flow.request.method, state.url, Outcome.FAILED,
                    findings=state.findings,  # the request's: they count all the same
                    note=str(flow.error.msg if flow.error else "unknown error"))
        mark_flow(flow, ex)
        logger.error(f"graphtape: {ex.method} {short_path(ex.url)} failed upstream: {ex.note} (nothing recorded "
                     "for it)")
        log_findings(ex)
        if fails:  # replay would not know a call the client made
            problem(session, ex, f"failed upstream ({ex.note}); not recorded", log=False)


def kept(url: str) -> bool:
    """Not a token endpoint: its answer (a token) is never written down nor described."""
    parts = urlsplit(url)
    return not is_token_endpoint(parts.hostname or "", parts.path)


def duration_ms(flow: http.HTTPFlow) -> float | None:
    if flow.response is not None and flow.response.timestamp_end and flow.request.timestamp_start:
        return (flow.response.timestamp_end - flow.request.timestamp_start) * 1000
    return None
