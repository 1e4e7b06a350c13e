"""The mitmproxy addon: record, replay or inspect Microsoft Graph traffic.

Usable from ``graphtape`` (the CLI) and from ``mitmdump -s addon/graphtape/entry.py
--set graphtape_mode=replay --set graphtape_cassette=PATH`` (or mitmweb). All options share the
``graphtape_`` prefix. The addon keeps the options and the lifecycle; each flow goes through the request
pipeline (pipeline.py) to the running mode (modes/), chosen in ``configure``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from mitmproxy import ctx, exceptions, http
from mitmproxy.proxy import server_hooks

from graphtape.cassette.recorder import Recorder
from graphtape.model import Mode
from graphtape.proxy import pipeline, standalone
from graphtape.proxy.announce import announce, end_session
from graphtape.proxy.marks import mark_flow
from graphtape.proxy.modes.base import ModeHandler, Shared
from graphtape.proxy.modes.inspect import InspectHandler
from graphtape.proxy.modes.off import UnopenedHandler
from graphtape.proxy.modes.record import drain
from graphtape.proxy.options import declare, fit_mitmproxy, opening
from graphtape.proxy.setup import new_session, open_mode, reopens, take_settings
from graphtape.replay.pipeline import Replayer
from graphtape.session.exchanges import Session
from graphtape.views import mitm as views

__all__ = ["GraphTape", "mark_flow"]  # mark_flow: where it was


class GraphTape:
    """The addon. ``standalone``: loaded by ``mitmdump -s``/``mitmweb -s`` (entry.py), not by graphtape's own CLI:
    then it binds loopback unless ``listen_host`` was set, and a failed session ends mitmdump with exit status 3."""

    def __init__(self, *, standalone: bool = False) -> None:
        self.standalone = standalone
        self.loopback_by_default = False  # standalone, listen_host left unset: graphtape chose loopback
        self._tasks: set[asyncio.Task[None]] = set()
        self.shared = Shared()
        self.inflight = self.shared.inflight  # record: calls sent upstream, their answers not yet recorded
        self.handler: ModeHandler = InspectHandler(Session(mode=Mode.INSPECT), self.shared)
        self._opened: tuple[object, ...] = ()  # the options the running mode was opened with
        self._refused = False  # configure refused a value before changing anything; mitmproxy rolls it back
        self.start_line = ""
        self.listen: tuple[str, int] | None = None
        self.on_listen: Callable[[str, int], None] | None = None  # runtime.py's readiness signal, from running
        self.failures: list[str] = []

    @property
    def mode(self) -> Mode:
        return self.handler.mode

    @property
    def session(self) -> Session:
        return self.handler.session

    @property
    def recorder(self) -> Recorder | None:
        return self.handler.recorder

    @property
    def replayer(self) -> Replayer | None:
        return self.handler.replayer

    def load(self, loader: object) -> None:
        declare(loader)
        views.register()  # Graph-MIME and Graph-batch, in mitmweb and mitmdump's flow detail (views/mitm.py)

    def configure(self, updated: set[str]) -> None:
        opts = ctx.options
        rollback, self._refused = self._refused, False
        try:
            take_settings(self.shared, opts, updated, self.handler)
        except exceptions.OptionsError:  # refused before anything changed; mitmproxy's rollback configures again
            self._refused = True
            raise
        if self.standalone and "listen_host" in updated and not opts.has_changed("listen_host"):
            # mitmproxy's default "" is every interface: the proxy sees mail and tokens in clear
            self.loopback_by_default = True
            opts.update(listen_host=standalone.LOOPBACK)
        # A change of what the mode was opened with opens it anew (and a new session); a rollback to what runs
        # keeps it. Otherwise the same one goes on, retuned. The one place a mode is chosen: setup.open_mode.
        if reopens(updated, opts) and not (rollback and self._opened == opening(opts)):
            self._open(Mode(opts.graphtape_mode), opts.graphtape_cassette)
        else:
            self.handler.retune(updated, opts)
        fit_mitmproxy(self.handler.large_bodies)

    def reopen(self) -> None:
        """Open the mode and cassette the options name now (a new session), as ``configure`` does when they change
        (tapeswitch.py: the runtime's quick cassette switch); OptionsError if it cannot."""
        self._open(Mode(ctx.options.graphtape_mode), ctx.options.graphtape_cassette)
        fit_mitmproxy(self.handler.large_bodies)

    def _open(self, mode: Mode, cassette: str) -> None:
        self.handler.close()
        session = new_session(mode, cassette, self.shared)
        self.handler = UnopenedHandler(mode, session, self.shared)  # if opening fails: every call is refused
        self.handler = open_mode(mode, session, self.shared)
        self._opened = opening(ctx.options)

    # ------------------------------------------------------------------ lifecycle

    def running(self) -> None:
        if not self.handler.active:
            return
        ps = ctx.master.addons.get("proxyserver")
        if self.standalone and self.loopback_by_default and ps is not None and standalone.bound_elsewhere(ps):
            standalone.rebind_then(ps, list(ctx.options.mode), lambda: self._announce(ps), self._tasks)
        else:
            self._announce(ps)

    def _announce(self, ps: object) -> None:
        self.listen = standalone.listening(ps, ctx.options.listen_host, ctx.options.listen_port)
        self.start_line = announce(self.mode, self.listen, warn_exposed=self.standalone,
                                   on_listen=self.on_listen)

    def current_session(self) -> Session:
        """The session so far, its unused interactions (replay) brought up to date; call it on the proxy's loop.

        The pytest plugin calls it before switching cassettes: the next ``configure`` starts a new Session.
        """
        self.handler.finish()
        return self.handler.session

    async def drain(self, timeout: float) -> None:
        """Before stopping: refuse new calls, and wait (``timeout`` at most) for those in flight to be recorded."""
        await drain(self.shared.inflight, timeout)

    def done(self) -> None:
        if not self.handler.active:
            return
        self.handler.close()
        self.handler.finish()
        self.failures = end_session(self.handler.session, self.shared.fail_on, self.shared.scrub)
        if self.failures and self.standalone:
            standalone.exit_when_mitmproxy_is_done()

    # ------------------------------------------------------------------ traffic: to the pipeline and the mode

    def server_connect(self, data: server_hooks.ServerConnectionHookData) -> None:
        self.handler.server_connect(data)

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        self.handler.requestheaders(flow)

    def request(self, flow: http.HTTPFlow) -> pipeline.Pending:
        return pipeline.request(flow, self.handler)  # a coroutine for a delayed request (faults): awaited

    def response(self, flow: http.HTTPFlow) -> None:
        pipeline.response(flow)

    def error(self, flow: http.HTTPFlow) -> None:
        pipeline.error(flow)
