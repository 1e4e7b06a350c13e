"""The upload-session row: one attachment uploaded in 4 MB chunks (createUploadSession, then PUTs), four ways.

Straight to the stand-in (no proxy: the baseline), through bare mitmproxy passing it on, through ``graphtape
record`` (chunks kept as digests) and through ``graphtape replay`` of that recording (the stand-in stopped).
Time is the whole upload; memory is the proxy process's peak RSS (``VmHWM``, read before it stops).
"""

from __future__ import annotations

import os
import random
import statistics
import time
from pathlib import Path
from typing import Any

import httpx

from dev.bench.procs import HERE, ProxyUnderTest
from dev.uploads import GRAPH, MB, upload_plain
from graphtape.testing.fakegraph import FakeGraph

ROWS = {
    "direct": "straight to the stand-in (no proxy)",
    "passthrough": "bare mitmproxy pass-through",
    "graphtape_record": "graphtape record (digests)",
    "graphtape_replay": "graphtape replay (offline)",
}


def peak_rss_mb(pid: int) -> float:
    """A live process's peak resident memory (Linux ``/proc/PID/status`` VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _upload(data: bytes, proxy: ProxyUnderTest | None, ca: Path, upload_host: str | None = None,
            graph: str = GRAPH) -> float:
    kwargs: dict[str, Any] = {"proxy": f"http://127.0.0.1:{proxy.port}"} if proxy else {}
    with httpx.Client(verify=str(ca), timeout=120, **kwargs) as c:
        t0 = time.perf_counter()
        answers = upload_plain(c.post, lambda url, data, headers: c.put(url, content=data, headers=headers), data,
                               graph=graph, upload_host=upload_host)
        seconds = time.perf_counter() - t0
    if answers[-1].status != 201 or any(a.status not in (200, 201) for a in answers):
        raise RuntimeError(f"graphtape bench: the upload failed: {[a.status for a in answers]}")
    return seconds


def _through(p: ProxyUnderTest, data: bytes, ca: Path) -> dict[str, float]:
    with p:
        seconds = _upload(data, p, ca)
        assert p.proc is not None
        return {"seconds": seconds, "peak_rss_mb": peak_rss_mb(p.proc.pid)}


def upload_row(work: Any, size_mb: int, rounds: int) -> dict[str, Any]:
    data = random.Random(13).randbytes(size_mb * MB)
    per: dict[str, list[dict[str, float]]] = {name: [] for name in ROWS}
    cassettes: list[Path] = []
    for r in range(rounds):
        cassette = work.root / f"upload-{r}.yaml"
        with FakeGraph(work.root / "fakegraph-cert") as graph:
            per["direct"].append({"seconds": _upload(data, None, graph.cert, graph.url, graph.url + "/v1.0")})
            trust = ["--set", f"ssl_verify_upstream_trusted_ca={graph.cert}"]
            per["passthrough"].append(_through(ProxyUnderTest.mitmdump(
                "passthrough", work.confdir, "-s", str(HERE / "rewrite_addon.py"), "--set",
                f"bench_upstream={graph.url}", *trust), data, work.ca))
            per["graphtape_record"].append(_through(ProxyUnderTest.graphtape(
                "graphtape_record", work.confdir, "record", str(cassette), "--quiet", "--upstream", graph.url,
                "--upstream-ca", str(graph.cert), "--upstream-uploads"), data, work.ca))
        per["graphtape_replay"].append(_through(ProxyUnderTest.graphtape(
            "graphtape_replay", work.confdir, "replay", str(cassette), "--quiet"), data, work.ca))
        cassettes.append(cassette)
    rows = {name: {key: statistics.median(x[key] for x in runs) for key in runs[0]} | {"rounds": len(runs)}
            for name, runs in per.items()}
    return {"size_mb": size_mb, "chunks": -(-size_mb // 4), "rows": rows,
            "cassette_kb": os.path.getsize(cassettes[-1]) / 1024}
