"""Off, and a mode that could not be opened."""

from __future__ import annotations

from mitmproxy import http
from mitmproxy.proxy import server_hooks

from graphtape.graph import error_response
from graphtape.model import Mode, Outcome
from graphtape.proxy.modes.base import ModeHandler, Shared
from graphtape.proxy.pipeline import answer, problem, settle
from graphtape.proxy.state import FlowState
from graphtape.session.exchanges import Session


class OffHandler(ModeHandler):
    """graphtape does nothing: every flow passes untouched, and the proxy's options are left as they are."""

    mode = Mode.OFF
    active = False
    large_bodies = "untouched"


class UnopenedHandler(ModeHandler):
    """What runs while the cassette of ``mode`` is not open (opening it failed, and the options were not rolled
    back to a mode that opens): every request is refused, offline, and each fails the session."""

    opened = False

    def __init__(self, mode: Mode, session: Session, shared: Shared) -> None:
        super().__init__(session, shared)
        self.mode = mode

    def server_connect(self, data: server_hooks.ServerConnectionHookData) -> None:
        data.server.error = f"graphtape: the {self.mode} is not set up: no upstream connections"

    def outside(self, flow: http.HTTPFlow, url: str) -> None:
        self._refuse(flow, None, url)

    def admit(self, flow: http.HTTPFlow, state: FlowState) -> bool:
        self._refuse(flow, state, state.url)
        return False

    def _refuse(self, flow: http.HTTPFlow, state: FlowState | None, url: str) -> None:
        why = f"not sent: the {self.mode} of {self.session.cassette or 'no cassette'} is not set up (see the log)"
        ex = settle(self.session, flow.request.method, url, Outcome.FAILED, 503, note=why)
        problem(self.session, ex, why)
        answer(flow, state, error_response(503, "graphtape.NotSetUp", f"graphtape: {why}"))
