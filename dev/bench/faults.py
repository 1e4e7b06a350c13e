"""The fault stage's cost: ``graphtape replay`` with a faults file whose limits never fire, beside the same replay
without one (one client on keep-alive, the replay section's requests; rounds interleaved, medians)."""

from __future__ import annotations

import json
from typing import Any

from dev.bench import clients, stats, workload
from dev.bench.procs import ProxyUnderTest
from dev.bench.scenarios import CONNECTION_WARMUP, Workdir, _check_graphtape_log, _interleaved

ROWS = {"no_faults": "graphtape replay --quiet, no faults file",
        "faults": "graphtape replay --quiet --faults (limits never reached)"}
# Outlook's limits raised so far that no request of the run reaches one: the stage runs, nothing fires.
NEVER = {"limits": {"requests": 10**9, "upload_mb": 10**6, "concurrency": 10**4}}


def fault_stage(work: Workdir, n: int, rounds: int) -> dict[str, Any]:
    timed = workload.interactions(n)
    pool = workload.send_interactions(n, CONNECTION_WARMUP)
    cassette = workload.write_cassette(work.root / f"faults-{n}.yaml", timed + pool)
    faults = work.root / "faults-never.yaml"
    faults.write_text(json.dumps(NEVER), encoding="utf-8")  # JSON is YAML
    common = ("replay", str(cassette), "--allow-repeats", "--quiet")
    proxies = {"no_faults": ProxyUnderTest.graphtape("no_faults", work.confdir, *common),
               "faults": ProxyUnderTest.graphtape("faults", work.confdir, *common, "--faults", str(faults))}
    requests, warm = workload.wire_requests(timed), workload.wire_requests(pool)
    try:
        for p in proxies.values():
            p.launch()
        for p in proxies.values():
            p.wait()

        def one(name: str) -> dict[str, float]:
            conn = clients.connect(proxies[name].port, str(work.ca))
            try:
                return stats.summarize(clients.sequential(conn, warm + requests, len(warm)))
            finally:
                conn.close()

        rows = _interleaved(list(proxies), rounds, one)
    finally:
        logs = {name: p.stop() for name, p in proxies.items()}
    for name, log in logs.items():
        _check_graphtape_log(name, log)
    cost = (1 - stats.ratio(rows["faults"]["rps"], rows["no_faults"]["rps"])) * 100
    return {"requests": n, "rounds": rounds, "rows": rows, "ratios": {"throughput_cost_pct": cost}}


def fault_rows(data: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    from dev.bench.table import _rate

    section = f"fault stage, 1 client, {data['requests']} req"
    cost = f"{data['ratios']['throughput_cost_pct']:+.1f}% throughput cost"
    return [(section, ROWS["no_faults"], _rate(data["rows"]["no_faults"]), ""),
            (section, ROWS["faults"], _rate(data["rows"]["faults"]), cost)]
