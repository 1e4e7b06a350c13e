"""Figures from timings: percentiles, medians, ratios (pure)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from dev.bench.clients import Run


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` (0-100) percentile, nearest-rank."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summarize(run: Run) -> dict[str, float]:
    seconds = run.end - run.start
    return {
        "requests": len(run.latencies_ms),
        "rps": len(run.latencies_ms) / seconds if seconds > 0 else 0.0,
        "p50_ms": percentile(run.latencies_ms, 50),
        "p99_ms": percentile(run.latencies_ms, 99),
    }


def median_of(rounds: Sequence[dict[str, float]]) -> dict[str, Any]:
    """Each figure's median over rounds, plus how many rounds."""
    keys = rounds[0].keys()
    out: dict[str, Any] = {k: statistics.median(r[k] for r in rounds) for k in keys}
    out["rounds"] = len(rounds)
    return out


def ratio(a: float, b: float) -> float:
    return a / b if b else 0.0
