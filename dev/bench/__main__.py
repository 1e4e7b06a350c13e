"""``python -m dev.bench [--quick] [--json PATH]``: graphtape beside mitmproxy, one table.

Loopback only; fixed seeds; a few minutes in full, seconds with ``--quick`` (the smoke test's mode:
figures from so few requests say nothing about speed, only that every part still runs).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dev.bench import faults, inproc, load, procs, recordscale, scenarios, suite, table, uploads
from graphtape.cassette import cache


@dataclass(frozen=True)
class Plan:
    requests: int  # replay requests per round (sequential and parallel)
    rounds: int  # interleaved rounds of the sequential comparisons (medians over these)
    parallel: tuple[int, ...]
    parallel_rounds: int  # fewer: each round spawns the client processes anew
    sizes: tuple[int, ...]
    sample: int
    mime_bytes: int
    json_bytes: int
    body_rounds: int
    record_requests: int
    record_latency_ms: float  # the second record comparison: a stand-in this slow to answer
    record_latency_requests: int
    startup_rounds: int
    switch_large: int
    upload_mb: int  # the upload-session row: one attachment this big, in 4 MB chunks
    upload_rounds: int
    record_scale: tuple[int, ...] = (10, 1000, 10000)  # cassette sizes; the calls timed at each, in-process
    record_scale_calls: int = 20
    record_scale_proxied: tuple[int, ...] = (10, 1000)  # and through graphtape record
    suite_sizes: tuple[int, ...] = (20, 100)  # the suite section: tests per suite (the cost of one more: between)
    suite_workers: tuple[int, ...] = (1, 2)  # 1: no xdist; 2: -n 2
    suite_rounds: int = 3
    load_size: int = 10000  # the load section: a cassette this big, loaded cold by each reader
    load_rounds: int = 3


FULL = Plan(requests=400, rounds=5, parallel=(4, 16), parallel_rounds=3, sizes=(100, 1000, 10000), sample=300,
            mime_bytes=4_000_000, json_bytes=3_000_000, body_rounds=5, record_requests=300,
            record_latency_ms=50.0, record_latency_requests=60, startup_rounds=3,
            switch_large=1000, upload_mb=20, upload_rounds=3)
QUICK = Plan(requests=30, rounds=1, parallel=(4,), parallel_rounds=1, sizes=(10, 40), sample=10, mime_bytes=200_000,
             json_bytes=150_000, body_rounds=1, record_requests=12,
             record_latency_ms=5.0, record_latency_requests=6, startup_rounds=1, switch_large=30, upload_mb=20,
             upload_rounds=1, record_scale=(10, 40), record_scale_calls=6, record_scale_proxied=(10,),
             suite_sizes=(2, 4), suite_workers=(1,), suite_rounds=1, load_size=200, load_rounds=1)


# replay includes concurrency
SECTIONS = ("replay", "scale", "big_bodies", "record", "record_scale", "load", "startup", "switch", "uploads",
            "faults", "suite")


def run(plan: Plan, root: Path, sections: Sequence[str] = SECTIONS, partial: Path | None = None,
        log: Any = sys.stderr, before: str = "", replay_before: str = "") -> dict[str, Any]:
    confdir = root / "confdir"
    confdir.mkdir()
    # The parse cache of this run only (its child processes inherit it): the first loads are cold, never ~/.cache's.
    os.environ[cache.DIR_ENV] = str(root / "parse-cache")
    work = scenarios.Workdir(root, confdir, procs.ensure_ca(confdir))
    results: dict[str, Any] = {"environment": inproc.environment(), "plan": plan.__dict__}
    steps: dict[str, Any] = {
        "replay": lambda: scenarios.replay_and_concurrency(work, plan.requests, plan.rounds, plan.parallel,
                                                           plan.parallel_rounds, replay_before),
        "scale": lambda: {"scale": inproc.scale(work, plan.sizes, plan.sample, True)},
        "big_bodies": lambda: {"big_bodies": inproc.big_bodies(plan.body_rounds, plan.mime_bytes, plan.json_bytes)},
        "record": lambda: {
            "record": scenarios.record_overhead(work, plan.record_requests, plan.parallel_rounds),
            "record_latency": scenarios.record_overhead(work, plan.record_latency_requests, plan.parallel_rounds,
                                                        plan.record_latency_ms)},
        "record_scale": lambda: {"record_scale": recordscale.record_scale(
            work, plan.record_scale, plan.record_scale_calls, plan.record_scale_proxied)},
        "load": lambda: {"load": load.load_section(work, plan.load_size, plan.load_rounds)},
        "startup": lambda: {"startup": scenarios.startup(work, plan.startup_rounds)},
        "switch": lambda: {"switch": inproc.switch(work, plan.switch_large, plan.startup_rounds)},
        "uploads": lambda: {"uploads": uploads.upload_row(work, plan.upload_mb, plan.upload_rounds)},
        "faults": lambda: {"faults": faults.fault_stage(work, plan.requests, plan.rounds)},
        "suite": lambda: {"suite": suite.section(work, plan.suite_sizes, plan.suite_workers, plan.suite_rounds,
                                                 before)},
    }
    for name in sections:
        print(f"graphtape bench: {name} ...", file=log, flush=True)
        t0 = time.perf_counter()
        results.update(steps[name]())
        print(f"graphtape bench: {name} done in {time.perf_counter() - t0:.0f} s", file=log, flush=True)
        if partial is not None:  # what is done so far survives a failure in a later section
            partial.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dev.bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks that it runs, not how fast")
    parser.add_argument("--json", metavar="PATH", default="", help="also write the figures as JSON here")
    parser.add_argument("--only", metavar="LIST", default=",".join(SECTIONS),
                        help=f"comma-separated sections to run (default all: {','.join(SECTIONS)}); "
                             "the table then has only their rows")
    parser.add_argument("--rounds", metavar="N", type=int, default=0,
                        help="interleaved rounds of every comparison (sequential and parallel) instead of the plan's: "
                             "more rounds, steadier medians on a loaded machine")
    parser.add_argument("--replay-before", metavar="TREE", default="",
                        help="replay section: also run graphtape replay from this source tree (e.g. an export of "
                             "main), in the same rounds")
    parser.add_argument("--suite-before", metavar="TREE", default="",
                        help="suite section: also run the plugin from this graphtape source tree (e.g. a worktree "
                             "of main), in the same rounds")
    parser.add_argument("--suite-sizes", metavar="N,N,...", default="",
                        help=f"suite section: tests per suite (default {','.join(map(str, FULL.suite_sizes))})")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.suite_sizes:
        plan = dataclasses.replace(plan, suite_sizes=tuple(sorted(int(n) for n in args.suite_sizes.split(","))))
    if args.rounds > 0:
        plan = dataclasses.replace(plan, rounds=args.rounds, parallel_rounds=args.rounds)
    sections = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="graphtape-bench-") as tmp:
        results = run(plan, Path(tmp), sections, Path(args.json) if args.json else None, before=args.suite_before,
                      replay_before=args.replay_before)
    rows = table.rows(results)
    if set(sections) != set(SECTIONS):
        print(table.render(rows))  # the rows of the sections run; --json has all their figures
        return 0
    results["table"] = [list(r) for r in rows]
    results["seconds"] = time.perf_counter() - t0
    print(table.render(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        print(f"graphtape bench: figures written to {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
