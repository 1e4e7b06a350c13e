"""Record while stopping: calls refused, waited for, abandoned; a recording that fails to write or to close."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from mitmproxy import flow as mflow

from graphtape.cassette.format import load_cassette
from graphtape.cassette.recorder import RecorderClosed
from graphtape.model import Outcome

from .addon_support import SEND_MAIL, graph_error_code, graph_flow, graph_response, running_addon, send


@pytest.fixture
def cassette(tmp_path: Path) -> Path:
    return tmp_path / "c.yaml"


def test_a_call_that_comes_while_stopping_is_refused_not_sent(cassette: Path) -> None:
    with running_addon(graphtape_mode="record", graphtape_cassette=str(cassette),
                       graphtape_upstream="https://127.0.0.1:8443") as (addon, tctx):
        tctx.master.event_loop.run_until_complete(addon.drain(0))  # nothing in flight: returns at once
        flow = send(addon, graph_flow("GET", "/me"))
        assert flow.response is not None and flow.response.status_code == 503
        assert graph_error_code(flow) == "graphtape.ShuttingDown"
        assert flow.request.host == "graph.microsoft.com"  # not routed upstream
        [ex] = addon.session.exchanges
        assert (ex.outcome, ex.status) == (Outcome.NOT_RECORDED, 503) and len(addon.session.problems) == 1
        addon.inflight.resume()  # the pytest plugin's proxy goes on with the next cassette
        again = send(addon, graph_flow("GET", "/me"), upstream=graph_response(200, {"id": "me"}))
        assert again.response is not None and again.response.status_code == 200


def test_stopping_waits_for_a_call_in_flight_and_says_so(cassette: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with running_addon(graphtape_mode="record", graphtape_cassette=str(cassette)) as (addon, tctx):
        flow = graph_flow("GET", "/me")
        addon.request(flow)
        assert len(addon.inflight) == 1
        tctx.master.event_loop.run_until_complete(addon.drain(0.05))  # its answer does not come in time
        assert "waiting up to 0.05 s for 1 call(s) in flight" in capsys.readouterr().err
        addon.done()
        [ex] = addon.session.exchanges
        assert ex.outcome == Outcome.NOT_RECORDED and "still waiting for its answer" in ex.note
        assert addon.failures
        flow.response = graph_response(200, {"id": "me"})  # it comes after all: the client must not trust it
        addon.response(flow)
        assert flow.response.status_code == 503 and graph_error_code(flow) == "graphtape.ShuttingDown"
        assert len(addon.session.exchanges) == 1  # counted once
    assert load_cassette(cassette).interactions == []


def test_an_abandoned_call_that_fails_later_is_not_counted_again(cassette: Path, tmp_path: Path) -> None:
    with running_addon(graphtape_mode="record", graphtape_cassette=str(cassette)) as (addon, tctx):
        flow = graph_flow("GET", "/me")
        addon.request(flow)
        recording = addon.session
        tctx.configure(addon, graphtape_cassette=str(tmp_path / "next.yaml"))  # the plugin's next test
        flow.error = mflow.Error("connection reset")
        addon.error(flow)
        [ex] = recording.exchanges
        assert ex.outcome == Outcome.NOT_RECORDED and len(recording.problems) == 1
        assert addon.session.exchanges == []


def test_a_streamed_call_in_flight_is_waited_for_and_named_unrecorded(cassette: Path) -> None:
    with running_addon(graphtape_mode="record", graphtape_cassette=str(cassette)) as (addon, _):
        flow = graph_flow("POST", "/me/sendMail", SEND_MAIL)
        flow.request.stream = True
        addon.requestheaders(flow)
        assert len(addon.inflight) == 1  # on its way already: stopping waits for it
        flow.request.raw_content = None
        addon.request(flow)  # left alone: requestheaders took it
        assert len(addon.inflight) == 1
        flow.response = graph_response(202)
        addon.response(flow)
        [ex] = addon.session.exchanges
        assert ex.outcome == Outcome.NOT_RECORDED and "streamed" in ex.note and addon.session.problems


def test_a_recording_closed_under_a_call_answers_503(cassette: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with running_addon(graphtape_mode="record", graphtape_cassette=str(cassette)) as (addon, _):
        assert addon.recorder is not None

        def closed(*_args: object) -> None:
            raise RecorderClosed("the recording was closed before this call's answer came")

        monkeypatch.setattr(addon.recorder, "add", closed)
        flow = send(addon, graph_flow("GET", "/me"), upstream=graph_response(200, {"id": "me"}))
        assert flow.response is not None and flow.response.status_code == 503
        [ex] = addon.session.exchanges
        assert ex.outcome == Outcome.NOT_RECORDED and "its client got 503" in ex.note and flow.marked


def test_a_bug_while_recording_answers_500_and_fails_the_session(cassette: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    with running_addon(graphtape_mode="record", graphtape_cassette=str(cassette)) as (addon, _):
        assert addon.recorder is not None

        def broken(*_args: object) -> None:
            raise RuntimeError("a bug in the recorder")

        monkeypatch.setattr(addon.recorder, "add", broken)
        flow = send(addon, graph_flow("GET", "/me"), upstream=graph_response(200, {"id": "me"}))
        assert flow.response is not None and flow.response.status_code == 500
        assert graph_error_code(flow) == "graphtape.InternalError"
        [ex] = addon.session.exchanges  # counted once, though it failed after it was counted
        assert ex.outcome == Outcome.NOT_RECORDED and "a bug in the recorder" in ex.note
        assert len(addon.session.problems) == 1


def test_a_bug_while_closing_the_recording_fails_the_session(cassette: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    with running_addon(graphtape_mode="record", graphtape_cassette=str(cassette)) as (addon, _):
        send(addon, graph_flow("GET", "/me"), upstream=graph_response(200, {"id": "me"}))
        assert addon.recorder is not None

        def broken() -> None:
            raise RuntimeError("a bug in close")

        monkeypatch.setattr(addon.recorder, "close", broken)
        addon.done()
        assert any("a bug in graphtape" in p for p in addon.session.problems) and addon.failures


def test_a_recording_of_nothing_leaves_the_file_as_it_was(cassette: Path, caplog: pytest.LogCaptureFixture) -> None:
    cassette.write_text("not graphtape's\n")
    with (caplog.at_level(logging.INFO, logger="graphtape"),
          running_addon(graphtape_mode="record", graphtape_cassette=str(cassette),
                        graphtape_record_mode="overwrite") as (addon, _)):
        addon.done()
        assert addon.failures == []
    assert cassette.read_text() == "not graphtape's\n"
    assert any("nothing recorded" in r.getMessage() for r in caplog.records)


def test_a_bug_before_a_call_is_sent_answers_500_not_sends_it(cassette: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from graphtape.proxy import pipeline

    def broken(_req: object) -> None:
        raise RuntimeError("a bug in the contract check")

    monkeypatch.setattr(pipeline, "validate", broken)
    with running_addon(graphtape_mode="record", graphtape_cassette=str(cassette),
                       graphtape_upstream="https://127.0.0.1:8443") as (addon, _):
        flow = send(addon, graph_flow("GET", "/me"))
        assert flow.response is not None and flow.response.status_code == 500
        assert flow.request.host == "graph.microsoft.com" and len(addon.inflight) == 0
        [ex] = addon.session.exchanges
        assert ex.outcome == Outcome.FAILED and "failed to record it" in ex.note and addon.session.problems


def test_a_second_ctrl_c_stops_waiting_at_once(cassette: Path) -> None:
    with running_addon(graphtape_mode="record", graphtape_cassette=str(cassette)) as (addon, tctx):
        addon.request(graph_flow("GET", "/me"))
        addon.inflight.give_up()  # what the CLI does on a second Ctrl-C
        started = time.monotonic()
        tctx.master.event_loop.run_until_complete(addon.drain(30))
        assert time.monotonic() - started < 5 and len(addon.inflight) == 1
        addon.done()
        assert [e.outcome for e in addon.session.exchanges] == [Outcome.NOT_RECORDED]


def test_stopping_waits_for_the_answer_in_flight_and_no_longer(cassette: Path) -> None:
    with running_addon(graphtape_mode="record", graphtape_cassette=str(cassette)) as (addon, tctx):
        flow = graph_flow("GET", "/me")
        addon.request(flow)

        def answered() -> None:  # the upstream's answer comes while the drain waits
            flow.response = graph_response(200, {"id": "me"})
            addon.response(flow)

        loop = tctx.master.event_loop
        loop.call_later(0.05, answered)
        started = time.monotonic()
        loop.run_until_complete(addon.drain(30))
        assert time.monotonic() - started < 5 and len(addon.inflight) == 0  # woken by the answer, not the timeout
        addon.done()
    assert [e.outcome for e in addon.session.exchanges] == [Outcome.RECORDED]
