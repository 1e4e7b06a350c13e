"""running, current_session and done: the start line, the session handed to the plugin, the reports at the end."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from graphtape.cassette.format import load_cassette
from graphtape.model import Outcome

from .addon_support import graph_flow, graph_response, interaction, running_addon, send, write_cassette


@pytest.fixture
def cassette(tmp_path: Path) -> Path:
    return write_cassette(tmp_path / "c.yaml", interaction("GET", "/me", 200, {"id": "me"}),
                          interaction("GET", "/me/messages", 200, {"value": []}))


def test_running_announces_where_it_listens(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with running_addon(graphtape_mode="inspect", listen_host="127.0.0.1", listen_port=18080,
                       confdir=str(tmp_path / "conf")) as (addon, _):
        addon.running()
        assert addon.listen == ("127.0.0.1", 18080)
    printed = capsys.readouterr()
    line = printed.out + printed.err  # which stream is the CLI's business
    assert "127.0.0.1:18080" in line and str(tmp_path / "conf") in line


def test_running_prefers_the_address_the_server_bound(tmp_path: Path) -> None:
    class BoundServer:  # stands in for mitmproxy's Proxyserver after it bound port 0
        name = "proxyserver"

        def listen_addrs(self) -> list[tuple[str, int]]:
            return [("127.0.0.1", 43210)]

    with running_addon(graphtape_mode="inspect", listen_host="127.0.0.1", listen_port=0) as (addon, tctx):
        tctx.master.addons.lookup["proxyserver"] = BoundServer()
        addon.running()
        assert addon.listen == ("127.0.0.1", 43210)


def test_current_session_brings_unused_interactions_up_to_date(cassette: Path) -> None:
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(cassette)) as (addon, _):
        send(addon, graph_flow("GET", "/me"))
        session = addon.current_session()
        assert session is addon.session
        assert [e.outcome for e in session.exchanges] == [Outcome.MATCHED] and session.unused == [1]


def test_current_session_outside_replay_is_the_live_session() -> None:
    with running_addon(graphtape_mode="inspect") as (addon, _):
        send(addon, graph_flow("GET", "/me"), upstream=graph_response(200, {"id": "me"}))
        assert len(addon.current_session().exchanges) == 1


def test_a_new_cassette_starts_a_new_session(cassette: Path, tmp_path: Path) -> None:
    other = write_cassette(tmp_path / "other.yaml", interaction("GET", "/me/events", 200, {"value": []}))
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(cassette)) as (addon, tctx):
        send(addon, graph_flow("GET", "/me"))
        first = addon.current_session()
        tctx.configure(addon, graphtape_cassette=str(other))
        flow = send(addon, graph_flow("GET", "/me"))
        assert flow.response is not None and flow.response.status_code == 404  # not in the new cassette
        assert [e.outcome for e in first.exchanges] == [Outcome.MATCHED]
        assert [e.outcome for e in addon.session.exchanges] == [Outcome.UNMATCHED]


def test_done_writes_the_json_and_junit_reports(cassette: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    report, junit = tmp_path / "out" / "report.json", tmp_path / "out" / "junit.xml"
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(cassette), graphtape_report=str(report),
                       graphtape_junit=str(junit)) as (addon, _):
        send(addon, graph_flow("GET", "/me"))
        send(addon, graph_flow("GET", "/me/mailFolders"))
        addon.done()
        assert addon.failures  # one unmatched request, and unmatched is in the default fail-on
    data = json.loads(report.read_text())
    assert [r["outcome"] for r in data["requests"]] == [Outcome.MATCHED, Outcome.UNMATCHED]
    assert data["summary"]["unused_interactions"] == [2]
    suite = ET.parse(junit).getroot()
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("3", "1", "1")
    assert capsys.readouterr().err  # the summary goes to stderr, never into a wrapped command's stdout


def test_done_passes_a_clean_session(cassette: Path) -> None:
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(cassette)) as (addon, _):
        send(addon, graph_flow("GET", "/me"))
        addon.done()
        assert addon.failures == []


def test_fail_on_decides_what_fails(cassette: Path) -> None:
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(cassette), graphtape_fail_on="unused") as (
            addon, _):
        send(addon, graph_flow("GET", "/me/mailFolders"))  # unmatched, but only unused fails this session
        send(addon, graph_flow("GET", "/me"))
        addon.done()
        assert len(addon.failures) == 1 and addon.session.unused == [1]


def test_a_report_that_cannot_be_written_fails_the_session(cassette: Path, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(cassette),
                       graphtape_report=str(tmp_path / "a-file" / "report.json")) as (addon, _):
        send(addon, graph_flow("GET", "/me"))
        send(addon, graph_flow("GET", "/me/messages"))
        addon.done()
        assert len(addon.failures) == 1  # the session itself was clean


def test_done_closes_the_recording(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    with running_addon(graphtape_mode="record", graphtape_cassette=str(path)) as (addon, _):
        send(addon, graph_flow("GET", "/me"), upstream=graph_response(200, {"id": "me"}))
        addon.done()
        assert addon.recorder is None and addon.failures == []
        assert [e.outcome for e in addon.session.exchanges] == [Outcome.RECORDED]
    assert len(load_cassette(path).interactions) == 1


def test_switching_from_record_to_replay_keeps_the_recording(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    with running_addon(graphtape_mode="record", graphtape_cassette=str(path)) as (addon, tctx):
        send(addon, graph_flow("GET", "/me"), upstream=graph_response(200, {"id": "me"}))
        tctx.configure(addon, graphtape_mode="replay")  # what the pytest plugin does between two tests
        assert addon.recorder is None
        flow = send(addon, graph_flow("GET", "/me"))
        assert flow.response is not None and flow.response.status_code == 200


@pytest.mark.parametrize("record_mode", ["new", "overwrite"])
def test_an_unrelated_option_changed_while_recording_keeps_recording(record_mode: str, tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    with running_addon(graphtape_mode="record", graphtape_cassette=str(path),
                       graphtape_record_mode=record_mode) as (addon, tctx):
        send(addon, graph_flow("GET", "/me"), upstream=graph_response(200, {"id": "me"}))
        tctx.configure(addon, graphtape_ignore=["body.subject"])  # a replay-only option, e.g. in mitmweb
        send(addon, graph_flow("GET", "/me/messages"), upstream=graph_response(200, {"value": []}))
        assert [e.outcome for e in addon.session.exchanges] == [Outcome.RECORDED, Outcome.RECORDED]
    assert len(load_cassette(path).interactions) == 2


def test_replay_options_changed_mid_replay_take_effect_and_keep_the_session(cassette: Path) -> None:
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(cassette)) as (addon, tctx):
        send(addon, graph_flow("GET", "/me"))
        send(addon, graph_flow("GET", "/me"))  # its one recording is used up
        tctx.configure(addon, graphtape_allow_repeats=True, graphtape_policy="report",
                       graphtape_ignore=["body.subject"])
        assert not addon.handler.enforcing
        send(addon, graph_flow("GET", "/me"))
        assert [e.outcome for e in addon.session.exchanges] == [Outcome.MATCHED, Outcome.EXHAUSTED, Outcome.MATCHED]


def test_fsync_changed_while_recording_applies_to_the_running_recorder(tmp_path: Path) -> None:
    with running_addon(graphtape_mode="record", graphtape_cassette=str(tmp_path / "c.yaml")) as (addon, tctx):
        recorder = addon.recorder
        assert recorder is not None and not recorder.fsync
        tctx.configure(addon, graphtape_fsync=True)
        assert addon.recorder is recorder and recorder.fsync
