"""Section "record scale": what one recorded call costs when the cassette already holds n, journal vs rewrite.

In-process (``Recorder.add``: redaction, the secret scan, the YAML render, the write, the fsync with
``--fsync``), at every size, for today's writer (the journal) and for the writer before it (the whole file
rewritten after every call, ``RewritingRecorder`` below: the same code with the old ``_persist``), in the same
run. Each case records ``calls`` calls into a cassette holding ``n`` interactions (as ``--append`` leaves it after
its first call), the sizes interleaved call by call; figures are medians. Then the biggest cassette's first load
(a fresh process, no parse cache), folded and with a killed recorder's journal.
Through the real proxy (``graphtape record --append`` to a local FakeGraph; the journal only, the proxy has no
other writer), at the smaller sizes: the p50 of a call, all of it (client, TLS tunnel, upstream) included.
"""

from __future__ import annotations

import shutil
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dev.bench import clients, workload
from dev.bench.stats import ratio
from graphtape.cassette.format import (
    assemble,
    interaction_chunk,
    interaction_to_data,
    rendered_count,
    write_cassette_file,
)
from graphtape.cassette.journal import journal_path
from graphtape.cassette.recorder import Recorder, RecordMode
from graphtape.privacy.redaction import Redactor

WRITERS = ("rewrite", "journal")


class RewritingRecorder(Recorder):
    """The recorder as it was before the journal: every call rewrites the whole file (aside, then rename)."""

    def _write(self, *, journal: bool = True) -> None:
        write_cassette_file(self.path, assemble(self._head, self.chunks), durable=self.fsync)
        self._unsynced = not self.fsync

    def _persist(self, chunk: bytes) -> None:
        self.chunks.append(chunk)
        try:
            self._write()
        except BaseException:
            self.chunks.pop()
            raise


@dataclass
class Case:
    """A cassette of ``n`` interactions (``source``, for the proxy; ``chunks``, for the recorders) and the calls
    recorded into it."""

    n: int
    source: Path
    chunks: list[bytes]
    items: list[Any]


def _case(work: Any, n: int, calls: int) -> Case:
    items = workload.interactions(n + calls)
    path = workload.write_cassette(work.root / f"record-scale-{n}.yaml", items[:n])
    return Case(n, path, [interaction_chunk(interaction_to_data(i)).encode() for i in items[:n]], items[n:])


def _holding(cls: type[Recorder], path: Path, chunks: list[bytes], fsync: bool) -> Recorder:
    """A recorder whose cassette holds ``chunks`` already, as ``--append`` leaves it after its first call, without
    the YAML parse ``--append`` starts with (at 10,000 interactions that would be most of the section's time)."""
    rec = cls(path, RecordMode.NEW, Redactor(), fsync=fsync)
    rec.chunks = list(chunks)
    rec._write()
    return rec


def _in_process(cases: list[Case], writer: str, fsync: bool) -> dict[int, dict[str, float]]:
    """Every size's calls interleaved (one call to each cassette in turn, the order reversed every other turn), so
    that drift on a shared machine hits all sizes alike."""
    cls = RewritingRecorder if writer == "rewrite" else Recorder
    recs = [_holding(cls, c.source.with_name(f"{c.source.stem}-{writer}-{int(fsync)}.yaml"), c.chunks, fsync)
            for c in cases]
    times: list[list[float]] = [[] for _ in cases]
    for k in range(len(cases[0].items)):
        order = list(range(len(cases))) if k % 2 == 0 else list(reversed(range(len(cases))))
        for i in order:
            t0 = time.perf_counter()
            recs[i].add(cases[i].items[k])
            times[i].append((time.perf_counter() - t0) * 1000)
    out: dict[int, dict[str, float]] = {}
    for case, rec, ms in zip(cases, recs, times, strict=True):
        t0 = time.perf_counter()
        rec.close()
        close_ms = (time.perf_counter() - t0) * 1000
        if journal_path(rec.path).exists() or rendered_count(rec.path.read_bytes()) != case.n + len(case.items):
            raise RuntimeError(f"graphtape bench: {rec.path} does not hold what was recorded into it")
        out[case.n] = {"per_call_ms": statistics.median(ms), "close_ms": close_ms,
                       "file_mb": rec.path.stat().st_size / 1e6}
    return out


def _load_child(path: str) -> dict[str, float]:
    """Load a cassette in a fresh process, the parse cache off: the first load a user meets."""
    import os

    from graphtape.cassette import cache
    from graphtape.cassette.format import load_cassette

    os.environ[cache.DIR_ENV] = cache.OFF
    t0 = time.perf_counter()
    n = len(load_cassette(path).interactions)
    return {"load_s": time.perf_counter() - t0, "interactions": n}


def _first_loads(case: Case) -> dict[str, float]:
    """The recorded cassette's first load, folded and with its journal not yet folded (a killed recorder's)."""
    from dev.bench.inproc import _in_child

    path = case.source.with_name(f"{case.source.stem}-load.yaml")
    rec = _holding(Recorder, path, case.chunks, False)
    for item in case.items:
        rec.add(item)
    rec._lock.release()  # as a kill leaves it: the journal unfolded
    journalled = _in_child(_load_child, str(path))  # and folds it
    folded = _in_child(_load_child, str(path))
    if not journalled["interactions"] == folded["interactions"] == case.n + len(case.items):
        raise RuntimeError(f"graphtape bench: {path} did not load what was recorded into it")
    return {"folded_s": folded["load_s"], "journalled_s": journalled["load_s"]}


def _proxied(work: Any, case: Case, fsync: bool) -> dict[str, float]:
    from dev.bench.procs import ProxyUnderTest
    from dev.bench.scenarios import WARMUP, seed_drafts
    from graphtape.testing.fakegraph import FakeGraph

    path = case.source.with_name(f"{case.source.stem}-proxy-{int(fsync)}.yaml")
    shutil.copyfile(case.source, path)
    requests = workload.wire_requests(case.items)
    extra = ["--fsync"] if fsync else []
    with FakeGraph(work.root / "fakegraph-cert") as graph, ProxyUnderTest.graphtape(
            f"record-scale-{path.stem}", work.confdir, "record", str(path), "--append", "--quiet", *extra,
            "--upstream", graph.url, "--upstream-ca", str(graph.cert)) as p:
        seed_drafts(graph, requests)  # the stand-in sends only drafts it holds
        conn = clients.connect(p.port, str(work.ca))
        run = clients.sequential(conn, requests, min(WARMUP, len(requests) // 2))
        conn.close()
    return {"p50_ms": statistics.median(run.latencies_ms)}


def record_scale(work: Any, sizes: tuple[int, ...], calls: int, proxied: tuple[int, ...]) -> dict[str, Any]:
    cases = [_case(work, n, calls) for n in sizes]
    rows: dict[str, Any] = {str(c.n): {"interactions": c.n, "timed_calls": calls} for c in cases}
    for fsync in (False, True):
        key = "fsync" if fsync else "nofsync"
        for writer in WRITERS:
            for n, figures in _in_process(cases, writer, fsync).items():
                rows[str(n)][f"{writer}_{key}"] = figures
        for case in cases:
            if case.n in proxied:
                rows[str(case.n)][f"proxy_{key}"] = _proxied(work, case, fsync)
    rows[str(cases[-1].n)]["load"] = _first_loads(cases[-1])
    return {"rows": rows}


def table_rows(data: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    out: list[tuple[str, str, str, str]] = []
    sizes = list(data["rows"])
    for key in ("nofsync", "fsync"):
        section = f"record scale, {'--fsync' if key == 'fsync' else 'no --fsync'}"
        smallest = data["rows"][sizes[0]][f"journal_{key}"]["per_call_ms"]
        for n in sizes:
            r = data["rows"][n]
            old, new = r[f"rewrite_{key}"], r[f"journal_{key}"]
            figures = (f"rewrite {old['per_call_ms']:7.2f} ms/call  journal {new['per_call_ms']:6.2f} ms/call  "
                       f"(close: fold {new['close_ms']:6.1f} ms)")
            versus = (f"journal {ratio(old['per_call_ms'], new['per_call_ms']):.1f}x faster, "
                     f"{ratio(new['per_call_ms'], smallest):.2f}x of {int(sizes[0]):,}")
            out.append((section, f"+{r['timed_calls']} calls to {int(n):,}, in-process Recorder.add", figures, versus))
            if f"proxy_{key}" in r:
                out.append((section, f"+{r['timed_calls']} calls to {int(n):,}, graphtape record --append",
                            f"p50 {r[f'proxy_{key}']['p50_ms']:6.2f} ms/call", ""))
    for n in sizes:
        if "load" in data["rows"][n]:
            load = data["rows"][n]["load"]
            out.append(("record scale", f"{int(n) + r_calls(data, n):,} recorded: first load, no parse cache",
                        f"folded {load['folded_s']:5.2f} s  with its journal unfolded {load['journalled_s']:5.2f} s",
                        ""))
    return out


def r_calls(data: dict[str, Any], n: str) -> int:
    return int(data["rows"][n]["timed_calls"])
