"""Outlook's limits through the real proxy (a faults file's ``limits:``): concurrent httpx clients on one mailbox,
the request window reached in seconds with ``--faults-scale``, uploads over the scaled 150 MB, a ``$batch`` counted
item by item. Inspect mode in front of the stand-in for Graph, which answers after a latency so calls overlap."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from graphtape.signin.tokens import jwt
from graphtape.testing.fakegraph import FakeGraph

GRAPH = "https://graph.microsoft.com/v1.0"
HEADERS = {"Authorization": "Bearer " + jwt({"appid": "app-1", "oid": "user-1"})}  # JWT-shaped, made at runtime


@pytest.fixture
def slow_graph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeGraph]:
    with FakeGraph(tmp_path_factory.getbasetemp() / "fakegraph-cert") as graph:
        yield graph


def _faults(tmp_path: Path, limits: dict[str, Any]) -> str:
    path = tmp_path / "faults.yaml"
    path.write_text(json.dumps({"limits": limits}), encoding="utf-8")  # JSON is YAML
    return str(path)


def _inspect(proxy: Any, graph: FakeGraph, faults: str, *more: str) -> Any:
    return proxy("inspect", "--upstream", graph.url, "--upstream-ca", str(graph.cert), "--faults", faults, *more)


def _client(proxy: Any) -> httpx.Client:
    return httpx.Client(proxy=proxy.url, verify=str(proxy.ca), timeout=30, headers=HEADERS)


def _wave(clients: list[httpx.Client]) -> list[httpx.Response]:
    """Every client sends one GET at the same moment (threads behind a barrier); their answers."""
    barrier = threading.Barrier(len(clients))
    out: list[httpx.Response | None] = [None] * len(clients)

    def send(i: int) -> None:
        barrier.wait()
        out[i] = clients[i].get(f"{GRAPH}/me/messages")

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return [r for r in out if r is not None]


def _concurrent(proxy: Any, graph: FakeGraph, n: int, waves: int) -> list[list[int]]:
    clients = [_client(proxy) for _ in range(n)]
    try:
        for c in clients:  # connect and warm up one by one (TLS, the upstream connection), with no latency
            assert c.get(f"{GRAPH}/me/messages").status_code == 200
        graph.state.latency_s = 0.8  # now each answer takes long enough for all the wave's calls to overlap
        statuses = []
        for _ in range(waves):
            answers = _wave(clients)
            assert len(answers) == n
            for r in answers:
                if r.status_code == 429:
                    assert r.json()["error"]["code"] == "ApplicationThrottled"
                    assert r.json()["error"]["message"] == "Application is over its MailboxConcurrency limit."
                    assert int(r.headers["retry-after"]) >= 1
            statuses.append(sorted(r.status_code for r in answers))
        return statuses
    finally:
        graph.state.latency_s = 0.0
        for c in clients:
            c.close()


def test_8_concurrent_clients_on_one_mailbox_see_429s_and_4_never_do(tmp_path: Path, proxy, slow_graph) -> None:
    faults = _faults(tmp_path, {"concurrency": 4})
    eight = _inspect(proxy, slow_graph, faults)
    assert _concurrent(eight, slow_graph, 8, waves=2) == [[200] * 4 + [429] * 4] * 2
    eight.stop()
    four = _inspect(proxy, slow_graph, faults)
    assert _concurrent(four, slow_graph, 4, waves=3) == [[200] * 4] * 3
    four.stop()


def test_the_request_window_is_reached_in_seconds_with_faults_scale(tmp_path: Path, proxy, fake_graph) -> None:
    # 10,000 x 0.001 = 10 requests per window; the 10 minutes x 0.005 = 3 s
    watch = _inspect(proxy, fake_graph, _faults(tmp_path, {}), "--faults-scale", "0.001",
                     "--faults-time-scale", "0.005")
    started = time.monotonic()
    with _client(watch) as c:
        assert [c.get(f"{GRAPH}/me/messages").status_code for _ in range(10)] == [200] * 10
        over = c.get(f"{GRAPH}/me/messages")
        assert over.status_code == 429
        assert over.json()["error"]["message"] == "Application is over its Request limit."
        assert 1 <= int(over.headers["retry-after"]) <= 3
        assert c.get(f"{GRAPH}/me/messages").status_code == 429  # at once: still over, and too soon
        time.sleep(int(over.headers["retry-after"]))
        assert c.get(f"{GRAPH}/me/messages").status_code == 200
    assert time.monotonic() - started < 15
    watch.stop()
    assert "warning: retry.too-soon" in watch.stderr  # the immediate retry, held to the shortened wait


def test_uploads_over_150_mb_scaled_are_refused(tmp_path: Path, proxy, fake_graph) -> None:
    watch = _inspect(proxy, fake_graph, _faults(tmp_path, {}), "--faults-scale", "0.01")  # 1.5 MB per 5 min
    draft = {"subject": "big", "body": {"contentType": "text", "content": "x" * 1_000_000}}
    with _client(watch) as c:
        assert c.post(f"{GRAPH}/me/messages", json=draft).status_code == 201
        refused = c.post(f"{GRAPH}/me/messages", json=draft)
        assert refused.status_code == 429
        assert refused.json()["error"]["message"] == "Application is over its IncomingBytes limit."
        assert 1 <= int(refused.headers["retry-after"]) <= 300
        assert c.get(f"{GRAPH}/me/messages").status_code == 200  # reads upload nothing
    watch.stop()
    assert sum(1 for r in fake_graph.state.received if r.method == "POST") == 1  # the refused one never went on


def test_a_batch_is_counted_item_by_item(tmp_path: Path, proxy, fake_graph) -> None:
    watch = _inspect(proxy, fake_graph, _faults(tmp_path, {"requests": 5}))

    def batch(*ids: str) -> dict[str, Any]:
        return {"requests": [{"id": i, "method": "GET", "url": "/me/messages"} for i in ids]}

    with _client(watch) as c:
        first = c.post(f"{GRAPH}/$batch", json=batch("1", "2", "3", "4"))
        assert first.status_code == 200 and {r["status"] for r in first.json()["responses"]} == {200}
        second = c.post(f"{GRAPH}/$batch", json=batch("a", "b", "c"))
        assert second.status_code == 200  # Graph's batch answer; each item throttled on its own
        by_id = {r["id"]: r for r in second.json()["responses"]}
        assert {i: r["status"] for i, r in by_id.items()} == {"a": 200, "b": 429, "c": 429}
        assert by_id["b"]["body"]["error"]["message"] == "Application is over its Request limit."
        assert c.get(f"{GRAPH}/me/messages").status_code == 429  # the window is full: 4 + 1 items
    watch.stop()


def test_the_time_scale_shortens_a_scripted_retry_after_too(tmp_path: Path, proxy, fake_graph) -> None:
    path = tmp_path / "script.yaml"
    path.write_text(json.dumps({"scripts": [{"method": "GET", "endpoint": "/me/messages", "nth": 1, "status": 429,
                                             "retry_after": 20}]}), encoding="utf-8")
    watch = _inspect(proxy, fake_graph, str(path), "--faults-time-scale", "0.1")
    with _client(watch) as c:
        first = c.get(f"{GRAPH}/me/messages")
        assert first.status_code == 429 and first.headers["retry-after"] == "2"  # 20 s x 0.1
        time.sleep(2)
        assert c.get(f"{GRAPH}/me/messages").status_code == 200
    watch.stop()
    assert "retry.too-soon" not in watch.stderr  # waited the shortened wait: on time


def test_a_replayed_batch_gets_its_throttled_items_429_and_the_rest_as_recorded(tmp_path: Path, proxy,
                                                                                fake_graph) -> None:
    cassette = tmp_path / "batch.yaml"
    body = {"requests": [{"id": i, "method": "GET", "url": "/me/messages"} for i in ("1", "2", "3")]}
    rec = proxy("record", str(cassette), "--upstream", fake_graph.url, "--upstream-ca", str(fake_graph.cert))
    with _client(rec) as c:
        assert c.post(f"{GRAPH}/$batch", json=body).status_code == 200
    assert rec.stop() == 0, rec.output
    rep = proxy("replay", str(cassette), "--faults", _faults(tmp_path, {"requests": 1}))
    with _client(rep) as c:
        answer = c.post(f"{GRAPH}/$batch", json=body)
    assert rep.stop() == 0, rep.output
    assert answer.status_code == 200
    statuses = {r["id"]: r["status"] for r in answer.json()["responses"]}
    assert statuses == {"1": 200, "2": 429, "3": 429}
    assert "matched 1, unmatched 0" in rep.stderr
