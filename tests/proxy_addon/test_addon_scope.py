"""Inspect, and what graphtape leaves alone: hosts outside Graph, token endpoints, mode off; --upstream routing."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from graphtape.cassette.format import load_cassette
from graphtape.model import Outcome

from .addon_support import JWT, SEND_MAIL, graph_flow, graph_response, running_addon, send

UPSTREAM = "http://127.0.0.1:8443/graph-stand-in"


def test_inspect_describes_the_call_on_the_flow() -> None:
    with running_addon(graphtape_mode="inspect") as (addon, _):
        flow = send(addon, graph_flow("POST", "/me/sendMail", SEND_MAIL), upstream=graph_response(202))
        [ex] = addon.session.exchanges
        assert (ex.outcome, ex.status, ex.interaction) == (Outcome.OBSERVED, 202, None)
        assert "/v1.0/me/sendMail" in flow.comment and "202" in flow.comment


def test_inspect_lists_contract_findings_on_the_flow(caplog: pytest.LogCaptureFixture) -> None:
    with running_addon(graphtape_mode="inspect", graphtape_quiet=True) as (addon, _):
        flow = send(addon, graph_flow("POST", "/me/sendMail", {}), upstream=graph_response(202))
        [ex] = addon.session.exchanges
        assert [f.rule for f in ex.errors] == ["parameter.missing"]
        assert "parameter.missing" in flow.comment
        assert flow.response is not None and flow.response.status_code == 202  # report, not enforce, in inspect
    assert not [r for r in caplog.records if r.name.startswith("graphtape") and r.levelno < logging.ERROR]


@pytest.mark.parametrize("mode", ["record", "inspect"])
def test_a_host_outside_graph_is_untouched_and_not_written_down(mode: str, tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    with running_addon(graphtape_mode=mode, graphtape_cassette=str(path), graphtape_upstream=UPSTREAM) as (addon, _):
        flow = send(addon, graph_flow("GET", "https://example.com/v1.0/me"), upstream=graph_response(200))
        assert (flow.request.host, flow.request.path) == ("example.com", "/v1.0/me")
        assert flow.comment == "" and addon.session.exchanges == []
    if mode == "record":
        assert load_cassette(path).interactions == []


@pytest.mark.parametrize("url", [
    "https://login.microsoftonline.com/tenant/oauth2/v2.0/token",  # out of Graph: never in scope
    "https://graph.microsoft.com/v1.0/oauth2/token",  # a Graph host, but a token endpoint's path
])
def test_token_endpoints_are_never_recorded(url: str, tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    with running_addon(graphtape_mode="record", graphtape_cassette=str(path)) as (addon, _):
        send(addon, graph_flow("POST", url, b"grant_type=client_credentials&client_secret=s3cr3t",
                               {"Content-Type": "application/x-www-form-urlencoded"}),
             upstream=graph_response(200, {"access_token": JWT}))
        assert addon.session.exchanges == [] and addon.session.problems == []
    assert load_cassette(path).interactions == []
    assert JWT not in path.read_text()


def test_upstream_receives_graph_calls_and_the_cassette_keeps_the_graph_url(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    options: dict[str, Any] = {"graphtape_mode": "record", "graphtape_cassette": str(path),
                               "graphtape_upstream": UPSTREAM}
    with running_addon(**options) as (addon, _):
        flow = graph_flow("GET", "/me/messages?$top=2")
        addon.request(flow)
        assert (flow.request.scheme, flow.request.host, flow.request.port) == ("http", "127.0.0.1", 8443)
        assert flow.request.path == "/graph-stand-in/v1.0/me/messages?$top=2"
        flow.response = graph_response(200, {"value": []})
        addon.response(flow)
        assert [e.outcome for e in addon.session.exchanges] == [Outcome.RECORDED]
    [stored] = load_cassette(path).interactions
    assert stored.request.url == "https://graph.microsoft.com/v1.0/me/messages?$top=2"


def test_upstream_also_receives_graph_host_calls_outside_v1_and_beta() -> None:
    with running_addon(graphtape_mode="inspect", graphtape_upstream="https://127.0.0.1") as (addon, _):
        flow = send(addon, graph_flow("GET", "https://graph.microsoft.com/v2.0/me"), upstream=graph_response(200))
        assert (flow.request.host, flow.request.port, flow.request.path) == ("127.0.0.1", 443, "/v2.0/me")
        assert addon.session.exchanges == []  # out of scope: routed, not described


def test_upstream_set_back_to_empty_stops_routing() -> None:
    with running_addon(graphtape_mode="inspect", graphtape_upstream=UPSTREAM) as (addon, tctx):
        tctx.configure(addon, graphtape_upstream="")
        flow = send(addon, graph_flow("GET", "/me"), upstream=graph_response(200, {"id": "me"}))
        assert flow.request.host == "graph.microsoft.com"


def test_mode_off_touches_nothing(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    with running_addon(graphtape_mode="off", graphtape_upstream=UPSTREAM, graphtape_report=str(report)) as (addon, _):
        flow = send(addon, graph_flow("POST", "/me/sendMail", {}), upstream=graph_response(202))
        flow.error = None
        addon.error(flow)
        addon.running()
        addon.done()
        assert flow.request.host == "graph.microsoft.com" and flow.comment == "" and not flow.marked
        assert addon.session.exchanges == [] and addon.listen is None
    assert not report.exists()
