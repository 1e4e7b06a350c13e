"""The benchmarks that go through a proxy process: replay, concurrency, recording, start-up.

Every comparison runs its baseline and graphtape in the same run, on the same requests, with rounds
interleaved (A, B, C, A, B, C, ...) so drift on a shared machine hits all alike; figures are medians.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from dev.bench import clients, stats, workload
from dev.bench.procs import HERE, ProxyUnderTest
from dev.bench.table_addon import INSTALLED
from graphtape.testing.fakegraph import FakeGraph
from graphtape.testing.fakeseed import docs_draft

WARMUP = 6  # requests per connection not timed (TLS handshake, certificate generation)
CONNECTION_WARMUP = 2  # replay: per client connection, drawn from the warm-up pool

REPLAY_ROWS = {
    "floor": "bare mitmproxy addon, fixed response (floor)",
    "server_replay": "mitmproxy --server-replay (reuse)",
    "server_replay_table": "mitmproxy --server-replay, graphtape's dispatch table",
    "graphtape": "graphtape replay --quiet (validate + diff)",
    "graphtape_logging": "graphtape replay (per-request log lines)",
    "graphtape_before": "graphtape replay --quiet, before (--replay-before)",  # only with --replay-before TREE
}


@dataclass
class Workdir:
    root: Path
    confdir: Path
    ca: Path


def replay_proxies(work: Workdir, n: int, connections: int, before: str = "") -> tuple[dict[str, ProxyUnderTest],
                                                                    list[workload.WireRequest],
                                                                    list[workload.WireRequest]]:
    """The proxies, the timed requests, and a pool of warm-up requests (``CONNECTION_WARMUP`` per connection).

    The warm-up pool is only empty-bodied sends, each with its own URL: sent again, graphtape serves the same
    interaction without a diff, so warming up never shifts which recording a timed request gets.
    """
    timed = workload.interactions(n)
    pool = workload.send_interactions(n, CONNECTION_WARMUP * connections)
    items = timed + pool
    cassette = workload.write_cassette(work.root / f"replay-{n}.yaml", items)
    flows = workload.write_flows(work.root / f"replay-{n}.flows", items)
    proxies = {
        "floor": ProxyUnderTest.mitmdump("floor", work.confdir, "-s", str(HERE / "floor_addon.py")),
        "server_replay": ProxyUnderTest.mitmdump(
            "server_replay", work.confdir, "--server-replay", str(flows),
            "--set", "server_replay_reuse=true", "--set", "server_replay_extra=404"),
        "server_replay_table": ProxyUnderTest.mitmdump(
            "server_replay_table", work.confdir, "-s", str(HERE / "table_addon.py"), "--server-replay", str(flows),
            "--set", "server_replay_reuse=true", "--set", "server_replay_extra=404"),
        "graphtape": ProxyUnderTest.graphtape("graphtape", work.confdir, "replay", str(cassette),
                                              "--allow-repeats", "--quiet"),
        "graphtape_logging": ProxyUnderTest.graphtape("graphtape_logging", work.confdir, "replay",
                                                      str(cassette), "--allow-repeats"),
    }
    if before:  # another tree's graphtape (e.g. main's), in the same rounds
        proxies["graphtape_before"] = ProxyUnderTest.graphtape("graphtape_before", work.confdir, "replay",
                                                               str(cassette), "--allow-repeats", "--quiet", tree=before)
    return proxies, workload.wire_requests(timed), workload.wire_requests(pool)


def _check_graphtape_log(name: str, log: str) -> None:
    """graphtape's own summary must show every request matched: otherwise it replayed something else."""
    m = re.search(r"matched (\d+), unmatched (\d+), exhausted (\d+), rejected by contract (\d+)", log)
    c = re.search(r"contract errors (\d+), warnings \d+, deviations (\d+)", log)
    if not m or not c or int(m.group(1)) == 0 or any(int(g) for g in [*m.groups()[1:], *c.groups()]):
        raise RuntimeError(f"graphtape bench: {name} did not match every request:\n{log[-2000:]}")


def _interleaved(names: list[str], rounds: int, measure: Callable[[str], dict[str, float]],
                 per: dict[str, list[dict[str, float]]] | None = None) -> dict[str, Any]:
    """Each name measured once a round, in turn; each figure's median over the rounds (``per``: every round's)."""
    per = {name: [] for name in names} if per is None else per
    for _ in range(rounds):
        for name in names:
            per.setdefault(name, []).append(measure(name))
    return {name: stats.median_of(r) for name, r in per.items()}


def _with_cpu(proxy: ProxyUnderTest, requests: int, run: Callable[[], dict[str, float]]) -> dict[str, float]:
    """``run``'s figures and ``cpu_ms``: the proxy process's CPU time per timed request while it ran (its client
    connections' handshakes and warm-up requests included). On a shared machine this moves less than wall time."""
    before = proxy.cpu_seconds()
    figures = run()
    return {**figures, "cpu_ms": (proxy.cpu_seconds() - before) * 1000 / requests}


def _batches(requests: list[workload.WireRequest], k: int) -> list[list[workload.WireRequest]]:
    return [requests[i::k] for i in range(k)]


def replay_and_concurrency(work: Workdir, n: int, rounds: int, parallel: tuple[int, ...],
                           parallel_rounds: int, before: str = "") -> dict[str, Any]:
    """Sections 1 and 2: one client on keep-alive, then ``parallel`` client processes, per proxy (``before``: also
    another graphtape tree's replay)."""
    proxies, requests, pool = replay_proxies(work, n, max((1, *parallel)), before)
    names = list(proxies)
    try:
        for p in proxies.values():
            p.launch()
        for p in proxies.values():
            p.wait()
        def one(name: str) -> dict[str, float]:
            conn = clients.connect(proxies[name].port, str(work.ca))
            try:
                warm = pool[:CONNECTION_WARMUP]
                return stats.summarize(clients.sequential(conn, warm + requests, len(warm)))
            finally:
                conn.close()

        per: dict[str, list[dict[str, float]]] = {}
        replay = {"requests": n, "client": "http.client, 1 connection, keep-alive",
                  "rows": _interleaved(names, rounds, lambda name: _with_cpu(proxies[name], n, lambda: one(name)), per),
                  "per_round": per}
        concurrency: dict[str, Any] = {}
        for k in parallel:
            def many(name: str, k: int = k) -> dict[str, float]:
                warm = _batches(pool, k)
                batches = [w + b for w, b in zip(warm, _batches(requests, k), strict=True)]
                return stats.summarize(clients.parallel(proxies[name].port, str(work.ca), batches,
                                                        CONNECTION_WARMUP))

            def timed(name: str, k: int = k) -> dict[str, float]:
                return _with_cpu(proxies[name], n, lambda: many(name, k))

            per_k: dict[str, list[dict[str, float]]] = {}
            rows = _interleaved(names, parallel_rounds, timed, per_k)
            concurrency[str(k)] = {"clients": k, "requests": n, "client": f"{k} client processes", "rows": rows,
                                   "per_round": per_k}
    finally:
        logs = {name: p.stop() for name, p in proxies.items()}
    for name in ("graphtape", "graphtape_logging", *(["graphtape_before"] if before else [])):
        _check_graphtape_log(name, logs[name])
    if INSTALLED not in logs["server_replay_table"]:
        raise RuntimeError("graphtape bench: server_replay_table ran without the table:\n"
                           + logs["server_replay_table"][-2000:])
    for section in [replay, *concurrency.values()]:
        section["ratios"] = _replay_ratios(section["rows"], section["per_round"])
    return {"replay": replay, "concurrency": concurrency}


def _replay_ratios(rows: dict[str, dict[str, float]], per_round: dict[str, list[dict[str, float]]]) -> dict[str, float]:
    """Throughput ratios of the medians; ``_paired``: the median of each round's own ratio (the two measured seconds
    apart, so load that comes and goes on a shared machine moves both); ``_cpu``: proxy CPU per request, inverted
    (above 1: graphtape used less CPU a request than server-replay)."""
    g = rows["graphtape"]["rps"]
    paired = [stats.ratio(a["rps"], b["rps"]) for a, b in zip(per_round["graphtape"], per_round["server_replay"],
                                                              strict=True)]
    before = {"before_vs_server_replay": stats.ratio(rows["graphtape_before"]["rps"], rows["server_replay"]["rps"]),
              "before_vs_server_replay_cpu": stats.ratio(rows["server_replay"]["cpu_ms"],
                                                         rows["graphtape_before"]["cpu_ms"]),
              "graphtape_vs_before": stats.ratio(g, rows["graphtape_before"]["rps"])
              } if "graphtape_before" in rows else {}
    return {**before, "graphtape_vs_server_replay": stats.ratio(g, rows["server_replay"]["rps"]),
            "graphtape_vs_server_replay_table": stats.ratio(g, rows["server_replay_table"]["rps"]),
            "graphtape_vs_server_replay_table_cpu": stats.ratio(rows["server_replay_table"]["cpu_ms"],
                                                                rows["graphtape"]["cpu_ms"]),
            "graphtape_vs_server_replay_paired": statistics.median(paired),
            "graphtape_vs_server_replay_cpu": stats.ratio(rows["server_replay"]["cpu_ms"], rows["graphtape"]["cpu_ms"]),
            "graphtape_vs_floor": stats.ratio(g, rows["floor"]["rps"]),
            "logging_vs_quiet": stats.ratio(rows["graphtape_logging"]["rps"], g)}


def record_overhead(work: Workdir, n: int, rounds: int, latency_ms: float = 0.0) -> dict[str, Any]:
    """Section 5: pass-through to a local FakeGraph, bare mitmproxy vs ``graphtape record``.

    ``latency_ms`` makes the stand-in take that long to answer, as a distant Graph does: graphtape's cost per
    call stays the same, so what it adds, as a share of a call, shrinks.
    """
    items = workload.interactions(n)
    requests = workload.wire_requests(items)
    warm = workload.wire_requests(workload.send_interactions(n, WARMUP))  # sends of drafts of their own
    # The stand-in answers create with 201 and send/sendMail with 202, as recorded (each draft sent once).
    with FakeGraph(work.root / "fakegraph-cert", latency_ms=latency_ms) as graph:
        trust = ["--set", f"ssl_verify_upstream_trusted_ca={graph.cert}"]
        per: dict[str, list[dict[str, float]]] = {"passthrough": [], "graphtape_record": []}
        for r in range(rounds):
            for name in per:
                if name == "passthrough":
                    p = ProxyUnderTest.mitmdump(name, work.confdir, "-s", str(HERE / "rewrite_addon.py"),
                                                "--set", f"bench_upstream={graph.url}", *trust)
                else:
                    cassette = work.root / f"record-{latency_ms:g}-{r}.yaml"
                    p = ProxyUnderTest.graphtape(name, work.confdir, "record", str(cassette), "--overwrite",
                                                 "--quiet", "--upstream", graph.url, "--upstream-ca", str(graph.cert))
                seed_drafts(graph, warm + requests)
                with p:
                    conn = clients.connect(p.port, str(work.ca))
                    per[name].append(stats.summarize(clients.sequential(conn, warm + requests, WARMUP)))
                    conn.close()
                if name == "graphtape_record":
                    _check_recorded(cassette, n + WARMUP)
    rows = {name: stats.median_of(r) for name, r in per.items()}
    pass_ms = 1000 / rows["passthrough"]["rps"]
    record_ms = 1000 / rows["graphtape_record"]["rps"]
    return {"requests": n, "upstream_latency_ms": latency_ms, "rows": rows,
            "ratios": {"record_vs_passthrough": stats.ratio(rows["graphtape_record"]["rps"],
                                                            rows["passthrough"]["rps"]),
                       "added_time_pct": (record_ms / pass_ms - 1) * 100,
                       "added_ms": record_ms - pass_ms}}


def seed_drafts(graph: FakeGraph, requests: list[workload.WireRequest]) -> None:
    """The drafts the workload sends, (re)made in the stand-in's mailbox: it sends only drafts it holds."""
    for req in requests:
        if req.path.endswith("/send"):
            docs_draft(graph.simulator, unquote(req.path.rsplit("/messages/", 1)[1].removesuffix("/send")))


def _check_recorded(cassette: Path, expected: int) -> None:
    text = cassette.read_text(encoding="utf-8")
    if f"# end of graphtape cassette: {expected} interactions" not in text:
        raise RuntimeError(f"graphtape bench: {cassette} does not hold the {expected} recorded interactions")


def startup(work: Workdir, rounds: int) -> dict[str, Any]:
    """Section 6, first half: spawn to listening, ``mitmdump`` vs ``graphtape replay`` of a 3-interaction cassette."""
    cassette = workload.write_cassette(work.root / "startup.yaml", workload.interactions(3))
    times: dict[str, list[float]] = {"mitmdump": [], "graphtape_replay": []}
    for _ in range(rounds):
        for name in times:
            p = (ProxyUnderTest.mitmdump(name, work.confdir) if name == "mitmdump"
                 else ProxyUnderTest.graphtape(name, work.confdir, "replay", str(cassette), "--quiet"))
            with p:
                times[name].append(p.startup_s)
            time.sleep(0.05)
    rows = {name: {"seconds": statistics.median(t), "rounds": len(t)} for name, t in times.items()}
    return {"rows": rows,
            "ratios": {"graphtape_vs_mitmdump": stats.ratio(rows["graphtape_replay"]["seconds"],
                                                            rows["mitmdump"]["seconds"])}}
