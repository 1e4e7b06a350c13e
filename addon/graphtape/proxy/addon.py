"""The mitmproxy addon: record, replay or inspect Microsoft Graph traffic.

Usable from ``graphtape`` (the CLI) and from ``mitmdump -s addon/graphtape/entry.py
--set graphtape_mode=replay --set graphtape_cassette=PATH`` (or mitmweb). All options share the
``graphtape_`` prefix.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mitmproxy import ctx, exceptions, http
from mitmproxy.proxy import server_hooks

from graphtape.bodies.limits import BodyTooLarge, max_body_bytes
from graphtape.cassette.format import CassetteError
from graphtape.cassette.recorder import Recorder, RecordMode
from graphtape.config import ConfigError
from graphtape.model import Mode, Outcome
from graphtape.privacy.output import ScrubFilter, output_scrubber, scrub_findings, scrub_text
from graphtape.privacy.pseudonymize import Pseudonymizer
from graphtape.privacy.redaction import Redactor
from graphtape.proxy import standalone
from graphtape.proxy.batch_live import enforce_live, splice_live
from graphtape.proxy.choices import check_choices
from graphtape.proxy.flows import ca_cert_path, canonical_url, request_of, to_mitmproxy_response
from graphtape.proxy.inflight import Call, InFlight
from graphtape.proxy.inspect_mode import InspectHooks
from graphtape.proxy.marks import log_findings, mark_flow
from graphtape.proxy.options import REPLAY_TUNING, declare, defining, limit_bodies, opening
from graphtape.proxy.record import RecordHooks, answer_not_recorded
from graphtape.proxy.replay_mode import ReplayHooks, replay_steps
from graphtape.proxy.startline import format_start_line
from graphtape.proxy.uploads import learn_answer, route
from graphtape.proxy.upstream import Upstream, route_upstream
from graphtape.replay.pipeline import Replayer
from graphtape.scope import Scope
from graphtape.session.describe import short_path
from graphtape.session.exchanges import Session
from graphtape.session.report import write_reports
from graphtape.session.verdict import DEFAULT_FAIL_ON, failures, parse_fail_on

logger = logging.getLogger("graphtape")
_LOG_SCRUB = ScrubFilter()  # every graphtape log line is scrubbed (secrets; fake identities with --pseudonymize)
logger.addFilter(_LOG_SCRUB)

__all__ = ["GraphTape", "mark_flow", "replay_steps"]  # mark_flow, replay_steps: where they were


class GraphTape(RecordHooks, ReplayHooks, InspectHooks):
    """The addon. ``standalone``: loaded by ``mitmdump -s``/``mitmweb -s`` (entry.py), not by graphtape's own CLI:
    then it binds loopback unless ``listen_host`` was set, and a failed session ends mitmdump with exit status 3."""

    def __init__(self, *, standalone: bool = False) -> None:
        self.standalone = standalone
        self.loopback_by_default = False  # standalone, listen_host left unset: graphtape chose loopback
        self._tasks: set[asyncio.Task[None]] = set()
        self.mode = Mode.INSPECT
        self.session = Session(mode=Mode.INSPECT)
        self.recorder: Recorder | None = None
        self.inflight = InFlight()  # record: calls sent upstream, their answers not yet recorded
        self.replayer: Replayer | None = None
        self.pseudonymizer: Pseudonymizer | None = None  # replay of a pseudonymized cassette
        self._tape_ignore: object = None  # replay: the cassette's meta.ignore
        self._opened: tuple[object, ...] = ()  # the options the running recording or replay was opened with
        self._refused = False  # configure refused a value before changing anything; mitmproxy rolls it back
        self.upstream: Upstream | None = None
        self.scope = Scope()  # what is in scope: Graph, and the upload URLs its answers named (scope.py)
        self.redactor = Redactor()
        self.start_line = ""
        self.listen: tuple[str, int] | None = None
        self.on_listen: Callable[[str, int], None] | None = None  # runtime.py's readiness signal, from running
        self.fail_on = DEFAULT_FAIL_ON
        self.failures: list[str] = []
        self.scrub: Callable[[str], str] = scrub_text  # applied to all graphtape prints and writes about traffic

    # ------------------------------------------------------------------ options

    def load(self, loader: object) -> None:
        declare(loader)

    def configure(self, updated: set[str]) -> None:
        opts = ctx.options
        rollback, self._refused = self._refused, False
        try:
            self._take_settings(opts, updated)
        except exceptions.OptionsError:
            # Refused before anything was opened; mitmproxy's rollback configures the old values again.
            self._refused = True
            raise
        if self.standalone and "listen_host" in updated and not opts.has_changed("listen_host"):
            # mitmproxy's default "" is every interface: the proxy sees mail and tokens in clear
            self.loopback_by_default = True
            opts.update(listen_host=standalone.LOOPBACK)
        # A change of what the recording or replay was opened with opens a new one (and a new session); a
        # rollback to what runs keeps it.
        if updated & defining(opts.graphtape_mode) and not (rollback and self._opened == opening(opts)):
            self._setup(Mode(opts.graphtape_mode), opts.graphtape_cassette)
        else:  # the same one goes on, retuned
            if self.recorder is not None and "graphtape_fsync" in updated:
                self.recorder.fsync = opts.graphtape_fsync
            if updated & REPLAY_TUNING:
                self._retune_replay()
        if self.mode != Mode.OFF and opts.connection_strategy != "lazy":
            # Replay must not connect upstream when a client CONNECTs; record/inspect connect per request.
            opts.update(connection_strategy="lazy")
        limit_bodies(self.mode)

    def _take_settings(self, opts: Any, updated: set[str]) -> None:
        """The options that open nothing, checked (OptionsError) and taken."""
        check_choices(opts, updated)
        try:
            max_body_bytes()  # a bad GRAPHTAPE_MAX_BODY_MB: refused at start, not in every request later
            if "graphtape_upstream" in updated or "graphtape_upstream_signin" in updated:
                self.upstream = (Upstream(opts.graphtape_upstream, signin=opts.graphtape_upstream_signin)
                                 if opts.graphtape_upstream else None)
            if "graphtape_fail_on" in updated:
                self.fail_on = parse_fail_on(opts.graphtape_fail_on)
        except ValueError as e:
            raise exceptions.OptionsError(str(e)) from e
        if "graphtape_redact_headers" in updated or "graphtape_redact_params" in updated:
            self.redactor = Redactor.with_extra(opts.graphtape_redact_headers, opts.graphtape_redact_params)
            if self.recorder is not None:  # the recording goes on: from now on it redacts these too
                self.recorder.redactor = self.redactor

    @property
    def enforcing(self) -> bool:
        policy = ctx.options.graphtape_policy
        return policy == "enforce" or (policy == "auto" and self.mode == Mode.REPLAY)

    def _setup(self, mode: Mode, cassette: str) -> None:
        self._close_recorder()
        self.mode = mode
        self.replayer = None
        self.pseudonymizer = None
        self.scope = Scope()
        self.session = Session(mode=mode, cassette=cassette, redact_url=self.redactor.url)
        if mode in (Mode.RECORD, Mode.REPLAY) and not cassette:
            raise exceptions.OptionsError(f"graphtape: {mode} needs a cassette (set graphtape_cassette)")
        try:
            if mode == Mode.RECORD:
                self.recorder = Recorder(Path(cassette), RecordMode(ctx.options.graphtape_record_mode),
                                         self.redactor, pseudonymize=ctx.options.graphtape_pseudonymize,
                                         fsync=ctx.options.graphtape_fsync,
                                         upload_bodies=ctx.options.graphtape_upload_bodies)
            elif mode == Mode.REPLAY:
                self._open_replay(cassette)
        except (ValueError, ConfigError) as e:
            raise exceptions.OptionsError(str(e)) from e
        except CassetteError as e:
            raise exceptions.OptionsError(f"graphtape: {e}") from e
        except OSError as e:
            raise exceptions.OptionsError(f"graphtape: cannot write {cassette}: {e.strerror or e}") from e
        except Exception as e:  # mitmproxy only logs other errors in configure: replay would run with no cassette
            raise exceptions.OptionsError(f"graphtape: cannot {mode} {cassette}: {type(e).__name__}: {e} "
                                          "(a graphtape bug, or a hand-edited cassette it failed to refuse "
                                          "properly: run 'graphtape check' on it)") from e
        self._opened = opening(ctx.options)
        pseudonymizer = self.recorder.pseudonymizer if self.recorder is not None else self.pseudonymizer
        self.scrub = _LOG_SCRUB.scrub = output_scrubber(pseudonymizer.text if pseudonymizer else None)
        self.session.redact_url = lambda url: self.scrub(self.redactor.url(url))

    # ------------------------------------------------------------------ lifecycle

    def running(self) -> None:
        if self.mode == Mode.OFF:
            return
        ps = ctx.master.addons.get("proxyserver")
        if self.standalone and self.loopback_by_default and ps is not None and standalone.bound_elsewhere(ps):
            task = asyncio.get_running_loop().create_task(self._rebind_and_announce(ps))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return
        self._announce(ps)

    async def _rebind_and_announce(self, ps: object) -> None:
        await standalone.rebind(ps, list(ctx.options.mode))
        self._announce(ps)

    def _announce(self, ps: object) -> None:
        addrs = ps.listen_addrs() if ps is not None else []  # type: ignore[attr-defined]
        host, port = (addrs[0][0], addrs[0][1]) if addrs else (ctx.options.listen_host, ctx.options.listen_port)
        host = ctx.options.listen_host or host
        self.listen = (host, int(port))
        self.start_line = format_start_line(self.mode, host, int(port), ca_cert_path())
        warning = standalone.exposure_warning(host) if self.standalone else None
        if warning:
            print(warning, file=sys.stderr, flush=True)
        print(self.start_line, file=sys.stderr, flush=True)  # stdout belongs to what runs behind the proxy
        if self.on_listen is not None:
            self.on_listen(host, int(port))

    def current_session(self) -> Session:
        """The session so far, its unused interactions (replay) brought up to date; call it on the proxy's loop.

        The pytest plugin calls it before switching cassettes: the next ``configure`` starts a new Session.
        """
        if self.replayer is not None:
            self.replayer.finish()
        return self.session

    def done(self) -> None:
        if self.mode == Mode.OFF:
            return
        self._close_recorder()
        if self.replayer is not None:
            self.replayer.finish()
        self.failures = failures(self.session, self.fail_on)
        try:
            write_reports(self.session, ctx.options.graphtape_report, ctx.options.graphtape_junit, scrub=self.scrub)
        except OSError as e:
            self.failures.append(f"cannot write the report: {e}")
        for line in self.session.summary_lines():
            print(self.scrub(line), file=sys.stderr, flush=True)
        if self.failures:
            print(self.scrub(f"graphtape: the session fails: {'; '.join(self.failures)}"), file=sys.stderr,
                  flush=True)
            if self.standalone:
                standalone.exit_when_mitmproxy_is_done()

    # ------------------------------------------------------------------ traffic

    def server_connect(self, data: server_hooks.ServerConnectionHookData) -> None:
        if self.mode == Mode.REPLAY:
            # The last line of defence: replay is offline, whatever a hook did or did not do.
            data.server.error = "graphtape replay is offline: no upstream connections"

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        """A body over the limit streams to the server right after this hook: send it where record sends calls.

        (A chunked body that passes the limit part way streams to the host the client named; see limits.py.)
        """
        if self.mode not in (Mode.RECORD, Mode.INSPECT) or not flow.request.stream:
            return
        url = canonical_url(flow)
        route_upstream(self.upstream, flow, url)
        if self.scope.covers(url):
            flow.metadata.update(graphtape_url=url, graphtape_scope=True)
            if self.mode == Mode.RECORD and self.recorder is not None and not self.recorder.closed:
                # already on its way (streamed): not refused while stopping, but waited for
                self.inflight.start(flow.id, Call(flow.request.method, url, self.recorder, self.session))
        flow.metadata["graphtape_streamed"] = True

    def request(self, flow: http.HTTPFlow) -> None:
        if self.mode == Mode.OFF or flow.metadata.get("graphtape_streamed"):
            return
        if flow.response is not None:  # answered already (proxyauth's 407): replay must not answer over it
            return
        url = canonical_url(flow)
        flow.metadata["graphtape_url"] = url
        if self.mode == Mode.REPLAY:
            self._replay(flow, url)
            return
        if not self.scope.covers(url):  # out of scope: passes through untouched, never written down
            route_upstream(self.upstream, flow, url)
            return
        flow.metadata["graphtape_scope"] = True
        if self.mode == Mode.RECORD and not self._track(flow, url):
            return
        try:
            req = request_of(flow, url)  # as the client sent it
        except BodyTooLarge as e:  # passes through, unchecked; response() reports it unrecorded
            flow.metadata["graphtape_too_large"] = str(e)
            route_upstream(self.upstream, flow, url)
            return
        flow.metadata["graphtape_request"] = req
        findings = scrub_findings(self.scope.check(req)) + self.session.retries.arrived(req.key, time.monotonic())
        flow.metadata["graphtape_findings"] = findings
        if self.enforcing and any(f.severity == "error" for f in findings):
            rejection = enforce_live(flow, req, findings)  # None: sent (a $batch: without its refused items)
            if rejection is not None:  # not sent, not recorded: Graph would have refused it
                self.inflight.finish(flow.id)
                ex = self.session.start(req.method, url)
                ex.outcome, ex.status, ex.findings = Outcome.REJECTED, rejection.status, findings
                flow.response = to_mitmproxy_response(rejection)
                flow.metadata["graphtape_scope"] = False
                mark_flow(flow, ex)
                log_findings(ex)
                return
        route(self.upstream, self.scope, flow, url)

    def response(self, flow: http.HTTPFlow) -> None:
        learn_answer(self.scope, flow)
        if self.inflight.was_abandoned(flow.id):  # counted as not recorded already: it must not look answered
            answer_not_recorded(flow, 503, "graphtape.ShuttingDown",
                                 "graphtape stopped recording before this call's answer came")
            return
        if (req := flow.metadata.get("graphtape_request")) is not None and flow.response is not None:
            self.session.retries.answered(req.key, flow.response.status_code,
                                          flow.response.headers.get("retry-after"), time.monotonic())
        call = self.inflight.finish(flow.id)
        splice_live(flow)  # a $batch sent without its refused items: their errors join Graph's answer
        if call is not None:
            self._record(flow, call)
            return
        if self.mode != Mode.INSPECT or not flow.metadata.get("graphtape_scope"):
            return
        self._inspect(flow)

    def error(self, flow: http.HTTPFlow) -> None:
        if self.inflight.was_abandoned(flow.id):
            return  # counted as not recorded already
        call = self.inflight.finish(flow.id)
        if call is None and (self.mode != Mode.INSPECT or not flow.metadata.get("graphtape_scope")):
            return
        session = call.session if call is not None else self.session
        url = flow.metadata.get("graphtape_url", flow.request.url)
        ex = session.start(flow.request.method, url)
        ex.outcome = Outcome.FAILED
        ex.note = str(flow.error.msg if flow.error else "unknown error")
        ex.findings = list(flow.metadata.get("graphtape_findings", []))  # the request's: they count all the same
        mark_flow(flow, ex)
        logger.error(f"graphtape: {flow.request.method} {short_path(url)} failed upstream: {ex.note} "
                     "(nothing recorded for it)")
        log_findings(ex)
        if call is not None:  # the cassette lacks a call the client made: replay would not know it
            session.problems.append(f"#{ex.number} {flow.request.method} {short_path(url)} failed upstream "
                                    f"({ex.note}); not recorded")
