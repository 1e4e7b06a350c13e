"""Record in-process: what lands in the cassette, what is refused, and what a failed write or upstream leaves."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from mitmproxy import flow as mflow

from graphtape.bodies.limits import MAX_BODY_ENV
from graphtape.cassette.format import load_cassette
from graphtape.model import Outcome

from .addon_support import JWT, SEND_MAIL, graph_flow, graph_response, running_addon, send

MESSAGES = {"value": [{"id": "AAMk=", "subject": "hello"}]}


@pytest.fixture
def cassette(tmp_path: Path) -> Path:
    return tmp_path / "rec" / "c.yaml"


def recorded_urls(path: Path) -> list[str]:
    return [i.request.url for i in load_cassette(path).interactions]


def test_a_call_is_on_disk_once_answered_with_secrets_redacted(cassette: Path) -> None:
    with running_addon(graphtape_mode="record", graphtape_cassette=str(cassette)) as (addon, _):
        flow = graph_flow("GET", "/me/messages?$top=1", headers={"Authorization": f"Bearer {JWT}"})
        send(addon, flow, upstream=graph_response(200, MESSAGES))
        [ex] = addon.session.exchanges
        assert (ex.outcome, ex.interaction, ex.status) == (Outcome.RECORDED, 0, 200)
        [stored] = load_cassette(cassette).interactions  # written before the response hook returned
    assert stored.request.url == "https://graph.microsoft.com/v1.0/me/messages?$top=1"
    assert stored.response.status == 200 and stored.duration_ms is not None
    assert JWT not in cassette.read_text()


def test_a_header_and_a_parameter_named_for_redaction_are_not_stored(cassette: Path) -> None:
    with running_addon(graphtape_mode="record", graphtape_cassette=str(cassette),
                       graphtape_redact_headers=["X-Contoso-Session"],
                       graphtape_redact_params=["contoso_sig"]) as (addon, _):
        flow = graph_flow("GET", "/me?contoso_sig=plain-sig-value", headers={"X-Contoso-Session": "plain-session"})
        send(addon, flow, upstream=graph_response(200, {"id": "me"}))
        assert [e.outcome for e in addon.session.exchanges] == [Outcome.RECORDED]
        assert "plain-sig-value" not in addon.session.exchanges[0].url
    text = cassette.read_text()
    assert "plain-session" not in text and "plain-sig-value" not in text
    assert "X-Contoso-Session" in text  # the header is kept, its value is not


def test_a_header_named_for_redaction_mid_session_is_not_stored(cassette: Path) -> None:
    with running_addon(graphtape_mode="record", graphtape_cassette=str(cassette)) as (addon, tctx):
        tctx.configure(addon, graphtape_redact_headers=["X-Contoso-Session"],  # e.g. in mitmweb's options
                       graphtape_redact_params=["contoso_sig"])
        flow = graph_flow("GET", "/me?contoso_sig=plain-sig-value", headers={"X-Contoso-Session": "plain-session"})
        send(addon, flow, upstream=graph_response(200, {"id": "me"}))
        assert "plain-sig-value" not in addon.session.exchanges[0].url
    text = cassette.read_text()
    assert "X-Contoso-Session" in text
    assert "plain-session" not in text and "plain-sig-value" not in text


def test_a_call_holding_a_token_is_refused_and_fails_the_session(cassette: Path) -> None:
    with running_addon(graphtape_mode="record", graphtape_cassette=str(cassette)) as (addon, _):
        send(addon, graph_flow("GET", "/me"), upstream=graph_response(200, {"id": "me", "note": JWT}))
        [ex] = addon.session.exchanges
        assert ex.outcome == Outcome.NOT_RECORDED and ex.interaction is None
        assert len(addon.session.problems) == 1
        assert JWT not in ex.note and JWT not in addon.session.problems[0]
        addon.done()
        assert addon.failures
    assert recorded_urls(cassette) == []


def test_a_failed_write_is_not_recorded_and_fails_the_session(cassette: Path) -> None:
    with running_addon(graphtape_mode="record", graphtape_cassette=str(cassette)) as (addon, _):
        send(addon, graph_flow("GET", "/me"), upstream=graph_response(200, {"id": "me"}))
        shutil.rmtree(cassette.parent)
        cassette.parent.write_text("a file where the cassette's folder was")  # every later write fails
        send(addon, graph_flow("GET", "/me/messages"), upstream=graph_response(200, MESSAGES))
        assert [e.outcome for e in addon.session.exchanges] == [Outcome.RECORDED, Outcome.NOT_RECORDED]
        assert addon.session.exchanges[1].note and addon.session.problems
        addon.done()
        assert addon.failures


def test_a_cassette_that_cannot_be_synced_at_the_end_fails_the_session(cassette: Path) -> None:
    with running_addon(graphtape_mode="record", graphtape_cassette=str(cassette)) as (addon, _):
        send(addon, graph_flow("GET", "/me"), upstream=graph_response(200, {"id": "me"}))
        cassette.unlink()  # deleted under the recorder: the final fsync cannot open it
        addon.done()
        assert addon.session.problems and addon.failures


def test_an_upstream_failure_is_a_problem_in_record(cassette: Path) -> None:
    with running_addon(graphtape_mode="record", graphtape_cassette=str(cassette)) as (addon, _):
        flow = graph_flow("GET", "/me/messages")
        addon.request(flow)
        flow.error = mflow.Error("connection refused")
        addon.error(flow)
        [ex] = addon.session.exchanges
        assert ex.outcome == Outcome.FAILED and ex.note
        assert len(addon.session.problems) == 1
    assert recorded_urls(cassette) == []


def test_an_upstream_failure_is_shown_not_failed_in_inspect() -> None:
    with running_addon(graphtape_mode="inspect") as (addon, _):
        flow = graph_flow("GET", "/me/messages")
        addon.request(flow)
        flow.error = mflow.Error("connection refused")
        addon.error(flow)
        assert [e.outcome for e in addon.session.exchanges] == [Outcome.FAILED]
        assert addon.session.problems == []


def test_an_error_outside_graph_is_ignored(cassette: Path) -> None:
    with running_addon(graphtape_mode="record", graphtape_cassette=str(cassette)) as (addon, _):
        flow = graph_flow("GET", "https://example.com/")
        addon.request(flow)
        flow.error = mflow.Error("connection refused")
        addon.error(flow)
        assert addon.session.exchanges == [] and addon.session.problems == []


def test_a_body_over_the_limit_passes_through_unrecorded(cassette: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MAX_BODY_ENV, "0.001")  # 1048 bytes
    big = {"message": {**SEND_MAIL["message"], "body": {"content": "x" * 2000}}}
    with running_addon(graphtape_mode="record", graphtape_cassette=str(cassette)) as (addon, _):
        flow = send(addon, graph_flow("POST", "/me/sendMail", big), upstream=graph_response(202))
        assert flow.response is not None and flow.response.status_code == 202  # the upstream's answer
        [ex] = addon.session.exchanges
        assert (ex.outcome, ex.status) == (Outcome.NOT_RECORDED, 202) and ex.note
        assert len(addon.session.problems) == 1
    assert recorded_urls(cassette) == []


def test_a_body_over_the_limit_is_observed_in_inspect(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MAX_BODY_ENV, "0.001")
    with running_addon(graphtape_mode="inspect") as (addon, _):
        send(addon, graph_flow("GET", "/me/messages"), upstream=graph_response(200, {"value": ["x" * 2000]}))
        [ex] = addon.session.exchanges
        assert (ex.outcome, ex.status) == ("observed", 200) and ex.note
        assert addon.session.problems == []


def test_a_streamed_request_goes_upstream_and_is_reported_unrecorded(cassette: Path) -> None:
    with running_addon(graphtape_mode="record", graphtape_cassette=str(cassette),
                       graphtape_upstream="https://127.0.0.1:8443") as (addon, _):
        flow = graph_flow("POST", "/me/sendMail", SEND_MAIL)
        flow.request.stream = True  # mitmproxy decided in requestheaders to stream the body (over the limit)
        addon.requestheaders(flow)
        assert (flow.request.host, flow.request.port) == ("127.0.0.1", 8443)
        flow.request.raw_content = None  # streamed: not kept
        addon.request(flow)
        flow.response = graph_response(202)
        addon.response(flow)
        [ex] = addon.session.exchanges
        assert ex.outcome == Outcome.NOT_RECORDED and ex.url.endswith("/v1.0/me/sendMail")
    assert recorded_urls(cassette) == []


def test_requestheaders_leaves_a_kept_body_to_request(cassette: Path) -> None:
    with running_addon(graphtape_mode="record", graphtape_cassette=str(cassette),
                       graphtape_upstream="https://127.0.0.1:8443") as (addon, _):
        flow = graph_flow("GET", "/me")
        addon.requestheaders(flow)
        assert flow.request.host == "graph.microsoft.com" and flow.metadata == {}


def test_contract_errors_are_recorded_with_their_findings_under_report(cassette: Path) -> None:
    with running_addon(graphtape_mode="record", graphtape_cassette=str(cassette)) as (addon, _):
        flow = send(addon, graph_flow("POST", "/me/sendMail", {}), upstream=graph_response(202))
        [ex] = addon.session.exchanges
        assert ex.outcome == Outcome.RECORDED and [f.rule for f in ex.errors] == ["parameter.missing"]
        assert flow.marked
        addon.done()
        assert addon.failures  # violation is in the default fail-on
    assert len(recorded_urls(cassette)) == 1


def test_enforce_answers_a_contract_error_without_sending_or_recording(cassette: Path) -> None:
    with running_addon(graphtape_mode="record", graphtape_cassette=str(cassette),
                       graphtape_policy="enforce") as (addon, _):
        flow = graph_flow("POST", "/me/sendMail", {})
        addon.request(flow)
        assert flow.response is not None and flow.response.status_code == 400
        addon.response(flow)  # mitmproxy still calls response for the answer graphtape gave
        [ex] = addon.session.exchanges
        assert (ex.outcome, ex.status) == (Outcome.REJECTED, 400)
        assert flow.marked
    assert recorded_urls(cassette) == []


def test_append_adds_to_an_existing_cassette(cassette: Path) -> None:
    with running_addon(graphtape_mode="record", graphtape_cassette=str(cassette)) as (addon, _):
        send(addon, graph_flow("GET", "/me"), upstream=graph_response(200, {"id": "me"}))
        addon.done()
    with running_addon(graphtape_mode="record", graphtape_cassette=str(cassette),
                       graphtape_record_mode="append", graphtape_fsync=True) as (addon, _):
        send(addon, graph_flow("GET", "/me/messages"), upstream=graph_response(200, MESSAGES))
        assert addon.session.exchanges[0].interaction == 1
        addon.done()
    assert [u.rsplit("/v1.0", 1)[1] for u in recorded_urls(cassette)] == ["/me", "/me/messages"]


def test_quiet_recording_records_the_same_and_logs_nothing_per_call(cassette: Path,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    with running_addon(graphtape_mode="record", graphtape_cassette=str(cassette), graphtape_quiet=True) as (addon, _):
        send(addon, graph_flow("POST", "/me/sendMail", {}), upstream=graph_response(202))
        [ex] = addon.session.exchanges
        assert ex.outcome == Outcome.RECORDED and ex.errors
    assert not [r for r in caplog.records if r.name.startswith("graphtape")]
    assert len(recorded_urls(cassette)) == 1


def test_a_call_without_timestamps_is_recorded_without_a_duration(cassette: Path) -> None:
    with running_addon(graphtape_mode="record", graphtape_cassette=str(cassette)) as (addon, _):
        upstream = graph_response(200, {"id": "me"})
        upstream.timestamp_end = None  # e.g. a response graphtape or another addon made up
        send(addon, graph_flow("GET", "/me"), upstream=upstream)
        assert [e.outcome for e in addon.session.exchanges] == [Outcome.RECORDED]
    [stored] = load_cassette(cassette).interactions
    assert stored.duration_ms is None


def test_a_streamed_request_outside_graph_is_only_passed_through(cassette: Path) -> None:
    with running_addon(graphtape_mode="record", graphtape_cassette=str(cassette),
                       graphtape_upstream="https://127.0.0.1:8443") as (addon, _):
        flow = graph_flow("POST", "https://example.com/upload", b"x" * 100)
        flow.request.stream = True
        addon.requestheaders(flow)
        flow.request.raw_content = None
        addon.request(flow)
        flow.response = graph_response(200)
        addon.response(flow)
        assert flow.request.host == "example.com" and addon.session.exchanges == []
    assert recorded_urls(cassette) == []
