"""ProxyThread: one in-process proxy switched between cassettes without a restart."""

from __future__ import annotations

import shutil

import httpx
import pytest

from conftest import SEEDS, Listener
from graphtape.cli import ProxyFailed
from graphtape.model import Mode
from graphtape.proxy.inprocess import ProxyThread

SEND = "https://graph.microsoft.com/beta/me/messages/AAMkAGRWAAAFSmKXAAA=/send"


def test_switch_serves_each_cassette_and_returns_the_session_that_ended(tmp_path, confdir, listener: Listener):
    cassette = tmp_path / "send-draft.yaml"
    shutil.copy(SEEDS / "send-draft.yaml", cassette)
    broken = tmp_path / "broken.yaml"
    broken.write_text("graphtape_cassette: 1\ninteractions: [oops\n")
    proxy = ProxyThread(confdir, upstream=f"http://127.0.0.1:{listener.port}").start()
    try:
        port = proxy.port
        with httpx.Client(proxy=proxy.url, verify=proxy.env()["SSL_CERT_FILE"]) as client:
            assert client.post(SEND).status_code == 404  # idle: nothing is served
            idle = proxy.switch("replay", cassette)
            assert [e.outcome for e in idle.exchanges] == ["unmatched"]

            assert client.post(SEND).status_code == 202
            assert client.post(SEND).status_code == 410  # used up
            served = proxy.idle()
            assert served.cassette == str(cassette) and [e.outcome for e in served.exchanges] == ["matched",
                                                                                                 "exhausted"]
            assert client.post(SEND).status_code == 404  # idle again

            with pytest.raises(ProxyFailed, match=r"broken\.yaml"):
                proxy.switch("replay", broken)
            assert client.post(SEND).status_code == 404  # still closed: the previous (idle) tape
            proxy.switch("replay", cassette)  # a fresh session of the same cassette: served again
            assert client.post(SEND).status_code == 202
        assert proxy.port == port and proxy.alive
        with pytest.raises(ValueError, match="replay or record"):
            proxy.switch("inspect", cassette)
    finally:
        last = proxy.stop()
    assert [e.outcome for e in last.exchanges] == ["matched"]
    assert not proxy.alive and listener.connections == 0
    with pytest.raises(ProxyFailed, match="not running"):
        proxy.switch("replay", cassette)


def test_a_cassette_whose_setup_mitmproxy_only_logs_is_refused_and_the_proxy_stays_closed(tmp_path, confdir,
                                                                                          monkeypatch):
    # mitmproxy logs (and swallows) an addon's exception in configure: the switch must not look like it worked.
    from graphtape.proxy.addon import GraphTape

    cassette = tmp_path / "send-draft.yaml"
    shutil.copy(SEEDS / "send-draft.yaml", cassette)
    setup = GraphTape._setup

    def failing(self: GraphTape, mode: Mode, path: str) -> None:
        if path.endswith("odd.yaml"):
            self.replayer = None
            raise RuntimeError("the loader tripped")
        setup(self, mode, path)

    monkeypatch.setattr(GraphTape, "_setup", failing)
    proxy = ProxyThread(confdir).start()
    try:
        with httpx.Client(proxy=proxy.url, verify=proxy.env()["SSL_CERT_FILE"]) as client:
            with pytest.raises(ProxyFailed, match=r"cannot replay .*odd\.yaml: .*the loader tripped"):
                proxy.switch("replay", tmp_path / "odd.yaml")
            r = client.post(SEND)
            assert r.status_code == 404 and r.json()["error"]["code"] == "graphtape.UnmatchedRequest"  # idle, not 502
            proxy.switch("replay", cassette)
            assert client.post(SEND).status_code == 202
    finally:
        proxy.stop()
