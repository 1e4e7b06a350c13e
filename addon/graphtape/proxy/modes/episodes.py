"""Record what is missing (``new_episodes``, VCR.py's name; Hoverfly's capture-on-miss): a request the cassette
has an unused answer for is replayed from it, offline; any other goes on to Graph (or ``graphtape_upstream``) and
is appended to the cassette, as ``record --append`` would.

Composed of the two modes, not a third copy of them: a ``ReplayHandler`` over the cassette as it was opened and a
``RecordHandler`` appending to it, sharing one session and one scope. The cassette is only ever appended to (the
recorder's ``append``, whatever ``graphtape_record_mode`` says): what it held is never lost nor rewritten
differently, and a session that appends nothing leaves it byte for byte as it was. A call appended in this
session is not served back to a repeat of it (that repeat goes to Graph and is appended too); the contract
policy ``auto`` reports, as in record, since the calls may go to Graph.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mitmproxy import ctx, http

from graphtape.bodies.limits import BodyTooLarge
from graphtape.cassette.recorder import Recorder, RecordMode
from graphtape.model import HttpRequest, Mode
from graphtape.proxy.modes.base import ModeHandler, Shared
from graphtape.proxy.modes.record import RecordHandler
from graphtape.proxy.modes.replay import ReplayHandler
from graphtape.proxy.options import OPENED_BY, RECORDER_OPENED_BY
from graphtape.proxy.state import FlowState
from graphtape.session.exchanges import Session


class NewEpisodesHandler(ModeHandler):
    mode = Mode.NEW_EPISODES
    needs_cassette = True
    opened_by = OPENED_BY | RECORDER_OPENED_BY

    def __init__(self, session: Session, shared: Shared, replay: ReplayHandler, record: RecordHandler) -> None:
        super().__init__(session, shared, replay.scope)  # the upload URLs recorded, and those learnt from now on
        record.scope = self.scope
        self.replay, self.record = replay, record
        self.replayer = replay.replayer
        self.recorder = record.recorder
        self.pseudonymizer = record.pseudonymizer  # the cassette's (a pseudonymized one stays so)

    @classmethod
    def open(cls, session: Session, shared: Shared) -> ModeHandler:
        opts = ctx.options
        recorder = Recorder(Path(session.cassette), RecordMode.APPEND, shared.redactor,  # locks it first
                            pseudonymize=opts.graphtape_pseudonymize, fsync=opts.graphtape_fsync,
                            upload_bodies=opts.graphtape_upload_bodies)
        try:
            replay = ReplayHandler.open(session, shared)
        except BaseException:
            recorder.close()
            raise
        assert isinstance(replay, ReplayHandler)
        return cls(session, shared, replay, RecordHandler(session, shared, recorder))

    def retune(self, updated: set[str], opts: Any) -> None:
        self.replay.retune(updated, opts)
        self.record.retune(updated, opts)

    def close(self) -> None:
        self.record.close()
        self.recorder = None

    def finish(self) -> None:
        self.replay.finish()

    # ------------------------------------------------------------------ each request: replayed, or sent and recorded

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        self.record.requestheaders(flow)  # a body too large to compare is sent (and named not recorded)

    def outside(self, flow: http.HTTPFlow, url: str) -> None:
        self.record.outside(flow, url)  # not Graph: passes through, as in record

    def admit(self, flow: http.HTTPFlow, state: FlowState) -> bool:
        return self.record.admit(flow, state)

    def too_large(self, flow: http.HTTPFlow, state: FlowState, e: BodyTooLarge) -> None:
        self.record.too_large(flow, state, e)

    def request(self, flow: http.HTTPFlow, state: FlowState) -> None:
        assert state.request is not None and self.replayer is not None
        seen: HttpRequest = self.replay.view(state.request)  # a pseudonymized cassette matches fake identities
        if self.replayer.matcher.find(seen).index is not None:
            state.request = seen
            self.replay.request(flow, state)
        else:
            self.record.request(flow, state)  # the recorder pseudonymizes what it writes itself

    def response(self, flow: http.HTTPFlow, state: FlowState) -> None:
        self.record.response(flow, state)

    def error(self, flow: http.HTTPFlow, state: FlowState) -> None:
        self.record.error(flow, state)
