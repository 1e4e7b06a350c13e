"""Record: calls tracked from request to answer, written down before their client gets the answer, and a
graphtape error instead of the answer for any call that could not be (see inflight.py for stopping)."""

from __future__ import annotations

import datetime as _dt
import logging
import sys
from pathlib import Path
from typing import Any

from mitmproxy import ctx, http

from graphtape.bodies.limits import BodyTooLarge
from graphtape.cassette.recorder import Recorder, RecorderClosed, RecordMode, RecordRefused
from graphtape.contract import validate_response
from graphtape.graph import error_response
from graphtape.model import Interaction, Mode, Outcome
from graphtape.privacy.output import scrub_findings
from graphtape.proxy.flows import request_of, response_of, to_mitmproxy_response
from graphtape.proxy.inflight import Call, InFlight
from graphtape.proxy.marks import log_findings, mark_flow
from graphtape.proxy.modes.base import ModeHandler, Shared
from graphtape.proxy.modes.forward import Forwarding, duration_ms, kept
from graphtape.proxy.options import OPENED_BY, RECORDER_OPENED_BY
from graphtape.proxy.pipeline import answer, problem, settle
from graphtape.proxy.state import FlowState
from graphtape.session.describe import short_path
from graphtape.session.exchanges import Exchange, Session

logger = logging.getLogger("graphtape")


class RecordHandler(Forwarding):
    mode = Mode.RECORD
    needs_cassette = True
    opened_by = OPENED_BY | RECORDER_OPENED_BY

    def __init__(self, session: Session, shared: Shared, recorder: Recorder) -> None:
        super().__init__(session, shared)
        self.recorder: Recorder | None = recorder
        self.pseudonymizer = recorder.pseudonymizer
        self.inflight = shared.inflight

    @classmethod
    def open(cls, session: Session, shared: Shared) -> ModeHandler:
        opts = ctx.options
        return cls(session, shared, Recorder(Path(session.cassette), RecordMode(opts.graphtape_record_mode),
                                             shared.redactor, pseudonymize=opts.graphtape_pseudonymize,
                                             fsync=opts.graphtape_fsync,
                                             upload_bodies=opts.graphtape_upload_bodies))

    def retune(self, updated: set[str], opts: Any) -> None:
        if self.recorder is not None and "graphtape_fsync" in updated:
            self.recorder.fsync = opts.graphtape_fsync

    # ------------------------------------------------------------------ from request to answer

    def streaming(self, flow: http.HTTPFlow, state: FlowState) -> None:
        if self.recorder is not None and not self.recorder.closed:  # on its way: not refused while stopping,
            self._track(flow, state)  # but waited for

    def admit(self, flow: http.HTTPFlow, state: FlowState) -> bool:
        """While stopping, a new call is refused (503, not sent): the recording is about to close."""
        if self.recorder is not None and not self.recorder.closed and not self.inflight.stopping:
            return True
        ex = settle(self.session, flow.request.method, state.url, Outcome.NOT_RECORDED, 503,
                    note="not sent: it came while graphtape was stopping")
        problem(self.session, ex, ex.note)
        answer(flow, state, error_response(503, "graphtape.ShuttingDown",
                                           "graphtape is stopping: this call was not sent to Graph, not recorded"))
        return False

    def request(self, flow: http.HTTPFlow, state: FlowState) -> None:
        super().request(flow, state)
        self._track(flow, state)

    def too_large(self, flow: http.HTTPFlow, state: FlowState, e: BodyTooLarge) -> None:
        super().too_large(flow, state, e)
        self._track(flow, state)  # its answer names it not recorded

    def _track(self, flow: http.HTTPFlow, state: FlowState) -> None:
        """In flight until its answer is recorded: stopping waits for it."""
        assert self.recorder is not None
        self.inflight.start(flow.id, Call(flow.request.method, state.url, self.recorder, self.session))

    def answered(self, flow: http.HTTPFlow, state: FlowState) -> None:
        if self.inflight.was_abandoned(flow.id):  # counted as not recorded already: it must not look answered
            answer_not_recorded(flow, 503, "graphtape.ShuttingDown",
                                "graphtape stopped recording before this call's answer came")
            return
        call = self.inflight.finish(flow.id)
        if call is not None and flow.response is not None and kept(call.url):
            self._record(flow, state, call)

    def error(self, flow: http.HTTPFlow, state: FlowState) -> None:
        if self.inflight.was_abandoned(flow.id):
            return  # counted as not recorded already
        call = self.inflight.finish(flow.id)
        if call is not None:
            self.failed_upstream(flow, state, call.session, fails=True)

    # ------------------------------------------------------------------ writing it down

    def _record(self, flow: http.HTTPFlow, state: FlowState, call: Call) -> None:
        """Write the call down before its client gets the answer; one that cannot be is answered with a
        graphtape error instead (the client must not believe it was recorded), and fails the session."""
        holder = _ExchangeHolder()
        try:
            self._write_down(flow, state, call, holder)
        except BodyTooLarge as e:  # streamed through already: it cannot be taken back, only named
            self._unrecorded(flow, call, holder, str(e))
        except RecordRefused as e:  # a secret in it: the client has its answer, the session names the call
            self._unrecorded(flow, call, holder, str(e))
        except OSError as e:
            where = f"cannot write {call.recorder.path}: {e}; the file holds what it held"
            self._not_recorded(flow, call, holder, 507, "graphtape.RecordFailed", where)
        except RecorderClosed as e:
            self._not_recorded(flow, call, holder, 503, "graphtape.ShuttingDown", str(e))
        except Exception as e:  # a bug must not pass for a recorded call
            logger.exception("graphtape: recording failed")
            self._not_recorded(flow, call, holder, 500, "graphtape.InternalError",
                               f"graphtape failed to record it: {e!r} (a bug in graphtape: please report it)")

    def _write_down(self, flow: http.HTTPFlow, state: FlowState, call: Call, holder: _ExchangeHolder) -> None:
        assert flow.response is not None
        req = state.request or request_of(flow, call.url)  # not parsed yet: its body is too large (raises)
        resp = response_of(flow.response)
        ex = holder.ex = settle(call.session, req.method, call.url, Outcome.PENDING, resp.status,
                                findings=[*state.findings, *scrub_findings(validate_response(req, resp))])
        mark_flow(flow, ex)
        log_findings(ex)
        recorded_at = _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        ex.interaction = call.recorder.add(Interaction(req, resp, recorded_at, duration_ms(flow)))
        ex.outcome = Outcome.RECORDED
        if not ctx.options.graphtape_quiet:
            logger.info(f"graphtape: recorded #{ex.interaction + 1} {req.method} {short_path(ex.url)} "
                        f"-> {resp.status}")

    def _exchange(self, flow: http.HTTPFlow, call: Call, holder: _ExchangeHolder) -> Exchange:
        if holder.ex is None:
            status = flow.response.status_code if flow.response is not None else None
            holder.ex = settle(call.session, flow.request.method, call.url, Outcome.PENDING, status)
        return holder.ex

    def _unrecorded(self, flow: http.HTTPFlow, call: Call, holder: _ExchangeHolder, why: str) -> None:
        """Not written down; the client has its answer all the same, and the session names the call."""
        ex = self._exchange(flow, call, holder)
        ex.outcome, ex.note = Outcome.NOT_RECORDED, why
        problem(call.session, ex, why)

    def _not_recorded(self, flow: http.HTTPFlow, call: Call, holder: _ExchangeHolder, status: int, code: str,
                      why: str) -> None:
        ex = self._exchange(flow, call, holder)
        upstream = flow.response.status_code if flow.response is not None else None
        ex.outcome, ex.note = Outcome.NOT_RECORDED, f"not recorded ({why}); its client got {status} {code} instead " \
                                                    f"of Graph's {upstream} answer"
        problem(call.session, ex, ex.note)
        answer_not_recorded(flow, status, code, f"graphtape could not record this call, so it does not pass "
                                                f"on Graph's answer ({upstream}; Graph did get the call): {why}")
        mark_flow(flow, ex)

    # ------------------------------------------------------------------ stopping

    def close(self) -> None:
        """Calls still in flight are abandoned (named not recorded), then the cassette is closed."""
        recorder, self.recorder = self.recorder, None
        if recorder is None:
            return
        for call in self.inflight.abandon(recorder):  # before the close: nothing is written after it
            ex = settle(call.session, call.method, call.url, Outcome.NOT_RECORDED,
                        note="still waiting for its answer when recording stopped; not recorded")
            problem(call.session, ex, ex.note)
        untouched = recorder.untouched
        try:
            recorder.close()
        except OSError as e:
            self.session.problems.append(f"cannot sync {recorder.path} to disk: {e}")
            logger.error(f"graphtape: cannot sync {recorder.path} to disk: {e}")
        except Exception as e:  # a bug must not pass for a cassette safely on disk
            logger.exception("graphtape: closing the recording failed")
            self.session.problems.append(f"closing {recorder.path} failed: {e!r} (a bug in graphtape)")
        if untouched:
            logger.info(f"graphtape: nothing recorded; {recorder.path} is left as it was")


class _ExchangeHolder:
    """The exchange of a call being recorded, once there is one (so a failure later does not count it twice)."""

    ex: Exchange | None = None


async def drain(inflight: InFlight, timeout: float) -> None:
    """Before stopping: refuse new calls, and wait (``timeout`` at most) for those in flight to be recorded."""
    if inflight:  # even with --quiet: a stop that takes seconds must say why
        print(f"graphtape: stopping: waiting up to {timeout:g} s for {len(inflight)} call(s) in flight "
              "to be answered and recorded (Ctrl-C again to stop now)", file=sys.stderr, flush=True)
    await inflight.wait(timeout)


def answer_not_recorded(flow: http.HTTPFlow, status: int, code: str, message: str) -> None:
    """Replace the upstream's answer (the response hook runs before it is sent on) with a graphtape error."""
    flow.response = to_mitmproxy_response(error_response(status, code, message))
