"""Simulate: every Graph call answered offline from an in-memory mailbox (``graphtape.simulate.Simulator``).

Nothing is ever sent upstream. The pipeline's validate/enforce runs first (in ``auto`` the contract's refusals
are answered with Graph's error, as in replay); then the simulator answers. A call it does not simulate gets its
501 ``graphtape.NotSimulated``, counted as unmatched (``--fail-on unmatched`` fails the session on it). Outside
Graph: the sign-in endpoints get replay's offline answers (``graphtape.signin``); the upload URLs the simulator
issued are answered by it (and, once a createUploadSession answer named them, checked chunk by chunk like Graph
calls, ``Scope.learn``; in reverse mode, where they come to the proxy's own address, known by their path);
``GET https://graph.microsoft.com/_graphtape/mailboxes`` answers the state as JSON
(simstate.py); everything else is refused as in replay. ``graphtape_simulate_dump`` gets the state as a fixture
YAML when the session ends.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import unquote, urlsplit, urlunsplit

from mitmproxy import ctx, http
from mitmproxy.proxy import mode_specs, server_hooks

from graphtape.bodies.limits import BodyTooLarge
from graphtape.graph import error_response
from graphtape.model import HttpResponse, Mode, Outcome, header
from graphtape.proxy.flows import request_of
from graphtape.proxy.modes.base import ModeHandler, Shared
from graphtape.proxy.options import OPENED_BY, SIMULATE_OPENED_BY
from graphtape.proxy.pipeline import answer, enforce, reject, report, settle, validate
from graphtape.proxy.simstate import NOT_SIMULATED, SimSettings, is_state_url, state_response, write_dump
from graphtape.proxy.state import FlowState, attach
from graphtape.replay.pipeline import OUTSIDE_NOTE, UNMATCHED_STATUS, outside_graph
from graphtape.session.exchanges import Session
from graphtape.signin import answer as offline_signin
from graphtape.signin.urls import parse_endpoint
from graphtape.simulate.uploads import SESSION_PATH

if TYPE_CHECKING:
    from graphtape.simulate import Simulator


class SimulateHandler(ModeHandler):
    mode = Mode.SIMULATE
    enforces = True  # graphtape_policy=auto: contract errors answered as Graph documents them
    large_bodies = "refuse"
    opened_by: ClassVar[frozenset[str]] = OPENED_BY | SIMULATE_OPENED_BY

    def __init__(self, session: Session, shared: Shared, simulator: Simulator, settings: SimSettings) -> None:
        super().__init__(session, shared)
        self.simulator = simulator
        self.settings = settings
        self._dumped = False

    @classmethod
    def open(cls, session: Session, shared: Shared) -> ModeHandler:
        """A simulator from the options (a bad seed, clock or dump path: ValueError, refused at start)."""
        settings = SimSettings.from_options(ctx.options)
        kept = shared.simulation
        if kept is not None and not settings.fresh and kept[0] == settings.key:
            simulator = kept[1]  # the mailboxes the last session with this seed left
        else:
            simulator = settings.new_simulator()
        shared.simulation = (settings.key, simulator)
        return cls(session, shared, simulator, settings)

    def close(self) -> None:
        """The session ends: the state goes to ``graphtape_simulate_dump`` (once, atomically)."""
        if self._dumped or not self.settings.dump:
            return
        self._dumped = True
        try:
            write_dump(self.settings.dump, self.simulator.dump())
        except Exception as e:  # never in the way of the session's end (its reports, its summary)
            why = e.strerror if isinstance(e, OSError) and e.strerror else f"{type(e).__name__}: {e}"
            self.session.problems.append(f"cannot write the simulated mailboxes to {self.settings.dump}: {why}")

    def server_connect(self, data: server_hooks.ServerConnectionHookData) -> None:
        # Offline, whatever a hook did or did not do (counted in the report, as replay counts it).
        self.session.upstream_refused += 1
        data.server.error = "graphtape simulate is offline: no upstream connections"

    def outside(self, flow: http.HTTPFlow, url: str) -> None:
        method = flow.request.method
        if is_state_url(url):
            ex = settle(self.session, method, url, Outcome.SIMULATED, 200, note="the simulated mailboxes' state")
            answer(flow, None, state_response(method, url, self.simulator.dump()))
            report(flow, ex)
            return
        if self.simulator.handles(url):  # an upload URL it issued, before any answer named it to the scope
            self._answer(flow, None, url)
            return
        upload_url = reverse_upload_url(flow, url, self.simulator.uploads.host)
        if upload_url is not None:
            self._upload(flow, upload_url)
            return
        signin = (offline_signin(request_of(flow, url))
                  if ctx.options.graphtape_signin and parse_endpoint(url) is not None else None)
        if signin is not None:
            ex = settle(self.session, method, url, Outcome.SIGNED_IN, signin.response.status, note=signin.refusal)
            answer(flow, None, signin.response)
            report(flow, ex)
            return
        ex = settle(self.session, method, url, Outcome.UNMATCHED, UNMATCHED_STATUS,
                    note=OUTSIDE_NOTE.replace("offline replay", "simulate"))
        answer(flow, None, outside_graph(method, url))
        report(flow, ex)

    def _upload(self, flow: http.HTTPFlow, url: str) -> None:
        """An upload call that came to the proxy's own address: checked against the contract, then answered."""
        state = attach(flow, FlowState(url, self))
        try:
            state.request = request_of(flow, url)
        except BodyTooLarge as e:
            self.too_large(flow, state, e)
            return
        state.findings = validate(state.request, self.scope)
        rejection = enforce(state.request, state.findings, enforcing=self.enforcing)
        if rejection is not None:
            reject(flow, state, self.session, rejection)
        else:
            self.request(flow, state)

    def too_large(self, flow: http.HTTPFlow, state: FlowState, e: BodyTooLarge) -> None:
        ex = settle(self.session, flow.request.method, state.url, Outcome.REJECTED, 413, note=str(e))
        answer(flow, state, error_response(413, "graphtape.BodyTooLarge", f"graphtape: {e}"))
        report(flow, ex)

    def request(self, flow: http.HTTPFlow, state: FlowState) -> None:
        self._answer(flow, state, state.url)

    def _answer(self, flow: http.HTTPFlow, state: FlowState | None, url: str) -> None:
        req = state.request if state is not None and state.request is not None else request_of(flow, url)
        at = time.monotonic()
        early = self.session.retries.arrived(req.key, at)  # a retry sooner than a 429 (or a fault) asked
        resp = self.simulator.answer(req)
        self.session.retries.answered(req.key, resp.status, header(resp.headers, "retry-after"), at)
        self.scope.learn(req, resp)  # an uploadUrl it named comes into scope: its chunks are checked
        outcome, note = outcome_of(resp)
        ex = settle(self.session, req.method, url, outcome, resp.status,
                    findings=[*(state.findings if state is not None else ()), *early], note=note)
        answer(flow, state, resp)
        report(flow, ex)


def reverse_upload_url(flow: http.HTTPFlow, url: str, host: str) -> str | None:
    """In reverse mode every call comes to the proxy's own address, upload chunks too (a recording proxy's
    ``--upstream-uploads``): a path of an upload session is the simulator's uploadUrl on its upload host."""
    if not isinstance(flow.client_conn.proxy_mode, mode_specs.ReverseMode):
        return None
    parts = urlsplit(url)
    if SESSION_PATH.match(unquote(parts.path)) is None:
        return None
    return urlunsplit(("https", host, parts.path, parts.query, ""))


def outcome_of(resp: HttpResponse) -> tuple[Outcome, str]:
    """SIMULATED, or UNMATCHED for the simulator's "not simulated" answer (with its message as the note)."""
    if resp.status != 501 or NOT_SIMULATED.encode() not in resp.body:
        return Outcome.SIMULATED, ""
    return Outcome.UNMATCHED, _message(resp) or "not simulated"


def _message(resp: HttpResponse) -> str:
    try:
        doc: Any = json.loads(resp.body)
        return f"{NOT_SIMULATED}: {doc['error']['message']}"
    except (ValueError, KeyError, TypeError):
        return ""
