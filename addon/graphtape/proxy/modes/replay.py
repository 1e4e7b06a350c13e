"""Replay: a cassette opened, each request answered from it, offline (nothing is ever sent upstream).

A call out of scope meets the "offline answers" stage first: the sign-in endpoints of every cloud are answered
with graphtape's fake tokens (``graphtape.signin``, option ``graphtape_signin``), as the client sent them (never
pseudonymized: the tokens must name the app and tenant it asked for); any other call is refused as unmatched. A
matched ``$batch`` is served with the client's item ids and its refused items' errors (``replay.batch``).
"""

from __future__ import annotations

from typing import Any

from mitmproxy import ctx, exceptions, http
from mitmproxy.proxy import server_hooks

from graphtape.bodies.limits import BodyTooLarge
from graphtape.cassette.format import load_cassette
from graphtape.cassette.matchon import MatchOn, resolve_match_on
from graphtape.config import ConfigError, ignore_rules, load_project_config
from graphtape.diffing.ignore import IgnoreRules
from graphtape.graph import error_response
from graphtape.model import HttpRequest, Mode, Outcome
from graphtape.privacy.pseudonymize import Pseudonymizer
from graphtape.proxy.flows import request_of
from graphtape.proxy.modes.base import ModeHandler, Shared
from graphtape.proxy.options import REPLAY_TUNING
from graphtape.proxy.pipeline import answer, report, settle
from graphtape.proxy.state import FlowState
from graphtape.replay.batch import serve_batch
from graphtape.replay.expiry import Expiry, expiry_from
from graphtape.replay.pipeline import OUTSIDE_NOTE, UNMATCHED_STATUS, Replayer, outside_graph
from graphtape.scope import Scope
from graphtape.session.exchanges import Session
from graphtape.signin import answer as offline_signin
from graphtape.signin.urls import parse_endpoint


class ReplayHandler(ModeHandler):
    mode = Mode.REPLAY
    needs_cassette = True
    enforces = True
    large_bodies = "refuse"

    def __init__(self, session: Session, shared: Shared, replayer: Replayer, tape_ignore: object,
                 pseudonymizer: Pseudonymizer | None, scope: Scope | None = None) -> None:
        super().__init__(session, shared, scope)
        self.replayer: Replayer | None = replayer
        self.tape_ignore = tape_ignore  # the cassette's meta.ignore
        self.pseudonymizer = pseudonymizer  # replay of a pseudonymized cassette
        self.tape_meta: dict[str, Any] = {}  # the cassette's meta (its match_on)

    @classmethod
    def open(cls, session: Session, shared: Shared) -> ModeHandler:
        loaded = load_cassette(session.cassette)
        tape_ignore = loaded.meta.get("ignore")
        replayer = Replayer(session.cassette, loaded.interactions, session,
                            allow_repeats=ctx.options.graphtape_allow_repeats, rules=rules_for(tape_ignore),
                            expiry=expiry_for(), match_on=match_on_for(session.cassette, loaded.meta))
        handler = cls(session, shared, replayer, tape_ignore, Pseudonymizer.from_meta(loaded.meta),
                      Scope.from_interactions(loaded.interactions))  # Graph, and the upload URLs it recorded
        handler.tape_meta = loaded.meta
        return handler

    def retune(self, updated: set[str], opts: Any) -> None:
        """graphtape_ignore, _policy or _allow_repeats changed during a replay (e.g. in mitmweb's options);
        graphtape_signin is read as each sign-in call comes."""
        if not updated & REPLAY_TUNING or self.replayer is None:
            return
        try:
            rules, expiry = rules_for(self.tape_ignore), expiry_for()
            match_on = match_on_for(self.session.cassette, self.tape_meta)
        except (ValueError, ConfigError) as e:
            raise exceptions.OptionsError(str(e)) from e
        self.replayer.retune(allow_repeats=opts.graphtape_allow_repeats, rules=rules, match_on=match_on)
        self.replayer.expiry = expiry

    def finish(self) -> None:
        if self.replayer is not None:
            self.replayer.finish()

    def server_connect(self, data: server_hooks.ServerConnectionHookData) -> None:
        # The last line of defence: replay is offline, whatever a hook did or did not do; counted in the report.
        self.session.upstream_refused += 1
        data.server.error = "graphtape replay is offline: no upstream connections"

    def outside(self, flow: http.HTTPFlow, url: str) -> None:
        # Stage "offline answers": a call outside Graph that replay answers itself (sign-in), before it is refused.
        method = flow.request.method
        signin = (offline_signin(request_of(flow, url))
                  if ctx.options.graphtape_signin and parse_endpoint(url) is not None else None)
        if signin is not None:  # never from (nor into) a cassette
            ex = settle(self.session, method, url, Outcome.SIGNED_IN, signin.response.status, note=signin.refusal)
            answer(flow, None, signin.response)
            report(flow, ex)
            return
        ex = settle(self.session, method, url, Outcome.UNMATCHED, UNMATCHED_STATUS, note=OUTSIDE_NOTE)
        answer(flow, None, outside_graph(method, url))
        report(flow, ex)

    def view(self, req: HttpRequest) -> HttpRequest:
        return self.pseudonymizer.request(req) if self.pseudonymizer is not None else req

    def too_large(self, flow: http.HTTPFlow, state: FlowState, e: BodyTooLarge) -> None:
        ex = settle(self.session, flow.request.method, state.url, Outcome.REJECTED, 413, note=str(e))
        answer(flow, state, error_response(413, "graphtape.BodyTooLarge", f"graphtape: {e}"))
        report(flow, ex)

    def request(self, flow: http.HTTPFlow, state: FlowState) -> None:
        assert self.replayer is not None and state.request is not None
        req = state.request
        ex, resp = self.replayer.handle(req, state.findings)
        if ex.interaction is not None:  # a $batch: its items' ids, and its refused items' errors (replay/batch.py)
            recorded = self.replayer.interactions[ex.interaction].request
            resp = serve_batch(recorded, req, state.findings, resp, enforce=self.enforcing)
        answer(flow, state, resp)
        if ex.interaction is not None:
            flow.is_replay = "response"  # as mitmproxy's own server replay marks what it served
        report(flow, ex)


def rules_for(tape_ignore: object) -> IgnoreRules:
    """The deviations replay ignores: the volatile ones, the project's, the command line's and the cassette's."""
    return ignore_rules(load_project_config().ignore, ctx.options.graphtape_ignore, tape_ignore)


def match_on_for(cassette: str, meta: dict[str, Any]) -> MatchOn:
    """What a request must share with a recording: graphtape_match_on, else the cassette's, else the project's."""
    return resolve_match_on(ctx.options.graphtape_match_on, meta.get("match_on"), load_project_config().raw,
                            option_where="graphtape_match_on", cassette_where=f"{cassette}: meta.match_on")


def expiry_for() -> Expiry | None:
    """How old a served recording may be: graphtape_max_age / _on_expiry, else the project's (replay/expiry.py)."""
    return expiry_from(ctx.options.graphtape_max_age, ctx.options.graphtape_on_expiry, load_project_config().raw,
                       where="graphtape_max_age")
