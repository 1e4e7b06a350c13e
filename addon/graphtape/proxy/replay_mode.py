"""The replay half of the addon: a cassette opened, each request answered from it (never sent upstream), and
a graphtape 500 instead of a replayed answer for a request replay failed on (a bug)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from mitmproxy import ctx, exceptions, http

from graphtape.bodies.limits import BodyTooLarge
from graphtape.cassette.format import load_cassette
from graphtape.config import ConfigError, ignore_rules, load_project_config
from graphtape.contract import validate_request
from graphtape.contract.batch_enforce import enforce_request
from graphtape.diffing.core import diff_requests, nearest
from graphtape.diffing.ignore import IgnoreRules
from graphtape.graph import error_response
from graphtape.model import Outcome
from graphtape.privacy.output import scrub_findings
from graphtape.privacy.pseudonymize import Pseudonymizer
from graphtape.proxy.flows import request_of, to_mitmproxy_response
from graphtape.proxy.marks import log_findings, mark_flow
from graphtape.replay.batch import serve_batch
from graphtape.replay.pipeline import Replayer, Steps
from graphtape.session.describe import short_path
from graphtape.session.exchanges import Session
from graphtape.signin import answer as offline_signin

logger = logging.getLogger("graphtape")


class ReplayHooks:
    """Mixed into GraphTape: what replay mode does with a cassette and the requests it answers."""

    session: Session
    replayer: Replayer | None
    pseudonymizer: Pseudonymizer | None  # replay of a pseudonymized cassette
    _tape_ignore: object  # the cassette's meta.ignore
    scrub: Callable[[str], str]

    @property
    def enforcing(self) -> bool:  # GraphTape's
        raise NotImplementedError

    def _open_replay(self, cassette: str) -> None:
        """Load the cassette and set up its replayer (errors: as ``GraphTape._setup`` turns them into refusals)."""
        loaded = load_cassette(cassette)
        self.pseudonymizer = Pseudonymizer.from_meta(loaded.meta)
        self._tape_ignore = loaded.meta.get("ignore")
        self.replayer = Replayer(cassette, loaded.interactions, self.session,
                                 allow_repeats=ctx.options.graphtape_allow_repeats, steps=self._replay_steps())

    def _replay_steps(self) -> Steps:
        rules = ignore_rules(load_project_config().ignore, ctx.options.graphtape_ignore, self._tape_ignore)
        return replay_steps(rules, enforce=self.enforcing, signin=ctx.options.graphtape_signin)

    def _retune_replay(self) -> None:
        """graphtape_ignore, _policy or _allow_repeats changed during a replay (e.g. in mitmweb's options)."""
        if self.replayer is None:
            return
        try:
            steps = self._replay_steps()
        except (ValueError, ConfigError) as e:
            raise exceptions.OptionsError(str(e)) from e
        self.replayer.steps = steps
        self.replayer.allow_repeats = self.replayer.matcher.allow_repeats = ctx.options.graphtape_allow_repeats

    def _replay(self, flow: http.HTTPFlow, url: str) -> None:
        assert self.replayer is not None
        before = len(self.session.exchanges)
        try:
            req = request_of(flow, url)
            # a pseudonymized cassette holds fake identities: Graph calls are matched in its terms; any other
            # (sign-in: the tokens must name the app and tenant the client asked for) stays as the client sent it
            pz = self.pseudonymizer if req.graph_url is not None else None
            ex, resp = self.replayer.handle(pz.request(req) if pz else req)
        except BodyTooLarge as e:
            ex = self.session.start(flow.request.method, url)
            ex.outcome, ex.status, ex.note = Outcome.REJECTED, 413, str(e)
            flow.response = to_mitmproxy_response(error_response(413, "graphtape.BodyTooLarge", f"graphtape: {e}"))
            logger.warning(f"graphtape: {flow.request.method} {short_path(url)} -> 413: {e}")
            return
        except Exception as e:  # never let a bug send a request to the network, nor pass for a replayed call
            logger.exception("graphtape: replay failed")
            self._replay_failed(flow, url, e, before)
            return
        flow.response = to_mitmproxy_response(resp)
        flow.metadata["graphtape_exchange"] = ex
        mark_flow(flow, ex)
        if not ctx.options.graphtape_quiet:
            which = f"interaction {ex.interaction + 1}" if ex.interaction is not None else ex.outcome
            logger.info(f"graphtape: {ex.method} {short_path(url)} -> {resp.status} ({which})")
            log_findings(ex)
            if ex.note and ex.interaction is None and ex.outcome != Outcome.REJECTED:  # a rejection's note: its errors
                logger.warning(f"graphtape:   {ex.note}")

    def _replay_failed(self, flow: http.HTTPFlow, url: str, e: Exception, before: int) -> None:
        """A bug in replay: the client gets a 500 in Graph's error shape, and the session fails naming it."""
        started = self.session.exchanges[before:]  # the replayer may have counted it before it failed
        ex = started[0] if started else self.session.start(flow.request.method, url)
        ex.outcome, ex.status = Outcome.FAILED, 500
        ex.note = self.scrub(f"graphtape failed to replay it: {e!r} (a bug in graphtape: please report it)")
        self.session.problems.append(f"#{ex.number} {ex.method} {short_path(ex.url)}: {ex.note}")
        flow.response = to_mitmproxy_response(error_response(500, "graphtape.InternalError", ex.note))
        flow.metadata["graphtape_exchange"] = ex
        mark_flow(flow, ex)


def replay_steps(rules: IgnoreRules, *, enforce: bool, signin: bool = True) -> Steps:
    """The replay pipeline: sign-in answered offline (``signin``), validate against the contract (and answer
    errors as Graph documents when enforcing), diff against the recording, explain misses with the nearest
    recordings."""
    return Steps(
        validate=lambda req: scrub_findings(validate_request(req)),
        enforce=enforce_request if enforce else None,
        diff=lambda recorded, actual: diff_requests(recorded, actual, rules),
        nearest=lambda req, candidates: nearest(req, candidates, 3, rules),
        signin=offline_signin if signin else None,
        answer=lambda recorded, req, found, resp: serve_batch(recorded, req, found, resp, enforce=enforce),
    )
