"""The benchmarks that call graphtape's functions directly: cassette scale, big bodies, cassette switch.

Load time and memory are measured in a fresh child process per cassette (``spawn``), so one size's
garbage does not count against the next, and peak memory is that process's own (``ru_maxrss``).
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import io
import json
import multiprocessing as mp
import os
import random
import resource
import statistics
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from dev.bench import clients, workload
from graphtape.model import HttpRequest

SAMPLE = 300  # requests replayed per cassette size
REPS = 5  # times the sample is replayed (median), each by a fresh Replayer


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def spread(n: int, k: int) -> list[int]:
    """``k`` interaction indices spread evenly over a cassette of ``n``."""
    k = min(k, n)
    return [i * n // k for i in range(k)]


def _scale_child(path: str, n: int, sample: int) -> dict[str, float]:
    from graphtape.cassette import cache
    from graphtape.cassette.format import load_cassette
    from graphtape.diffing.ignore import DEFAULT_IGNORE
    from graphtape.model import Mode, Outcome
    from graphtape.proxy.pipeline import enforce, validate
    from graphtape.replay.pipeline import Replayer
    from graphtape.scope import Scope
    from graphtape.session.exchanges import Exchange, Session

    before = _rss_mb()
    t0 = time.perf_counter()
    cassette = load_cassette(path)
    load_s = time.perf_counter() - t0
    peak = _rss_mb()
    picks = spread(n, sample)
    requests = [cassette.interactions[i].request for i in picks]

    def replay(replayer: Replayer, scope: Scope, req: HttpRequest) -> Exchange:  # the proxy's stages, no mitmproxy
        findings = validate(req, scope)
        if enforce(req, findings, enforcing=True) is not None:
            raise RuntimeError(f"graphtape bench: {req.method} {req.url} in {path} breaks the contract")
        return replayer.handle(req, findings)[0]

    warm = Replayer(path, cassette.interactions[:3], Session(mode=Mode.REPLAY), allow_repeats=True,
                    rules=DEFAULT_IGNORE)
    scope = Scope.from_interactions(warm.interactions)  # each replayer's, as the replay mode's
    for req in [i.request for i in cassette.interactions[:3]] * 3:  # compile the schemas, fill the caches
        replay(warm, scope, req)
    index_s, handle_us = [], []
    for _ in range(REPS):  # a fresh replayer each time: every request is a first use, as in a test run
        t0 = time.perf_counter()
        replayer = Replayer(path, cassette.interactions, Session(mode=Mode.REPLAY), rules=DEFAULT_IGNORE)
        scope = Scope.from_interactions(cassette.interactions)
        t1 = time.perf_counter()
        results = [replay(replayer, scope, req) for req in requests]
        handle_us.append((time.perf_counter() - t1) / len(requests) * 1e6)
        index_s.append(t1 - t0)
        wrong = [(ex.interaction, i) for ex, i in zip(results, picks, strict=True)
                 if ex.outcome != Outcome.MATCHED or ex.interaction != i or ex.deviations or ex.errors]
        if wrong:
            raise RuntimeError(f"graphtape bench: replay of {path} served the wrong interactions: {wrong[:5]}")
    return {"interactions": n, "load_s": load_s, "index_s": statistics.median(index_s), "rss_before_mb": before,
            "peak_rss_mb": peak, "added_mb": peak - before, "handle_us": statistics.median(handle_us),
            "cache_hits": cache.stats.hits}


def _load_child(path: str) -> dict[str, Any]:
    """Load a cassette again in a fresh process: from the parse cache when it is big enough."""
    from graphtape.cassette import cache
    from graphtape.cassette.format import load_cassette

    before = _rss_mb()
    t0 = time.perf_counter()
    load_cassette(path)
    load_s = time.perf_counter() - t0
    peak = _rss_mb()
    return {"load_s": load_s, "peak_rss_mb": peak, "added_mb": peak - before, "hit": cache.stats.hits == 1}


def _cached_load(path: Path, first: dict[str, Any]) -> dict[str, Any]:
    """The second load's figures (``cached_*``); raises if the cache did not do what the file's size says."""
    from graphtape.cassette import cache

    again = _in_child(_load_child, str(path))
    big = path.stat().st_size >= cache.MIN_BYTES
    if first["cache_hits"] or again["hit"] != big:
        raise RuntimeError(f"graphtape bench: {path} ({path.stat().st_size} bytes) was loaded from the parse "
                           f"cache {first['cache_hits']} time(s) first, {int(again['hit'])} time(s) second; "
                           f"expected 0 and {int(big)} (is {cache.DIR_ENV} set to a fresh folder?)")
    return {"cached": again["hit"], "cached_load_s": again["load_s"], "cached_peak_rss_mb": again["peak_rss_mb"],
            "cached_added_mb": again["added_mb"]}


def _in_child(fn: Callable[..., Any], *args: Any) -> Any:
    ctx = mp.get_context("spawn")
    with ctx.Pool(1) as pool:
        return pool.apply(fn, args)


def scale(work: Any, sizes: tuple[int, ...], sample: int, proxied: bool) -> dict[str, Any]:
    """Section 3: load time (first and again, from the parse cache), memory and per-request replay cost by
    cassette size (and through the proxy, whose start loads it a third time)."""
    from dev.bench.procs import ProxyUnderTest
    from dev.bench.stats import percentile

    rows: dict[str, Any] = {}
    for n in sizes:
        items = workload.interactions(n)
        path = workload.write_cassette(work.root / f"scale-{n}.yaml", items)
        row: dict[str, Any] = _in_child(_scale_child, str(path), n, sample)  # the first load: YAML, then stored
        row.update(_cached_load(path, row))  # a second one, in another fresh process
        row["file_mb"] = path.stat().st_size / 1e6
        if proxied:
            requests = [workload.wire(items[i].request, items[i].response.status) for i in spread(n, sample)]
            with ProxyUnderTest.graphtape(f"scale-{n}", work.confdir, "replay", str(path), "--quiet") as p:
                conn = clients.connect(p.port, str(work.ca))
                warm = [workload.warmup_request()] * 2  # not requests[:2]: that would shift what they match
                run = clients.sequential(conn, warm + requests, len(warm))
                conn.close()
                row["proxy_startup_s"] = p.startup_s
            row["proxy_p50_ms"] = percentile(run.latencies_ms, 50)
            row["proxy_mean_ms"] = statistics.fmean(run.latencies_ms)
        rows[str(n)] = row
    first, last = rows[str(sizes[0])], rows[str(sizes[-1])]
    ratios = {"handle_largest_vs_smallest": last["handle_us"] / first["handle_us"]}
    if proxied:
        ratios["proxy_p50_largest_vs_smallest"] = last["proxy_p50_ms"] / first["proxy_p50_ms"]
    return {"sample": sample, "rows": rows, "ratios": ratios}


# --------------------------------------------------------------------------- big bodies

GRAPH = "https://graph.microsoft.com/v1.0/me"


def big_mime_request(attachment: bytes, subject: str = "Quarterly figures") -> HttpRequest:
    msg = EmailMessage()
    msg["From"] = "Alex Wilber <AlexW@contoso.com>"
    msg["To"] = "Megan Bowen <MeganB@contoso.com>"
    msg["Subject"] = subject
    msg.set_content("The figures are attached.\n")
    msg.add_attachment(attachment, maintype="application", subtype="pdf", filename="figures.pdf")
    body = base64.encodebytes(msg.as_bytes())
    return HttpRequest("POST", f"{GRAPH}/sendMail", [("Content-Type", "text/plain")], body)


def big_json_request(attachment: bytes, subject: str = "Quarterly figures") -> HttpRequest:
    doc = {
        "subject": subject,
        "body": {"contentType": "Text", "content": "The figures are attached."},
        "toRecipients": [{"emailAddress": {"address": "MeganB@contoso.com"}}],
        "attachments": [{"@odata.type": "#microsoft.graph.fileAttachment", "name": "figures.pdf",
                         "contentType": "application/pdf", "contentBytes": base64.b64encode(attachment).decode()}],
    }
    return HttpRequest("POST", f"{GRAPH}/messages", [("Content-Type", "application/json")], json.dumps(doc).encode())


def _changed(attachment: bytes) -> bytes:
    middle = len(attachment) // 2
    return attachment[:middle] + bytes([attachment[middle] ^ 0xFF]) + attachment[middle + 1:]


def _fresh(req: HttpRequest) -> HttpRequest:
    return dataclasses.replace(req, body=bytes(bytearray(req.body)))


def big_bodies(rounds: int, mime_bytes: int, json_bytes: int) -> dict[str, Any]:
    """Section 4: validate + diff a big MIME and a big JSON body against a slightly changed copy."""
    from graphtape.contract import validate_request
    from graphtape.diffing.core import diff_requests

    rng = random.Random(4)
    rows: dict[str, Any] = {}
    cases = {"mime": (big_mime_request, mime_bytes), "json": (big_json_request, json_bytes)}
    for name, (build, size) in cases.items():
        # Raw attachment size so the request body comes out at ``size`` bytes (base64 grows it by 4/3).
        attachment = rng.randbytes(int(size * 3 / 4 / (1.35 if name == "mime" else 1.0)))
        recorded = build(attachment)
        actual = build(_changed(attachment), "Quarterly figures (v2)")
        validate_ms, diff_ms = [], []
        for _ in range(rounds):
            # Fresh requests each round, as a proxy gets them: a request keeps what it parsed (its view).
            recorded, actual = _fresh(recorded), _fresh(actual)
            t0 = time.perf_counter()
            findings = validate_request(actual)
            t1 = time.perf_counter()
            deviations = diff_requests(recorded, actual)
            t2 = time.perf_counter()
            validate_ms.append((t1 - t0) * 1000)
            diff_ms.append((t2 - t1) * 1000)
        errors = [f.line() for f in findings if f.severity == "error"]
        if errors or len(deviations) < 2:
            raise RuntimeError(f"graphtape bench: the big {name} body gave {errors} and {deviations}; "
                               "expected no contract error and two deviations (subject, attachment)")
        v, d = statistics.median(validate_ms), statistics.median(diff_ms)
        rows[name] = {"body_bytes": len(actual.body), "validate_ms": v, "diff_ms": d, "total_ms": v + d,
                      "deviations": len(deviations), "rounds": rounds}
    return {"rows": rows}


# --------------------------------------------------------------------------- cassette switch


def _switch_child(confdir: str, small: str, large: str, rounds: int) -> dict[str, Any]:
    from graphtape.proxy.inprocess import ProxyThread

    with contextlib.redirect_stdout(io.StringIO()):  # its start line is not the bench's output
        proxy = ProxyThread(confdir=Path(confdir)).start()
    try:
        times: dict[str, list[float]] = {"small": [], "large": []}
        for _ in range(rounds):
            for name, path in (("small", small), ("large", large)):
                t0 = time.perf_counter()
                proxy.switch("replay", path, graphtape_allow_repeats=True)
                times[name].append((time.perf_counter() - t0) * 1000)
        # The proxy now serves the large cassette: one of its requests must come back as recorded.
        items = workload.interactions(3)
        conn = clients.connect(proxy.port, str(proxy.ca))
        clients.send(conn, workload.wire(items[0].request, items[0].response.status))
        conn.close()
    finally:
        proxy.stop()
    return {name: statistics.median(t) for name, t in times.items()}


def switch(work: Any, large: int, rounds: int) -> dict[str, Any]:
    """Section 6, second half: ``ProxyThread.switch`` to another cassette, small and large."""
    small_path = workload.write_cassette(work.root / "switch-small.yaml", workload.interactions(3))
    large_path = workload.write_cassette(work.root / f"switch-{large}.yaml", workload.interactions(large))
    got = _in_child(_switch_child, str(work.confdir), str(small_path), str(large_path), rounds)
    return {"how": "graphtape.proxy.inprocess.ProxyThread.switch (the proxy runtime on a thread)",
            "rows": {"small": {"interactions": 3, "ms": got["small"], "rounds": rounds},
                     "large": {"interactions": large, "ms": got["large"], "rounds": rounds}}}


def environment() -> dict[str, Any]:
    import platform

    import mitmproxy.version

    from graphtape import __version__

    return {"python": platform.python_version(), "mitmproxy": mitmproxy.version.VERSION, "graphtape": __version__,
            "cpus": os.cpu_count(), "machine": platform.machine()}
