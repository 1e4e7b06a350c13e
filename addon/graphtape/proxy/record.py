"""The record half of the addon: calls tracked from request to answer, written down before their client gets
the answer, and a graphtape error instead of the answer for any call that could not be (see inflight.py)."""

from __future__ import annotations

import datetime as _dt
import logging
import sys
from urllib.parse import urlsplit

from mitmproxy import ctx, http

from graphtape.bodies.limits import BodyTooLarge
from graphtape.cassette.recorder import Recorder, RecorderClosed, RecordRefused
from graphtape.contract import validate_response
from graphtape.graph import error_response, is_token_endpoint
from graphtape.model import Interaction, Mode, Outcome
from graphtape.privacy.output import scrub_findings
from graphtape.proxy.flows import request_of, response_of, to_mitmproxy_response
from graphtape.proxy.inflight import Call, InFlight
from graphtape.proxy.marks import log_findings, mark_flow
from graphtape.session.describe import short_path
from graphtape.session.exchanges import Exchange, Session

logger = logging.getLogger("graphtape")


class RecordHooks:
    """Mixed into GraphTape: what record mode does between a call's request and its client's answer."""

    mode: Mode
    session: Session
    recorder: Recorder | None
    inflight: InFlight

    async def drain(self, timeout: float) -> None:
        """Before stopping: refuse new calls, and wait (``timeout`` at most) for those in flight to be recorded."""
        if self.inflight:  # even with --quiet: a stop that takes seconds must say why
            print(f"graphtape: stopping: waiting up to {timeout:g} s for {len(self.inflight)} call(s) in flight "
                  "to be answered and recorded (Ctrl-C again to stop now)", file=sys.stderr, flush=True)
        await self.inflight.wait(timeout)

    def _close_recorder(self) -> None:
        recorder, self.recorder = self.recorder, None
        if recorder is None:
            return
        for call in self.inflight.abandon(recorder):  # before the close: nothing is written after it
            ex = call.session.start(call.method, call.url)
            ex.outcome = Outcome.NOT_RECORDED
            ex.note = "still waiting for its answer when recording stopped; not recorded"
            call.session.problems.append(f"#{ex.number} {call.method} {short_path(call.url)}: {ex.note}")
            logger.error(f"graphtape: {call.method} {short_path(call.url)}: {ex.note}")
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

    def _track(self, flow: http.HTTPFlow, url: str) -> bool:
        """Record: count the call in flight until its answer is recorded; while stopping, refuse it (503,
        not sent). False when refused."""
        if self.mode != Mode.RECORD:
            return True
        method = flow.request.method
        if self.recorder is not None and not self.recorder.closed and not self.inflight.stopping:
            self.inflight.start(flow.id, Call(method, url, self.recorder, self.session))
            return True
        ex = self.session.start(method, url)
        ex.outcome, ex.status = Outcome.NOT_RECORDED, 503
        ex.note = "not sent: it came while graphtape was stopping"
        self.session.problems.append(f"#{ex.number} {method} {short_path(url)}: {ex.note}")
        logger.error(f"graphtape: {method} {short_path(url)}: {ex.note}")
        flow.response = to_mitmproxy_response(error_response(
            503, "graphtape.ShuttingDown", "graphtape is stopping: this call was not sent to Graph, not recorded"))
        flow.metadata["graphtape_scope"] = False
        return False

    def _record(self, flow: http.HTTPFlow, call: Call) -> None:
        """Write the call down before its client gets the answer; one that cannot be is answered with a
        graphtape error instead (the client must not believe it was recorded), and fails the session."""
        url, session, holder = call.url, call.session, _ExchangeHolder()
        answer = flow.response
        if is_token_endpoint(urlsplit(url).hostname or "", urlsplit(url).path) or answer is None:
            return
        try:
            self._write_down(flow, answer, call, holder)
        except BodyTooLarge as e:  # streamed through already: it cannot be taken back, only named
            ex = holder.ex or session.start(flow.request.method, url)
            ex.status, ex.note, ex.outcome = answer.status_code, str(e), Outcome.NOT_RECORDED
            session.problems.append(f"#{ex.number} {flow.request.method} {short_path(url)}: {e}")
            logger.error(f"graphtape: {flow.request.method} {short_path(url)} -> {ex.status}: {e}")
        except RecordRefused as e:  # a secret in it: the client has its answer, the session names the call
            ex = holder.ex or session.start(flow.request.method, url)
            ex.outcome, ex.note = Outcome.NOT_RECORDED, str(e)
            session.problems.append(f"#{ex.number} {flow.request.method} {short_path(url)}: {e}")
            logger.error(f"graphtape: {flow.request.method} {short_path(url)} {e}")
        except OSError as e:
            where = f"cannot write {call.recorder.path}: {e}; the file holds what it held"
            self._not_recorded(flow, call, holder, 507, "graphtape.RecordFailed", where)
        except RecorderClosed as e:
            self._not_recorded(flow, call, holder, 503, "graphtape.ShuttingDown", str(e))
        except Exception as e:  # a bug must not pass for a recorded call
            logger.exception("graphtape: recording failed")
            self._not_recorded(flow, call, holder, 500, "graphtape.InternalError",
                               f"graphtape failed to record it: {e!r} (a bug in graphtape: please report it)")

    def _write_down(self, flow: http.HTTPFlow, answer: http.Response, call: Call, holder: _ExchangeHolder) -> None:
        url = call.url
        req = flow.metadata.get("graphtape_request") or request_of(flow, url)
        resp = response_of(answer)
        ex = holder.ex = call.session.start(req.method, url)
        ex.status = resp.status
        ex.findings = [*flow.metadata.get("graphtape_findings", []), *scrub_findings(validate_response(req, resp))]
        mark_flow(flow, ex)
        log_findings(ex)
        recorded_at = _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        ex.interaction = call.recorder.add(Interaction(req, resp, recorded_at, duration_ms(flow)))
        ex.outcome = Outcome.RECORDED
        if not ctx.options.graphtape_quiet:
            logger.info(f"graphtape: recorded #{ex.interaction + 1} {req.method} {short_path(url)} -> {resp.status}")

    def _not_recorded(self, flow: http.HTTPFlow, call: Call, holder: _ExchangeHolder, status: int, code: str,
                      why: str) -> None:
        ex = holder.ex or call.session.start(flow.request.method, call.url)
        upstream = flow.response.status_code if flow.response is not None else None
        ex.outcome, ex.note = Outcome.NOT_RECORDED, f"not recorded ({why}); its client got {status} {code} instead " \
                                            f"of Graph's {upstream} answer"
        call.session.problems.append(f"#{ex.number} {call.method} {short_path(call.url)}: {ex.note}")
        logger.error(f"graphtape: {call.method} {short_path(call.url)}: {ex.note}")
        answer_not_recorded(flow, status, code, f"graphtape could not record this call, so it does not pass "
                                                 f"on Graph's answer ({upstream}; Graph did get the call): {why}")
        mark_flow(flow, ex)

class _ExchangeHolder:
    """The exchange of a call being recorded, once there is one (so a failure later does not count it twice)."""

    ex: Exchange | None = None


def duration_ms(flow: http.HTTPFlow) -> float | None:
    if flow.response is not None and flow.response.timestamp_end and flow.request.timestamp_start:
        return (flow.response.timestamp_end - flow.request.timestamp_start) * 1000
    return None


def answer_not_recorded(flow: http.HTTPFlow, status: int, code: str, message: str) -> None:
    """Replace the upstream's answer (the response hook runs before it is sent on) with a graphtape error."""
    flow.response = to_mitmproxy_response(error_response(status, code, message))
