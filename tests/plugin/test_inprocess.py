"""ProxyThread: one in-process proxy switched between cassettes without a restart."""

from __future__ import annotations

import json
import shutil
import time

import httpx
import pytest

from conftest import SEEDS, Listener
from graphtape.model import Mode
from graphtape.proxy.inprocess import ProxyThread
from graphtape.proxy.runtime import ProxyFailed

SEND = "https://graph.microsoft.com/beta/me/messages/AAMkAGRWAAAFSmKXAAA=/send"


def test_switch_serves_each_cassette_and_returns_the_session_that_ended(tmp_path, confdir, listener: Listener):
    cassette = tmp_path / "send-draft.yaml"
    shutil.copy(SEEDS / "send-draft.yaml", cassette)
    broken = tmp_path / "broken.yaml"
    broken.write_text("graphtape_cassette: 1\ninteractions: [oops\n")
    proxy = ProxyThread(confdir, upstream=f"http://127.0.0.1:{listener.port}").start()
    try:
        port = proxy.port
        with httpx.Client(proxy=proxy.url, verify=proxy.env()["CURL_CA_BUNDLE"]) as client:
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
        with pytest.raises(ValueError, match="switch to replay, record, simulate or new_episodes"):
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
    setup = GraphTape._open

    def failing(self: GraphTape, mode: Mode, path: str) -> None:
        if path.endswith("odd.yaml"):
            raise RuntimeError("the loader tripped")
        setup(self, mode, path)

    monkeypatch.setattr(GraphTape, "_open", failing)
    proxy = ProxyThread(confdir).start()
    try:
        with httpx.Client(proxy=proxy.url, verify=proxy.env()["CURL_CA_BUNDLE"]) as client:
            with pytest.raises(ProxyFailed, match=r"cannot replay .*odd\.yaml: .*the loader tripped"):
                proxy.switch("replay", tmp_path / "odd.yaml")
            r = client.post(SEND)
            assert r.status_code == 404 and r.json()["error"]["code"] == "graphtape.UnmatchedRequest"  # idle, not 502
            proxy.switch("replay", cassette)
            assert client.post(SEND).status_code == 202
    finally:
        proxy.stop()


class _SlowGraph:
    """An upstream on loopback that answers each call ``delay`` seconds after it came (``arrived`` is set then)."""

    def __init__(self, delay: float) -> None:
        import http.server
        import threading

        self.arrived = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.arrived.set()
                time.sleep(delay)
                body = json.dumps({"id": "me", "displayName": "Me"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("how", ["switch", "stop"])
def test_a_call_in_flight_is_recorded_before_the_proxy_switches_or_stops(how, tmp_path, confdir):
    from concurrent.futures import ThreadPoolExecutor

    from graphtape.cassette.format import load_cassette

    graph, cassette = _SlowGraph(delay=0.5), tmp_path / "rec.yaml"
    proxy = ProxyThread(confdir, upstream=f"http://127.0.0.1:{graph.port}", stop_wait=5).start()
    try:
        proxy.switch("record", cassette)
        with httpx.Client(proxy=proxy.url, verify=proxy.env()["CURL_CA_BUNDLE"]) as client, \
                ThreadPoolExecutor(1) as pool:
            answer = pool.submit(client.get, "https://graph.microsoft.com/v1.0/me")
            assert graph.arrived.wait(10)
            ended = proxy.idle() if how == "switch" else proxy.stop()  # while the call is in flight
            assert answer.result(10).status_code == 200
        assert [e.outcome for e in ended.exchanges] == ["recorded"] and ended.problems == []
        assert len(load_cassette(cassette).interactions) == 1
        if how == "switch":  # and the proxy goes on taking calls
            proxy.switch("record", tmp_path / "next.yaml")
            assert proxy.snapshot().exchanges == [] and proxy.alive
    finally:
        proxy.stop()
        graph.close()
