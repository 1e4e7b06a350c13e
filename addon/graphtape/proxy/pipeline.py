"""The one request pipeline every mode goes through, as plain functions of a flow and the mode that takes it.

The request hook::

    scope ─ out of scope ─> mode.outside       (record/inspect: passed on; replay: the "offline answers"
      │                                          stage (sign-in endpoints), else refused as unmatched)
    mode.admit                                  (record, while stopping: refused)
    parse   flow -> HttpRequest, once           (too large: mode.too_large)
    faults ─ a fault ─> answer, kill, delay     (only with graphtape_faults: the limits model, the scripts, the
      │                                          random rates; faults/stage.py. A delay returns a coroutine
      │                                          mitmproxy awaits: the rest of the pipeline runs after it)
    validate -> enforce ─ refused ─> reject     (Graph's documented error; not sent, recorded or replayed; a
      │                                          $batch's refused items only: the rest goes on, see batch_live)
    mode.request                                (record/inspect: sent on; replay: matched, diffed, served)
    report                                      (mitmweb's mark and comment, the log lines)

then the response (or error) hook hands the answer to the mode that took the request (``FlowState.handler``).
Every mode starts, fills and reports its session entries with ``settle``, ``problem`` and ``report``; a bug
anywhere on the way is answered 500 ``graphtape.InternalError`` and fails the session (``failed``).
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine, Sequence
from typing import TYPE_CHECKING, Any

from mitmproxy import ctx, http

from graphtape.bodies.limits import BodyTooLarge
from graphtape.contract.batch_enforce import enforce_request
from graphtape.faults import stage as faults
from graphtape.graph import GraphUrl, error_response, parse_graph_url
from graphtape.model import Finding, HttpRequest, HttpResponse, Outcome
from graphtape.privacy.output import scrub_findings
from graphtape.proxy.flows import canonical_url, request_of, to_mitmproxy_response
from graphtape.proxy.marks import log_findings, mark_flow
from graphtape.proxy.state import FlowState, attach, state_of
from graphtape.scope import Scope
from graphtape.session.describe import short_path
from graphtape.session.exchanges import Exchange, Session

if TYPE_CHECKING:
    from graphtape.proxy.modes.base import ModeHandler

logger = logging.getLogger("graphtape")


def in_scope(url: str, scope: Scope) -> tuple[bool, GraphUrl | None]:
    """Whether graphtape takes the call (``Scope.covers``: Microsoft Graph /v1.0 and /beta URLs, and the upload
    URLs the session's answers named), and the URL split as Graph reads it (the request's view keeps that parse;
    None for an upload URL).

    Every other call passes through untouched in record and inspect, and is answered offline in replay.
    """
    graph_url = parse_graph_url(url)
    return graph_url is not None or scope.session(url) is not None, graph_url


# ---------------------------------------------------------------------- the hooks

Pending = Coroutine[Any, Any, None] | None  # a delayed request: mitmproxy awaits the rest of its pipeline


def request(flow: http.HTTPFlow, handler: ModeHandler) -> Pending:
    if not handler.active or flow.response is not None:  # answered already (proxyauth's 407): not over it
        return None
    streamed = state_of(flow)
    if streamed is not None and streamed.streamed:  # requestheaders took it: its body went on already
        return None
    url = canonical_url(flow)
    before, state = len(handler.session.exchanges), None
    try:
        taken, graph_url = in_scope(url, handler.scope)
        if not taken:
            handler.outside(flow, url)
            return None
        state = attach(flow, FlowState(url, handler))
        return _stages(flow, state, handler, graph_url, before)
    except Exception as e:  # never let a bug send a request on, nor pass for a recorded or replayed call
        logger.exception(f"graphtape: {handler.mode} failed")
        failed(flow, state, handler, url, e, before)
        return None


def _stages(flow: http.HTTPFlow, state: FlowState, handler: ModeHandler, graph_url: GraphUrl | None,
            before: int) -> Pending:
    if not handler.admit(flow, state):
        return None
    try:
        req = handler.view(request_of(flow, state.url, graph_url))  # parse: the one view every later stage reads
    except BodyTooLarge as e:
        handler.too_large(flow, state, e)
        return None
    state.request = req
    injector = handler.shared.faults
    if injector is None:
        _checked(flow, state, handler)
        return None

    def go_on() -> None:  # after the fault stage (maybe later, on the loop): failures handled as in request
        try:
            _checked(flow, state, handler)
        except Exception as e:
            logger.exception(f"graphtape: {handler.mode} failed")
            failed(flow, state, handler, state.url, e, before)

    pending = faults.inject(flow, state, injector, handler.session, go_on)  # before validate: a fault answers first
    return _guarded(pending, flow, state, handler, before) if pending is not None else None


async def _guarded(pending: Coroutine[Any, Any, None], flow: http.HTTPFlow, state: FlowState, handler: ModeHandler,
                   before: int) -> None:
    """A delayed request: a bug after the delay is answered 500 as in ``request`` (never sent on unchecked)."""
    try:
        await pending
    except Exception as e:
        logger.exception(f"graphtape: {handler.mode} failed")
        failed(flow, state, handler, state.url, e, before)


def _checked(flow: http.HTTPFlow, state: FlowState, handler: ModeHandler) -> None:
    req = state.request
    assert req is not None
    state.findings = validate(req, handler.scope)
    rejection = enforce(req, state.findings, enforcing=handler.enforcing)
    if rejection is not None:
        reject(flow, state, handler.session, rejection)
        return
    handler.request(flow, state)


def response(flow: http.HTTPFlow) -> None:
    state = state_of(flow)
    if state is not None and state.fault is not None:
        faults.answered(flow, state.fault, lambda: _respond(flow, state))
    elif state is not None:
        _respond(flow, state)


def _respond(flow: http.HTTPFlow, state: FlowState) -> None:
    if state.handler is not None:
        state.handler.response(flow, state)
        state.done()


def error(flow: http.HTTPFlow) -> None:
    state = state_of(flow)
    if state is not None and state.fault is not None:
        faults.failed(state.fault, lambda: _fail(flow, state))
    elif state is not None:
        _fail(flow, state)


def _fail(flow: http.HTTPFlow, state: FlowState) -> None:
    if state.handler is not None:
        state.handler.error(flow, state)
        state.done()


# ---------------------------------------------------------------------- the stages every mode shares

def validate(req: HttpRequest, scope: Scope) -> list[Finding]:
    """The request's contract findings (``Scope.check``: an upload chunk against its session, any other request
    through ``validate_request``), secrets scrubbed from their messages."""
    return scrub_findings(scope.check(req))


def enforce(req: HttpRequest, findings: Sequence[Finding], *, enforcing: bool) -> HttpResponse | None:
    """Graph's documented answer to a request with contract errors, when enforcing; None: it goes on (a $batch whose
    errors are all its items' own: without them, ``contract.batch_enforce``)."""
    if not enforcing or not any(f.severity == "error" for f in findings):
        return None
    return enforce_request(req, findings)


def reject(flow: http.HTTPFlow, state: FlowState, session: Session, rejection: HttpResponse) -> None:
    """Answer with Graph's error: not sent, not recorded, not replayed (and no recorded answer used up)."""
    assert state.request is not None
    errors = [f for f in state.findings if f.severity == "error"]
    ex = settle(session, state.request.method, state.request.url, Outcome.REJECTED, rejection.status,
                findings=state.findings, note="; ".join(f.line() for f in errors[:3]))
    answer(flow, state, rejection)
    report(flow, ex)


def failed(flow: http.HTTPFlow, state: FlowState | None, handler: ModeHandler, url: str, e: Exception,
           before: int) -> None:
    """A bug in graphtape: the client gets a 500 in Graph's error shape, and the session fails naming it."""
    session = handler.session
    started = session.exchanges[before:]  # the mode may have counted the call before it failed
    ex = started[0] if started else session.start(flow.request.method, url)
    ex.outcome, ex.status = Outcome.FAILED, 500
    ex.note = handler.shared.scrub(f"graphtape failed to {handler.mode} it: {e!r} (a bug in graphtape: please "
                                   "report it)")
    problem(session, ex, ex.note, log=False)  # logged with its traceback already
    handler.shared.inflight.finish(flow.id)  # not sent: nothing to wait for
    answer(flow, state, error_response(500, "graphtape.InternalError", ex.note))
    mark_flow(flow, ex)


# ---------------------------------------------------------------------- session entries, answers, reports

def settle(session: Session, method: str, url: str, outcome: Outcome, status: int | None = None, *,
           findings: Sequence[Finding] = (), note: str = "") -> Exchange:
    """A new entry in ``session`` for a request whose fate is known."""
    ex = session.start(method, url)
    ex.outcome, ex.status, ex.findings, ex.note = outcome, status, list(findings), note
    return ex


def problem(session: Session, ex: Exchange, why: str, *, log: bool = True) -> None:
    """Something that must fail the run happened to ``ex``: the session names it (and so does the log)."""
    line = f"#{ex.number} {ex.method} {short_path(ex.url)}: {why}"
    session.problems.append(line)
    if log:
        logger.error(f"graphtape: {line}")


def answer(flow: http.HTTPFlow, state: FlowState | None, resp: HttpResponse) -> None:
    """graphtape answers the request itself: nothing goes upstream, and no later hook has anything to do."""
    flow.response = to_mitmproxy_response(resp)
    if state is not None:
        state.done()


def report(flow: http.HTTPFlow, ex: Exchange) -> None:
    """mitmweb's mark and comment; unless quiet, a log line, the findings and deviations, and why it missed."""
    mark_flow(flow, ex)
    if ctx.options.graphtape_quiet:
        return
    which = f"interaction {ex.interaction + 1}" if ex.interaction is not None else ex.outcome
    logger.info(f"graphtape: {ex.method} {short_path(ex.url)} -> {ex.status} ({which})")
    log_findings(ex)
    if ex.note and ex.interaction is None and not (ex.outcome == Outcome.REJECTED and ex.findings):
        logger.warning(f"graphtape:   {ex.note}")  # a rejection's note repeats its errors, logged above
