"""What graphtape does when it cannot do its job: a mode that did not open, a bug while opening or retuning,
and the standalone proxy's start (loopback) and end (exit status)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from mitmproxy import exceptions
from mitmproxy.proxy import server_hooks
from mitmproxy.test import tflow

from graphtape.model import Mode, Outcome
from graphtape.proxy import standalone
from graphtape.proxy.modes.off import UnopenedHandler
from graphtape.proxy.modes.replay import ReplayHandler
from graphtape.session.exchanges import Session

from .addon_support import (
    graph_error_code,
    graph_flow,
    graph_response,
    interaction,
    running_addon,
    send,
    write_cassette,
)


@pytest.fixture
def cassette(tmp_path: Path) -> Path:
    return write_cassette(tmp_path / "c.yaml", interaction("GET", "/me", 200, {"id": "me"}))


def test_a_mode_that_did_not_open_refuses_every_call_offline(cassette: Path) -> None:
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(cassette)) as (addon, _):
        session = Session(mode=Mode.REPLAY, cassette=str(cassette))
        addon.handler = UnopenedHandler(Mode.REPLAY, session, addon.shared)  # what opening leaves if it fails
        assert addon.mode == Mode.REPLAY and addon.replayer is None
        flows = [send(addon, graph_flow("GET", url)) for url in ("/me", "https://example.com/")]
        assert [f.response.status_code for f in flows if f.response] == [503, 503]
        assert {graph_error_code(f) for f in flows} == {"graphtape.NotSetUp"}
        assert [e.outcome for e in session.exchanges] == [Outcome.FAILED, Outcome.FAILED]
        assert len(session.problems) == 2 and "is not set up" in session.problems[0]
        data = server_hooks.ServerConnectionHookData(server=tflow.tserver_conn(), client=tflow.tclient_conn())
        addon.server_connect(data)
        assert data.server.error


def test_a_bug_while_opening_a_cassette_is_refused_naming_graphtape(cassette: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object) -> None:
        raise KeyError("a bug")

    monkeypatch.setattr(ReplayHandler, "open", broken)
    with running_addon() as (addon, tctx), pytest.raises(exceptions.OptionsError, match="graphtape check"):
        tctx.configure(addon, graphtape_mode="replay", graphtape_cassette=str(cassette))


def test_a_bad_ignore_rule_set_mid_replay_is_refused_and_the_replay_goes_on(cassette: Path) -> None:
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(cassette)) as (addon, tctx):
        replayer = addon.replayer
        with pytest.raises(exceptions.OptionsError):
            tctx.configure(addon, graphtape_ignore=["body.[unclosed"])
        assert addon.replayer is replayer
        flow = send(addon, graph_flow("GET", "/me"))
        assert flow.response is not None and flow.response.status_code == 200


def test_inspect_leaves_a_token_endpoint_undescribed() -> None:
    with running_addon(graphtape_mode="inspect") as (addon, _):
        flow = send(addon, graph_flow("POST", "https://graph.microsoft.com/v1.0/oauth2/token", b"grant_type=x",
                                      {"Content-Type": "application/x-www-form-urlencoded"}),
                    upstream=graph_response(200, {"token_type": "Bearer"}))
        assert flow.comment == "" and addon.session.exchanges == []


class FakeServers:
    def __init__(self) -> None:
        self.updates: list[list[Any]] = []

    async def update(self, modes: list[Any]) -> None:
        self.updates.append(modes)


class FakeProxyserver:
    """mitmproxy's Proxyserver as mitmdump left it: bound to every interface before graphtape set loopback."""

    name = "proxyserver"

    def __init__(self) -> None:
        self.servers = FakeServers()
        self.addrs = [("0.0.0.0", 8080)]

    def listen_addrs(self) -> list[tuple[str, int]]:
        return self.addrs


def test_standalone_rebinds_to_loopback_then_announces(capsys: pytest.CaptureFixture[str]) -> None:
    with running_addon(standalone=True) as (addon, tctx):
        assert tctx.options.listen_host == standalone.LOOPBACK and addon.loopback_by_default
        ps = FakeProxyserver()
        tctx.master.addons.lookup["proxyserver"] = ps

        async def run() -> None:
            addon.running()
            ps.addrs = [("127.0.0.1", 8080)]
            while addon._tasks:
                await asyncio.sleep(0)

        tctx.master.event_loop.run_until_complete(run())
        assert [len(u) for u in ps.servers.updates] == [0, 1]  # closed, then opened again on loopback
        assert addon.listen == ("127.0.0.1", 8080)
    assert "graphtape: inspect on http://127.0.0.1:8080" in capsys.readouterr().err


def test_standalone_on_every_interface_warns(capsys: pytest.CaptureFixture[str]) -> None:
    with running_addon(standalone=True, listen_host="0.0.0.0", listen_port=18080) as (addon, _):  # the user's: kept
        addon.running()
    err = capsys.readouterr().err
    assert "warning: listening on 0.0.0.0" in err and "http://0.0.0.0:18080" in err


def test_a_failed_standalone_session_ends_mitmdump_with_status_3(cassette: Path) -> None:
    with running_addon(standalone=True, graphtape_mode="replay", graphtape_cassette=str(cassette)) as (addon, _):
        send(addon, graph_flow("GET", "/me/events"))  # unmatched: the session fails

        async def stop() -> None:
            addon.done()

        with pytest.raises(SystemExit) as exited:
            asyncio.run(stop())
        assert exited.value.code == standalone.EXIT_SESSION_FAILED
        assert addon.failures


def test_done_outside_a_loop_leaves_the_exit_to_mitmproxy(cassette: Path) -> None:
    with running_addon(standalone=True, graphtape_mode="replay", graphtape_cassette=str(cassette)) as (addon, _):
        send(addon, graph_flow("GET", "/me/events"))
        addon.done()  # no running loop (a test driving the hooks): nothing to exit
        assert addon.failures


@pytest.mark.parametrize("host, warned", [("localhost", False), ("proxy.contoso.test", True)])
def test_standalone_warns_unless_the_host_is_loopback(host: str, warned: bool,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    with running_addon(standalone=True, listen_host=host, listen_port=18080) as (addon, _):
        addon.running()
    assert ("warning: listening on" in capsys.readouterr().err) is warned


def test_done_twice_closes_the_recording_once(tmp_path: Path) -> None:
    with running_addon(graphtape_mode="record", graphtape_cassette=str(tmp_path / "c.yaml")) as (addon, _):
        send(addon, graph_flow("GET", "/me"), upstream=graph_response(200, {"id": "me"}))
        addon.done()
        addon.done()  # e.g. the CLI's stop, then mitmproxy's own done
        assert addon.recorder is None and addon.failures == []
