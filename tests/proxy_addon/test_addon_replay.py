"""Replay in-process: hits, misses, contract rejections, oversized bodies and the 500 catch-all; nothing goes out."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from mitmproxy.proxy import server_hooks
from mitmproxy.proxy.mode_specs import ProxyMode
from mitmproxy.test import tflow

from graphtape.bodies.limits import MAX_BODY_ENV
from graphtape.model import HttpRequest, HttpResponse, Interaction, Outcome

from .addon_support import (
    GRAPH,
    JWT,
    SEND_MAIL,
    graph_error_code,
    graph_flow,
    interaction,
    running_addon,
    send,
    write_cassette,
)

MESSAGES = {"value": [{"id": "AAMk=", "subject": "hello"}]}


@pytest.fixture
def cassette(tmp_path: Path) -> Path:
    return write_cassette(tmp_path / "c.yaml",
                          interaction("GET", "/me/messages", 200, MESSAGES),
                          interaction("POST", "/me/sendMail", 202, req_body=SEND_MAIL))


def test_a_recorded_call_is_served_from_the_cassette(cassette: Path) -> None:
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(cassette)) as (addon, _):
        flow = send(addon, graph_flow("GET", "/me/messages"))
        assert flow.response is not None and flow.response.status_code == 200
        assert json.loads(flow.response.content or b"") == MESSAGES
        [ex] = addon.session.exchanges
        assert (ex.outcome, ex.interaction, ex.status) == (Outcome.MATCHED, 0, 200)
        assert flow.marked == ""  # nothing to flag under mitmweb


def test_an_unrecorded_call_gets_graphs_error_shape_and_is_flagged(cassette: Path) -> None:
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(cassette)) as (addon, _):
        flow = send(addon, graph_flow("GET", "/me/mailFolders"))
        assert flow.response is not None and flow.response.status_code == 404
        assert graph_error_code(flow) == "graphtape.UnmatchedRequest"
        [ex] = addon.session.exchanges
        assert ex.outcome == Outcome.UNMATCHED and ex.interaction is None and ex.note
        assert flow.marked and flow.comment


def test_a_call_served_once_is_exhausted_the_second_time(cassette: Path) -> None:
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(cassette)) as (addon, _):
        send(addon, graph_flow("GET", "/me/messages"))
        again = send(addon, graph_flow("GET", "/me/messages"))
        assert again.response is not None and again.response.status_code == 410
        assert graph_error_code(again) == "graphtape.CassetteExhausted"
        assert [e.outcome for e in addon.session.exchanges] == [Outcome.MATCHED, Outcome.EXHAUSTED]


def test_allow_repeats_serves_a_call_again(cassette: Path) -> None:
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(cassette),
                       graphtape_allow_repeats=True) as (addon, _):
        flows = [send(addon, graph_flow("GET", "/me/messages")) for _ in range(2)]
        assert [f.response.status_code for f in flows if f.response] == [200, 200]


def test_a_host_outside_graph_is_answered_offline(cassette: Path) -> None:
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(cassette)) as (addon, _):
        flow = send(addon, graph_flow("GET", "https://example.com/v1.0/me/messages"))
        assert flow.response is not None and flow.response.status_code == 404
        assert graph_error_code(flow) == "graphtape.UnmatchedRequest"
        assert flow.request.host == "example.com"


def test_a_contract_error_is_answered_as_graph_would_and_not_matched(cassette: Path) -> None:
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(cassette)) as (addon, _):
        flow = send(addon, graph_flow("POST", "/me/sendMail", {}))  # no "message": Graph answers 400
        assert flow.response is not None and flow.response.status_code == 400
        assert graph_error_code(flow) == "RequestBodyRead"
        [ex] = addon.session.exchanges
        assert ex.outcome == Outcome.REJECTED and [f.rule for f in ex.errors] == ["parameter.missing"]
        assert flow.marked
        addon.current_session()
        assert addon.session.unused == [0, 1]  # the recorded sendMail was not used up by the rejected call


def test_policy_report_serves_a_call_with_contract_errors(tmp_path: Path) -> None:
    path = write_cassette(tmp_path / "c.yaml", interaction("POST", "/me/sendMail", 202, req_body={}))
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(path), graphtape_policy="report") as (addon, _):
        flow = send(addon, graph_flow("POST", "/me/sendMail", {}))
        assert flow.response is not None and flow.response.status_code == 202
        [ex] = addon.session.exchanges
        assert ex.outcome == Outcome.MATCHED and ex.errors
        assert flow.marked  # the contract error shows under mitmweb


def test_a_changed_body_is_served_with_its_deviation(cassette: Path) -> None:
    changed = {"message": {**SEND_MAIL["message"], "subject": "changed"}}
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(cassette)) as (addon, _):
        flow = send(addon, graph_flow("POST", "/me/sendMail", changed))
        assert flow.response is not None and flow.response.status_code == 202
        [ex] = addon.session.exchanges
        assert ex.outcome == Outcome.MATCHED
        assert [d.path for d in ex.deviations] == ["body.message.subject"]
        assert flow.marked and flow.comment


def test_quiet_replay_serves_the_same(cassette: Path, caplog: pytest.LogCaptureFixture) -> None:
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(cassette), graphtape_quiet=True) as (addon, _):
        hit = send(addon, graph_flow("GET", "/me/messages"))
        miss = send(addon, graph_flow("GET", "/me/events"))
        assert [f.response.status_code for f in (hit, miss) if f.response] == [200, 404]
        assert [e.outcome for e in addon.session.exchanges] == [Outcome.MATCHED, Outcome.UNMATCHED]
    assert not [r for r in caplog.records if r.name.startswith("graphtape") and r.levelname == "INFO"]


def test_a_body_over_the_limit_is_refused_with_413(cassette: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MAX_BODY_ENV, "0.001")  # 1048 bytes
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(cassette)) as (addon, _):
        big = {"message": {**SEND_MAIL["message"], "body": {"content": "x" * 2000}}}
        flow = send(addon, graph_flow("POST", "/me/sendMail", big))
        assert flow.response is not None and flow.response.status_code == 413
        assert graph_error_code(flow) == "graphtape.BodyTooLarge"
        [ex] = addon.session.exchanges
        assert (ex.outcome, ex.status) == (Outcome.REJECTED, 413) and ex.note


def test_a_streamed_body_is_refused_with_413_not_forwarded(cassette: Path) -> None:
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(cassette)) as (addon, _):
        flow = graph_flow("POST", "/me/sendMail", SEND_MAIL)
        flow.request.raw_content = None  # what mitmproxy leaves of a body it streamed through
        send(addon, flow)
        assert flow.response is not None and flow.response.status_code == 413
        assert graph_error_code(flow) == "graphtape.BodyTooLarge"


def test_a_bug_in_replay_answers_500_and_sends_nothing(cassette: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(cassette)) as (addon, _):
        assert addon.replayer is not None

        def broken(*_args: object) -> None:
            raise RuntimeError("a bug in the replayer")

        monkeypatch.setattr(addon.replayer, "handle", broken)
        flow = send(addon, graph_flow("GET", "/me/messages"))
        assert flow.response is not None and flow.response.status_code == 500
        assert graph_error_code(flow) == "graphtape.InternalError"
        assert flow.request.host == "graph.microsoft.com"  # answered here, not routed anywhere


def test_a_bug_in_replay_fails_the_session(cassette: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(cassette)) as (addon, _):
        assert addon.replayer is not None

        def broken(*_args: object) -> None:
            raise RuntimeError("a bug in the replayer")

        monkeypatch.setattr(addon.replayer, "handle", broken)
        send(addon, graph_flow("GET", "/me/messages"))
        [ex] = addon.session.exchanges
        assert (ex.outcome, ex.status) == (Outcome.FAILED, 500) and "a bug in the replayer" in ex.note
        assert len(addon.session.problems) == 1 and "#1 GET" in addon.session.problems[0]
        addon.done()
        assert addon.failures


def test_a_replay_that_fails_after_counting_the_call_counts_it_once(cassette: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(cassette)) as (addon, _):
        assert addon.replayer is not None

        def broken(ex: object, _req: object) -> None:
            raise RuntimeError(f"a bug in the matcher; the client sent {JWT}")

        monkeypatch.setattr(addon.replayer, "_handle", broken)
        flow = send(addon, graph_flow("GET", "/me/messages"))
        [ex] = addon.session.exchanges
        assert ex.outcome == Outcome.FAILED and len(addon.session.problems) == 1
        assert flow.response is not None and graph_error_code(flow) == "graphtape.InternalError"
        assert JWT not in ex.note and JWT not in (flow.response.text or "")


def test_a_call_answered_before_graphtape_is_left_alone(cassette: Path) -> None:
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(cassette)) as (addon, _):
        flow = graph_flow("GET", "/me/messages", resp=tflow.tresp(status_code=407))  # e.g. proxyauth's answer
        addon.request(flow)
        assert flow.response is not None and flow.response.status_code == 407
        assert addon.session.exchanges == []


def test_replay_never_connects_upstream(cassette: Path) -> None:
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(cassette)) as (addon, _):
        data = server_hooks.ServerConnectionHookData(server=tflow.tserver_conn(), client=tflow.tclient_conn())
        assert addon.session.upstream_refused == 0
        addon.server_connect(data)
        assert data.server.error  # mitmproxy refuses the connection when the hook sets an error
        assert addon.session.upstream_refused == 1  # counted: the report and the summary say it
        assert "upstream connections refused 1" in "\n".join(addon.session.summary_lines())


@pytest.mark.parametrize("mode", ["record", "inspect", "off"])
def test_other_modes_let_connections_through(mode: str, tmp_path: Path) -> None:
    with running_addon(graphtape_mode=mode, graphtape_cassette=str(tmp_path / "new.yaml")) as (addon, _):
        data = server_hooks.ServerConnectionHookData(server=tflow.tserver_conn(), client=tflow.tclient_conn())
        addon.server_connect(data)
        assert data.server.error is None


def test_a_pseudonymized_cassette_matches_the_real_values(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    real = "/users/alice.smith@contoso.com/messages"
    with running_addon(graphtape_mode="record", graphtape_cassette=str(path), graphtape_pseudonymize=True) as (rec, _):
        send(rec, graph_flow("GET", real), upstream=tflow.tresp(status_code=200, content=b'{"value": []}'))
        rec.done()
    assert "alice" not in path.read_text()
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(path)) as (addon, _):
        flow = send(addon, graph_flow("GET", real))
        assert flow.response is not None and flow.response.status_code == 200
        assert [e.outcome for e in addon.session.exchanges] == [Outcome.MATCHED]


def test_reverse_mode_replays_the_host_the_proxy_stands_in_for(cassette: Path) -> None:
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(cassette)) as (addon, _):
        flow = graph_flow("GET", "http://127.0.0.1:8080/v1.0/me/messages")  # the client talks to the proxy itself
        flow.client_conn.proxy_mode = ProxyMode.parse("reverse:https://graph.microsoft.com")
        send(addon, flow)
        assert flow.response is not None and flow.response.status_code == 200
        [ex] = addon.session.exchanges
        assert ex.outcome == Outcome.MATCHED and ex.url == "https://graph.microsoft.com/v1.0/me/messages"


def test_a_recorded_answer_is_served_as_recorded_encoding_reason_and_headers(tmp_path: Path) -> None:
    body = json.dumps(MESSAGES).encode()
    recorded = HttpResponse(200, "Gut ✓", [("Content-Type", "application/json"), ("Content-Encoding", "gzip"),
                                          ("X-Note", "caf\u00e9")], body)  # kept decoded; served gzipped again
    path = write_cassette(tmp_path / "z.yaml", Interaction(HttpRequest("GET", f"{GRAPH}/me/messages"), recorded))
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(path)) as (addon, _):
        flow = graph_flow("GET", "/me/messages")
        flow.request.headers[b"X-Client"] = b"\xe9t\xe9"  # not UTF-8: read as Latin-1
        send(addon, flow)
        assert flow.response is not None and flow.response.headers["content-encoding"] == "gzip"
        assert gzip.decompress(flow.response.raw_content or b"") == body and flow.response.content == body
        assert flow.response.reason == "Gut ✓".encode().decode("latin-1")  # UTF-8 bytes on the wire
        assert [e.outcome for e in addon.session.exchanges] == [Outcome.MATCHED]
