"""The proxy runtime (graphtape/proxy/runtime.py): readiness from the running hook, a start that cannot bind,
snapshots that later requests leave alone, cassettes and options switched through it. Real mitmproxy, real TLS."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from graphtape.cassette.format import load_cassette
from graphtape.proxy.addon import GraphTape
from graphtape.proxy.clients import ca_bundle
from graphtape.proxy.inprocess import ProxyThread
from graphtape.proxy.runtime import ProxyFailed, ProxyRuntime

SEND = "https://graph.microsoft.com/beta/me/messages/AAMkAGRWAAAFSmKXAAA=/send"
SEND_MAIL = "https://graph.microsoft.com/v1.0/me/sendMail"
MAIL = {"message": {"subject": "Report", "toRecipients": [{"emailAddress": {"address": "megan@contoso.com"}}]}}


def options(confdir: Path, cassette: Path, **more: Any) -> dict[str, Any]:
    return {"listen_host": "127.0.0.1", "listen_port": 0, "confdir": str(confdir), "mode": ["regular"],
            "connection_strategy": "lazy", "graphtape_mode": "replay", "graphtape_cassette": str(cassette), **more}


def client(runtime: ProxyRuntime, confdir: Path) -> httpx.Client:
    assert runtime.address is not None
    host, port = runtime.address
    return httpx.Client(proxy=f"http://{host}:{port}", verify=str(ca_bundle(str(confdir))[1]))


def test_ready_is_set_by_the_running_hook_not_when_the_port_first_takes_connections(confdir, seed, monkeypatch):
    gate, in_hook = threading.Event(), threading.Event()
    running = GraphTape.running

    def held(self: GraphTape) -> None:  # the running hook, held until the test lets it go on
        in_hook.set()
        assert gate.wait(30)
        running(self)

    monkeypatch.setattr(GraphTape, "running", held)
    runtime = ProxyRuntime(options(confdir, seed("send-draft")))
    try:
        with ThreadPoolExecutor(1) as pool:
            started = pool.submit(runtime.start)
            assert in_hook.wait(30)
            assert runtime.master is not None
            port = runtime.master.addons.get("proxyserver").listen_addrs()[0][1]
            socket.create_connection(("127.0.0.1", port), timeout=5).close()  # bound: a port poll says "up"
            time.sleep(0.2)
            assert not runtime.ready.is_set() and runtime.address is None and not started.done()
            gate.set()
            assert started.result(30) is runtime
        assert runtime.ready.is_set() and runtime.address == ("127.0.0.1", port)
        with client(runtime, confdir) as c:
            assert c.post(SEND).status_code == 202
    finally:
        gate.set()
        runtime.stop()
    assert not runtime.alive


def test_open_in_this_loop_returns_the_address_the_proxy_listens_on(confdir, seed):
    async def main() -> tuple[tuple[str, int], int, list[str]]:
        runtime = ProxyRuntime(options(confdir, seed("send-draft")))
        address = await runtime.open()
        assert runtime.ready.is_set()

        def send() -> int:
            with client(runtime, confdir) as c:
                return c.post(SEND).status_code

        status = await asyncio.to_thread(send)
        runtime.stop_soon()
        await runtime.closed()
        return address, status, runtime.failures

    (host, port), status, failures = asyncio.run(main())
    assert host == "127.0.0.1" and port > 0 and status == 202 and failures == []


@pytest.mark.parametrize("how", ["thread", "loop"])
def test_a_start_that_cannot_bind_says_why_at_once_instead_of_hanging(confdir, seed, how):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        runtime = ProxyRuntime(options(confdir, seed("send-draft"), listen_port=port), timeout=120)
        t0 = time.monotonic()
        with pytest.raises(ProxyFailed, match=rf"port {port} on 127\.0\.0\.1 is in use"):
            if how == "thread":
                runtime.start()
            else:
                asyncio.run(runtime.open())
        assert time.monotonic() - t0 < 60  # when mitmproxy gave up, not at the 120 s timeout
    assert not runtime.ready.is_set() and runtime.address is None and not runtime.alive


def test_a_bad_option_is_refused_before_anything_listens(confdir, seed):
    runtime = ProxyRuntime(options(confdir, seed("send-draft"), graphtape_policy="sometimes"))
    with pytest.raises(ProxyFailed, match="graphtape_policy"):
        runtime.start()
    assert not runtime.ready.is_set() and not runtime.alive


def test_a_snapshot_does_not_change_when_the_proxy_serves_more_requests(confdir, seed):
    proxy = ProxyThread(confdir).start()
    try:
        proxy.switch("replay", seed("send-draft"))
        with httpx.Client(proxy=proxy.url, verify=proxy.env()["CURL_CA_BUNDLE"]) as c:
            assert c.post(SEND).status_code == 202
            first = proxy.snapshot()
            assert [(e.number, e.outcome, e.status) for e in first.exchanges] == [(1, "matched", 202)]
            assert c.post(SEND).status_code == 410
            assert c.post(SEND_MAIL, json=MAIL).status_code == 404
        assert [(e.number, e.outcome, e.status) for e in first.exchanges] == [(1, "matched", 202)]
        later = proxy.snapshot()
        assert [e.outcome for e in later.exchanges] == ["matched", "exhausted", "unmatched"]
        later.exchanges.clear()  # the copy is the caller's: the proxy's session keeps its exchanges
        ended = proxy.idle()
        assert [e.outcome for e in ended.exchanges] == ["matched", "exhausted", "unmatched"]
    finally:
        proxy.stop()


def test_cassettes_and_options_switch_through_the_runtime_record_then_replay(tmp_path, confdir, seed, fake_graph):
    draft, recorded = seed("send-draft"), tmp_path / "recorded.yaml"
    broken = tmp_path / "broken.yaml"
    broken.write_text("graphtape_cassette: 1\ninteractions: [oops\n")
    runtime = ProxyRuntime(options(confdir, draft, graphtape_upstream=fake_graph.url,
                                   ssl_verify_upstream_trusted_ca=str(fake_graph.cert))).start()
    try:
        with client(runtime, confdir) as c:
            assert [c.post(SEND).status_code for _ in range(2)] == [202, 410]  # no repeats by default
            ended = runtime.switch("replay", draft, graphtape_allow_repeats=True)
            assert ended.cassette == str(draft) and [e.outcome for e in ended.exchanges] == ["matched", "exhausted"]
            assert [c.post(SEND).status_code for _ in range(3)] == [202, 202, 202]  # the option took

            ended = runtime.switch("record", recorded)  # the options not named go back to their defaults
            assert [e.outcome for e in ended.exchanges] == ["matched"] * 3
            assert c.post(SEND_MAIL, json=MAIL).status_code == 202  # through to the stand-in, recorded

            ended = runtime.switch("replay", recorded)
            assert [e.outcome for e in ended.exchanges] == ["recorded"] and ended.problems == []
            assert len(load_cassette(recorded).interactions) == 1
            assert [c.post(SEND_MAIL, json=MAIL).status_code for _ in range(2)] == [202, 410]

            with pytest.raises(ProxyFailed, match=r"broken\.yaml"):
                runtime.switch("replay", broken)
            with pytest.raises(ValueError, match="graphtape_\\* options only"):
                runtime.switch("replay", draft, listen_port=1)
            assert c.post(SEND_MAIL, json=MAIL).status_code == 202  # the recorded cassette again, a fresh session
        last = runtime.stop()
    finally:
        runtime.stop()
    assert last.cassette == str(recorded) and [e.outcome for e in last.exchanges] == ["matched"]
    assert not runtime.alive


def test_a_cassette_switch_sets_the_options_it_names_and_a_refused_one_changes_nothing(confdir, seed, tmp_path):
    # The switch takes the quick way (proxy/tapeswitch.py: no options.update round): the options must still say
    # what is open, a refused value must leave nothing half set, and a cassette that cannot be opened leaves the
    # previous one open again (a fresh session of it), as mitmproxy's rollback did.
    draft = seed("send-draft")
    proxy = ProxyThread(confdir).start()
    try:
        assert proxy.master is not None
        opts = proxy.master.options
        with httpx.Client(proxy=proxy.url, verify=proxy.env()["CURL_CA_BUNDLE"]) as c:
            proxy.switch("replay", draft, graphtape_allow_repeats=True)
            assert (opts.graphtape_mode, opts.graphtape_cassette, opts.graphtape_allow_repeats) == (
                "replay", str(draft), True)
            assert [c.post(SEND).status_code for _ in range(2)] == [202, 202]
            with pytest.raises(ProxyFailed, match="graphtape_record_mode='apend' is not a valid value"):
                proxy.switch("record", tmp_path / "new.yaml", graphtape_record_mode="apend")
            assert (opts.graphtape_mode, opts.graphtape_cassette, opts.graphtape_record_mode,
                    opts.graphtape_allow_repeats) == ("replay", str(draft), "overwrite", True)
            assert c.post(SEND).status_code == 202 and not (tmp_path / "new.yaml").exists()
            assert [e.outcome for e in proxy.snapshot().exchanges] == ["matched"] * 3  # the same session goes on

            broken = tmp_path / "broken.yaml"
            broken.write_text("graphtape_cassette: 1\ninteractions: [oops\n")
            with pytest.raises(ProxyFailed, match=r"broken\.yaml:3: invalid YAML"):
                proxy.switch("replay", broken)
            assert (opts.graphtape_cassette, opts.graphtape_allow_repeats) == (str(draft), True)
            assert proxy.snapshot().exchanges == [] and c.post(SEND).status_code == 202
            ended = proxy.idle()
            assert ended.cassette == str(draft) and [e.status for e in ended.exchanges] == [202]
            r = c.post(SEND)
            assert r.status_code == 404 and r.json()["error"]["code"] == "graphtape.UnmatchedRequest"
            proxy.switch("replay", draft)
            assert [c.post(SEND).status_code for _ in range(2)] == [202, 410]  # repeats back to the default
    finally:
        proxy.stop()


def test_an_addon_added_to_the_running_proxy_sees_the_next_calls_and_one_removed_sees_none(confdir, seed):
    """The runtime's addon manager finds each event's handlers in a table (dispatch.py): a change to the chain while
    traffic flows must reach the next request, through the real proxy, as with mitmproxy's own manager."""
    from graphtape.proxy.dispatch import HookTable

    class Spy:
        def __init__(self) -> None:
            self.seen: list[str] = []

        def request(self, flow: Any) -> None:
            self.seen.append(flow.request.path)

        def response(self, flow: Any) -> None:
            flow.response.headers["x-spy"] = "1"

    runtime = ProxyRuntime(options(confdir, seed("send-draft"), graphtape_allow_repeats=True)).start()
    try:
        assert runtime.master is not None and isinstance(runtime.master.addons, HookTable)
        spy = Spy()
        with client(runtime, confdir) as c:
            first = c.post(SEND)  # the table is built for request and response here
            runtime.call(lambda: runtime.master.addons.add(spy))  # type: ignore[union-attr]
            second = c.post(SEND)
            runtime.call(lambda: runtime.master.addons.remove(spy))  # type: ignore[union-attr]
            third = c.post(SEND)
    finally:
        runtime.stop()
    assert [r.status_code for r in (first, second, third)] == [202, 202, 202]
    assert "x-spy" not in first.headers and second.headers["x-spy"] == "1" and "x-spy" not in third.headers
    assert spy.seen == ["/beta/me/messages/AAMkAGRWAAAFSmKXAAA=/send"]


def test_a_started_proxy_leaves_the_collector_on_with_what_its_start_made_frozen(confdir, seed):
    import gc

    gc.unfreeze()
    try:
        runtime = ProxyRuntime(options(confdir, seed("send-draft"))).start()
        try:
            assert gc.isenabled() and gc.get_freeze_count() > 10_000  # mitmproxy's and graphtape's modules, at least
            with client(runtime, confdir) as c:
                assert c.post(SEND).status_code == 202
        finally:
            runtime.stop()
    finally:
        gc.unfreeze()
