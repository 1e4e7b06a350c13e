"""Section "load": the first load of a big cassette, by the strict reader and by the fast one in the same run, and
again from the parse cache (issue 17: under 2 s the first time too).

The cassette is the ``record scale`` section's (``workload.interactions``, written as recording writes it). Each
case loads it with ``load_cassette`` in a fresh process (spawned: nothing imported or cached before), the cases
interleaved round by round, figures are medians:

- ``strict``: the node-tree reader only (the fast reader switched off in that process), no parse cache: every
  first load before the fast reader;
- ``fast``: the fast reader, no parse cache;
- ``first``: as a user meets it: the fast reader, and the result stored in a fresh parse cache;
- ``cached``: the next load of the same bytes, from that cache.
"""

from __future__ import annotations

import os
import resource
import statistics
import time
from pathlib import Path
from typing import Any

from dev.bench import workload
from dev.bench.stats import ratio

CASES = ("strict", "fast", "first", "cached")


def _left_to_strict(text: str) -> None:
    return None


def _child(path: str, case: str, cache_dir: str) -> dict[str, Any]:
    """One load in this (fresh) process; raises if it was not read the way ``case`` says."""
    from graphtape.cassette import cache, read

    os.environ[cache.DIR_ENV] = cache_dir
    if case == "strict":
        read._parse_fast = _left_to_strict  # the strict reader decides alone, as before the fast one
    t0, cpu0 = time.perf_counter(), time.process_time()
    n = len(read.load_cassette(path).interactions)
    load_s, cpu_s = time.perf_counter() - t0, time.process_time() - cpu0
    how = {"strict": read.read_stats.strict, "fast": read.read_stats.fast, "stored": cache.stats.stores,
           "hit": cache.stats.hits}
    expected = {"strict": {"strict": 1}, "fast": {"fast": 1}, "first": {"fast": 1, "stored": 1},
                "cached": {"hit": 1}}[case]
    if {k: v for k, v in how.items() if v} != expected:
        raise RuntimeError(f"graphtape bench: {case} load of {path} went {how}, expected {expected}")
    return {"load_s": load_s, "cpu_s": cpu_s, "interactions": n,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def load_section(work: Any, n: int, rounds: int) -> dict[str, Any]:
    from dev.bench.inproc import _in_child

    path = workload.write_cassette(work.root / f"load-{n}.yaml", workload.interactions(n))
    load_before = os.getloadavg()[0]  # the machine's 2 cores are shared: how busy they were is part of the figure
    figures: dict[str, list[dict[str, Any]]] = {case: [] for case in CASES}
    for k in range(rounds):
        cache_dir = work.root / f"load-cache-{k}"  # fresh: the first load of the round misses
        for case in CASES:
            where = str(cache_dir) if case in ("first", "cached") else "off"
            figures[case].append(_in_child(_child, str(path), case, where))
    if {r["interactions"] for runs in figures.values() for r in runs} != {n}:
        raise RuntimeError(f"graphtape bench: {path} did not load its {n} interactions every time")
    rows = {case: {key: statistics.median(r[key] for r in runs) for key in ("load_s", "cpu_s", "peak_rss_mb")}
            for case, runs in figures.items()}
    return {"interactions": n, "file_mb": Path(path).stat().st_size / 1e6, "rounds": rounds, "rows": rows,
            "fast_vs_strict": ratio(rows["strict"]["load_s"], rows["fast"]["load_s"]),
            "load_average": [load_before, os.getloadavg()[0]]}


def table_rows(data: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    r = data["rows"]
    section = f"load {data['interactions']:,} interactions ({data['file_mb']:.1f} MB)"
    figures = (f"strict {r['strict']['load_s']:5.2f} s  fast {r['fast']['load_s']:5.2f} s  first (fast + cache fill) "
               f"{r['first']['load_s']:5.2f} s  from the cache {r['cached']['load_s']:5.2f} s")
    cpu = "  ".join(f"{case} {r[case]['cpu_s']:5.2f} s" for case in CASES)
    memory = "  ".join(f"{case} {r[case]['peak_rss_mb']:4.0f} MB" for case in CASES)
    return [(section, f"first load, cold process, median of {data['rounds']}", figures,
             f"fast {data['fast_vs_strict']:.1f}x strict"),
            (section, "CPU time of the same loads", cpu,
             "load average {:.1f} -> {:.1f}".format(*data["load_average"])),
            (section, "peak RSS", memory, "")]
