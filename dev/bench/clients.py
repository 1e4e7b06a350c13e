"""The one client every proxy is measured with: ``http.client`` over a CONNECT tunnel, HTTP/1.1 keep-alive.

Measured through the floor proxy on the 2-core dev machine: ``http.client`` spends 0.42 ms of client CPU
a request (2.5 ms wall), httpx 1.0 ms (3.2 ms wall); so the lighter client, to keep the figures the proxy's.
Parallel clients are separate processes (``spawn``), so the client side is not held back by one GIL;
they start together on a barrier and their clocks (``perf_counter``, CLOCK_MONOTONIC) are comparable.
"""

from __future__ import annotations

import http.client
import multiprocessing as mp
import ssl
import time
from dataclasses import dataclass
from typing import Any

from dev.bench.workload import GRAPH_HOST, WireRequest


class BenchClientError(Exception):
    """A request answered with another status than its recording: the figures would be meaningless."""


@dataclass
class Run:
    latencies_ms: list[float]
    start: float
    end: float


def connect(port: int, ca: str) -> http.client.HTTPSConnection:
    context = ssl.create_default_context(cafile=ca)
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=60)
    conn.set_tunnel(GRAPH_HOST, 443)
    return conn


def send(conn: http.client.HTTPConnection, req: WireRequest) -> int:
    conn.request(req.method, req.path, body=req.body, headers=dict(req.headers))
    resp = conn.getresponse()
    resp.read()
    if resp.status != req.expect:
        raise BenchClientError(f"graphtape bench: {req.method} {req.path} got {resp.status}, "
                               f"recorded {req.expect}; the proxy did not replay it")
    return resp.status


def sequential(conn: http.client.HTTPConnection, requests: list[WireRequest], warmup: int = 0) -> Run:
    """Send ``requests`` one after another on one connection; the first ``warmup`` are not timed."""
    for req in requests[:warmup]:
        send(conn, req)
    latencies = []
    start = time.perf_counter()
    for req in requests[warmup:]:
        t = time.perf_counter()
        send(conn, req)
        latencies.append((time.perf_counter() - t) * 1000)
    return Run(latencies, start, time.perf_counter())


def _worker(port: int, ca: str, requests: list[WireRequest], warmup: int, barrier: Any, out: Any) -> None:
    try:
        conn = connect(port, ca)
        for req in requests[:warmup]:
            send(conn, req)
        barrier.wait(120)
        run = sequential(conn, requests[warmup:])
        conn.close()
        out.put(("ok", run.latencies_ms, run.start, run.end))
    except Exception as e:  # reported by the parent
        barrier.abort()
        out.put(("error", repr(e), 0.0, 0.0))


def parallel(port: int, ca: str, batches: list[list[WireRequest]], warmup: int) -> Run:
    """One client process per batch, each on its own keep-alive connection, started together."""
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(len(batches))
    out = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(port, ca, batch, warmup, barrier, out), daemon=True)
             for batch in batches]
    for p in procs:
        p.start()
    results = [out.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(30)
    errors = [r[1] for r in results if r[0] != "ok"]
    if errors:
        raise BenchClientError(f"graphtape bench: a client failed: {errors[0]}")
    return Run([lat for r in results for lat in r[1]], min(r[2] for r in results), max(r[3] for r in results))
