"""The per-flow state: one typed object under one metadata key, gone from copies and saved flows; replayed
answers are marked as mitmproxy's own server replay marks them."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from mitmproxy import http
from mitmproxy import io as mio

from graphtape.model import Outcome
from graphtape.proxy.state import KEY, FlowState, state_of

from .addon_support import SEND_MAIL, graph_flow, graph_response, interaction, running_addon, send, write_cassette


@pytest.fixture
def cassette(tmp_path: Path) -> Path:
    return write_cassette(tmp_path / "c.yaml", interaction("GET", "/me", 200, {"id": "me"}))


@pytest.mark.parametrize("mode", ["record", "inspect"])
def test_one_key_holds_what_graphtape_knows_of_a_flow(mode: str, tmp_path: Path) -> None:
    with running_addon(graphtape_mode=mode, graphtape_cassette=str(tmp_path / "c.yaml")) as (addon, _):
        flow = graph_flow("POST", "/me/sendMail", {})  # a contract error: its finding is kept for the answer
        addon.request(flow)
        assert list(flow.metadata) == [KEY]
        state = state_of(flow)
        assert isinstance(state, FlowState) and state.handler is addon.handler
        assert state.url == "https://graph.microsoft.com/v1.0/me/sendMail" and state.request is not None
        assert [f.rule for f in state.findings] == ["parameter.missing"]
        flow.response = graph_response(202)
        addon.response(flow)
        [ex] = addon.session.exchanges
        assert [f.rule for f in ex.errors] == ["parameter.missing"]


@pytest.mark.parametrize("mode", ["record", "inspect", "replay"])
def test_a_flow_graphtape_handled_can_be_saved_as_mitmproxy_saves_flows(mode: str, cassette: Path,
                                                                         tmp_path: Path) -> None:
    # mitmdump -w and mitmweb's Save write flow.get_state(), metadata included, in mitmproxy's flow format
    path = cassette if mode == "replay" else tmp_path / "new.yaml"
    with running_addon(graphtape_mode=mode, graphtape_cassette=str(path)) as (addon, _):
        flow = send(addon, graph_flow("GET", "/me"), upstream=graph_response(200, {"id": "me"}))
        out = io.BytesIO()
        mio.FlowWriter(out).add(flow)
        [saved] = list(mio.FlowReader(io.BytesIO(out.getvalue())).stream())
        assert isinstance(saved, http.HTTPFlow) and saved.metadata == {KEY: None} and state_of(saved) is None
        assert state_of(flow) is not None  # the live flow keeps its state


def test_a_copied_flow_is_not_graphtapes(tmp_path: Path) -> None:
    # mitmweb's Duplicate then Replay: the copy is a new request; its answer is not the original's
    with running_addon(graphtape_mode="record", graphtape_cassette=str(tmp_path / "c.yaml")) as (addon, _):
        flow = graph_flow("GET", "/me")
        addon.request(flow)
        copy = flow.copy()
        assert state_of(copy) is None
        copy.response = graph_response(200, {"id": "me"})
        addon.response(copy)
        assert addon.session.exchanges == []  # the original is still in flight
        flow.response = graph_response(200, {"id": "me"})
        addon.response(flow)
        assert [e.outcome for e in addon.session.exchanges] == [Outcome.RECORDED]


def test_a_served_answer_is_marked_replayed_and_graphtapes_own_answers_are_not(cassette: Path) -> None:
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(cassette)) as (addon, _):
        hit = send(addon, graph_flow("GET", "/me"))
        exhausted = send(addon, graph_flow("GET", "/me"))
        rejected = send(addon, graph_flow("POST", "/me/sendMail", {}))
        outside = send(addon, graph_flow("GET", "https://example.com/"))
        assert hit.is_replay == "response"
        assert [f.is_replay for f in (exhausted, rejected, outside)] == [None, None, None]
        assert [e.outcome for e in addon.session.exchanges] == [Outcome.MATCHED, Outcome.EXHAUSTED,
                                                                 Outcome.REJECTED, Outcome.UNMATCHED]


def test_an_answered_flow_is_finished_for_later_hooks(cassette: Path) -> None:
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(cassette)) as (addon, _):
        flow = send(addon, graph_flow("GET", "/me"))
        state = state_of(flow)
        assert state is not None and state.handler is None and state.request is None  # not kept alive with it
        addon.error(flow)  # e.g. the client went away before it got the answer
        assert [e.outcome for e in addon.session.exchanges] == [Outcome.MATCHED]


def test_a_call_is_finished_by_the_mode_that_took_it(tmp_path: Path) -> None:
    with running_addon(graphtape_mode="inspect") as (addon, tctx):
        flow = graph_flow("POST", "/me/sendMail", SEND_MAIL)
        addon.request(flow)
        inspected = addon.session
        tctx.configure(addon, graphtape_mode="record", graphtape_cassette=str(tmp_path / "c.yaml"))
        flow.response = graph_response(202)
        addon.response(flow)
        assert [e.outcome for e in inspected.exchanges] == [Outcome.OBSERVED]  # described where it began
        assert addon.session.exchanges == []  # the recording never saw its request
