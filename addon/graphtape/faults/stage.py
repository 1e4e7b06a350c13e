"""Stage "fault injection" of the request pipeline (``proxy/pipeline.py``), the same in every mode.

With faults set (``graphtape_faults``), each parsed request meets, in order: the limits model (``faults.limits``:
``Limiter.admit`` may answer Graph's 429; every admitted request is released when its answer or its error comes),
then the scripts and the random rates (``schedule.py``). A fault chosen:

- ``status``: answered here with Graph's error (``bodies.py``): not sent, not recorded, not replayed (the cassette's
  answer stays for the retry); ``reset``: the flow is killed, the client's connection closed with no answer;
- ``latency``: the rest of the pipeline runs that much later, on mitmproxy's loop (the hook returns a coroutine:
  other flows go on meanwhile); it may come before any other fault;
- ``empty`` / ``truncated``: the mode answers as it would (record: Graph's answer is recorded whole), then the
  client gets the answer without its body, or cut short with the connection closed.

Each fault injected goes into the session's ``FaultLog`` (the report, JUnit, the summary) and waits for its retry
in the session's Retry-After watch; the flow is marked for mitmweb. Without faults this module is not called.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from mitmproxy import http

from graphtape.contract.batch_enforce import Refusal
from graphtape.faults.bodies import fault_response
from graphtape.faults.config import Action, FaultsConfig, load_faults
from graphtape.faults.limits import Limiter, scaled
from graphtape.faults.limitsconfig import parse_scale
from graphtape.faults.record import FaultLog, InjectedFault
from graphtape.faults.schedule import Chosen, Schedule, new_seed
from graphtape.model import HttpRequest, HttpResponse, Outcome, header
from graphtape.proxy.batch_live import splice_live
from graphtape.proxy.state import FlowState
from graphtape.session.exchanges import Session
from graphtape.session.retries import retry_after_value


@dataclass
class Injector:
    """The faults of the running proxy: the config, the seed, and the state of this session's draws."""

    config: FaultsConfig
    seed: int
    scale: float = 1.0  # --faults-scale: the limits'
    time_scale: float = 1.0  # --faults-time-scale: the limits' windows and waits, every Retry-After served
    schedule: Schedule = field(init=False)
    log: FaultLog = field(init=False)
    limiter: Limiter | None = field(init=False)

    def __post_init__(self) -> None:
        self.start()

    def start(self) -> FaultLog:
        """A new session: counts, draws and limits start anew; returns the session's (empty) log."""
        self.schedule = Schedule(self.config, self.seed)
        self.log = FaultLog(self.config.where, self.seed)
        self.limiter = None
        if self.config.limits is not None:
            self.limiter = Limiter(scaled(self.config.limits, self.scale, self.time_scale))
        return self.log


OPTIONS = frozenset({"graphtape_faults", "graphtape_faults_seed", "graphtape_faults_scale",
                     "graphtape_faults_time_scale"})  # a change of one: the injector anew


def injector_from(opts: Any) -> Injector | None:
    """The options' faults (``graphtape_faults``, ``_seed``, ``_scale``, ``_time_scale``); None without faults.
    A bad value: ValueError (FaultsError) naming it."""
    config = load_faults(opts.graphtape_faults)
    if config is None:
        return None
    seed = opts.graphtape_faults_seed
    chosen = seed if seed is not None else config.seed if config.seed is not None else new_seed()
    return Injector(config, chosen, parse_scale(opts.graphtape_faults_scale, "graphtape_faults_scale"),
                    parse_scale(opts.graphtape_faults_time_scale, "graphtape_faults_time_scale"))


@dataclass
class FlowFault:
    """The fault stage's part of a flow's state (``FlowState.fault``)."""

    injector: Injector
    session: Session
    key: str
    admitted: HttpRequest | None = None  # what the limiter admitted: released once, when the answer or error comes
    refusal: Refusal | None = None  # a $batch's items the limiter refused: spliced into its answer
    fault: InjectedFault | None = None
    after: str = ""  # "empty" or "truncated": applied to the answer
    keep: float = 0.5


Next = Callable[[], None]


def inject(flow: http.HTTPFlow, state: FlowState, injector: Injector, session: Session,
           go_on: Next) -> Coroutine[Any, Any, None] | None:
    """The stage: answer, kill, delay or mark the request, or ``go_on`` with the pipeline (validate, the mode)."""
    req = state.request
    assert req is not None
    mark = state.fault = FlowFault(injector, session, req.key)
    if injector.limiter is not None:
        throttled = injector.limiter.admit(req)
        if throttled is not None:
            retry = header(throttled.headers, "retry-after")
            action = Action("status", status=throttled.status, retry_after=float(retry) if retry else None)
            _answer(flow, state, mark, _injected(mark, Chosen("limits", action), req, throttled), throttled)
            return None
        mark.admitted = req
        _throttled_items(flow, mark, injector.limiter, req)
    chosen = injector.schedule.choose(req.method, req.url, req.key)
    if chosen is None:
        go_on()
        return None
    fault = _injected(mark, chosen, req)
    if chosen.delay_s > 0:
        return _later(chosen.delay_s, lambda: _apply(flow, state, mark, chosen, fault, go_on))
    _apply(flow, state, mark, chosen, fault, go_on)
    return None


def _throttled_items(flow: http.HTTPFlow, mark: FlowFault, limiter: Limiter, req: HttpRequest) -> None:
    """A ``$batch`` some of whose items are over a limit: sent on without them (record, inspect), their 429s (and
    their dependants' 424s) spliced into its answer (``answered``), and one fault logged for them."""
    mark.refusal = limiter.refused_items(req)
    if mark.refusal is None:
        return
    if mark.refusal.forward is not None:
        flow.request.content = mark.refusal.forward
    statuses = sorted({int(a.get("status", 0)) for a in mark.refusal.answers.values()})
    action = Action("status", status=429)
    fault = _injected(mark, Chosen("limits", action), req)
    fault.description = (f"{len(mark.refusal.answers)} item(s) of the $batch answered "
                         f"{'/'.join(map(str, statuses))} (Outlook's limits)")


async def _later(delay_s: float, then: Next) -> None:
    await asyncio.sleep(delay_s)
    then()


def _injected(mark: FlowFault, chosen: Chosen, req: HttpRequest, resp: HttpResponse | None = None) -> InjectedFault:
    action = chosen.action
    retry_after = action.retry_after
    if chosen.source != "limits" and retry_after is not None:  # the limits' waits are scaled in the model
        retry_after = float(retry_after_value(retry_after * mark.injector.time_scale))
    description = _limited(resp) if resp is not None else action.describe()
    fault = mark.injector.log.add(source=chosen.source, kind=action.kind, method=req.method,
                                  url=mark.session.redact_url(req.url), description=description,
                                  status=action.status, retry_after=retry_after, delay_s=chosen.delay_s)
    if action.latency is not None and action.latency.dist:
        fault.description += f" (drew {chosen.delay_s:.3f} s)"
    mark.fault = fault
    return fault


def _limited(resp: HttpResponse) -> str:
    """The limits model's answer in a line: ``429 Application is over its MailboxConcurrency limit. Retry-After 1``."""
    if resp.status != 429:
        return f"{resp.status}: every item of the $batch over Outlook's limits"
    try:
        message = str(json.loads(resp.body)["error"]["message"])
    except (ValueError, KeyError, TypeError):
        message = "over Outlook's limits"
    return f"429 {message} Retry-After {header(resp.headers, 'retry-after')}"


def _apply(flow: http.HTTPFlow, state: FlowState, mark: FlowFault, chosen: Chosen, fault: InjectedFault,
           go_on: Next) -> None:
    action, req = chosen.action, state.request
    assert req is not None
    if action.kind == "status":
        assert action.status is not None
        served = retry_after_value(fault.retry_after) if fault.retry_after is not None else None
        resp = fault_response(action.status, retry_after=served, code=action.code, message=action.message,
                              client_request_id=header(req.headers, "client-request-id"))
        _answer(flow, state, mark, fault, resp)
    elif action.kind == "reset":
        _answer(flow, state, mark, fault, None)
    else:  # latency, empty, truncated: the mode answers
        mark.after, mark.keep = (action.kind if action.kind != "latency" else ""), action.keep
        _linked(fault, mark.session, go_on)


def _answer(flow: http.HTTPFlow, state: FlowState, mark: FlowFault, fault: InjectedFault,
            resp: HttpResponse | None) -> None:
    """The fault answers (``resp``), or kills the flow (None): the request is checked, not sent on."""
    from graphtape.proxy import pipeline

    req = state.request
    assert req is not None
    now = time.monotonic()
    state.findings = pipeline.validate(req, state.handler.scope) if state.handler is not None else []
    state.findings += mark.session.retries.arrived(req.key, now)  # it may itself be a retry too soon
    ex = pipeline.settle(mark.session, req.method, state.url, Outcome.FAULTED,
                         resp.status if resp is not None else None, findings=state.findings,
                         note=f"injected {fault.description} ({fault.source})")
    fault.exchange = ex.number
    mark.session.retries.faulted(req.key, now, fault.retried)
    if resp is None:
        state.done()
        flow.kill()  # the error hook follows: the limiter's release
    else:
        mark.session.retries.answered(req.key, resp.status, header(resp.headers, "retry-after"), now)
        pipeline.answer(flow, state, resp)
    pipeline.report(flow, ex)


def _linked(fault: InjectedFault, session: Session, call: Next) -> None:
    """Run ``call``; the session entry it started (if any) is the fault's."""
    before = len(session.exchanges)
    call()
    if fault.exchange is None and len(session.exchanges) > before:
        fault.exchange = session.exchanges[before].number


def answered(flow: http.HTTPFlow, mark: FlowFault, respond: Next) -> None:
    """The response hook of a flow the stage saw: the mode first (record keeps Graph's whole answer), then the
    answer emptied or cut short, and the limiter's release."""
    fault = mark.fault
    splice_live(flow, mark.refusal)  # before the mode reads it: the cassette keeps the answer the client got
    if fault is not None:
        _linked(fault, mark.session, respond)
    else:
        respond()
    if fault is not None and fault.kind not in ("status", "reset"):
        mark_fault(flow, fault)  # after the mode's own mark and comment
    if mark.after and flow.response is not None and fault is not None:
        alter(flow.response, mark.after, mark.keep)
        mark.session.retries.faulted(mark.key, time.monotonic(), fault.retried)
        mark.after = ""
    release(mark)


def failed(mark: FlowFault, fail: Next) -> None:
    """The error hook of a flow the stage saw (killed by a reset, or failed upstream)."""
    if mark.fault is not None:
        _linked(mark.fault, mark.session, fail)
    else:
        fail()
    release(mark)


def release(mark: FlowFault) -> None:
    admitted, mark.admitted = mark.admitted, None
    if admitted is not None and mark.injector.limiter is not None:
        mark.injector.limiter.release(admitted)


def alter(resp: http.Response, kind: str, keep: float) -> None:
    """``empty``: the answer's status and headers, no body. ``truncated``: the first ``keep`` of the body sent under
    the whole body's Content-Length, then the connection closed (the client reads an incomplete answer)."""
    raw = resp.raw_content or b""
    if "transfer-encoding" in resp.headers:
        del resp.headers["transfer-encoding"]
    if kind == "empty":
        resp.raw_content = b""
        resp.headers["content-length"] = "0"
        return
    resp.raw_content = raw[: int(len(raw) * keep)]
    resp.headers["content-length"] = str(len(raw))
    resp.headers["connection"] = "close"


def mark_fault(flow: http.HTTPFlow, fault: InjectedFault) -> None:
    """mitmweb: the flow marked, the fault in its comment (after what the mode wrote there)."""
    line = f"graphtape fault {fault.number} ({fault.source}): {fault.description}"
    flow.comment = f"{flow.comment}\n{line}" if flow.comment else line
    if not flow.marked:
        flow.marked = ":zap:"
