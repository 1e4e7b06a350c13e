"""``python -m dev.bench --quick`` still runs every part: structure, not speed.

The benchmark itself is not a test (see ``make bench``); this keeps it from rotting.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from graphtape.cassette.cache import MIN_BYTES

SECTIONS = ("replay", "concurrency", "scale", "big_bodies", "record", "record_scale", "load", "startup", "switch",
            "uploads", "faults", "suite")
REPLAY_NAMES = ("floor", "server_replay", "server_replay_table", "graphtape", "graphtape_logging")
RATE_KEYS = ("rps", "p50_ms", "p99_ms", "requests")


def _positive(where: str, row: dict[str, Any], keys: tuple[str, ...]) -> None:
    for key in keys:
        value = row.get(key)
        assert isinstance(value, (int, float)) and value > 0, f"{where}.{key} = {value!r}"


def _replay_section(where: str, data: dict[str, Any]) -> None:
    assert set(data["rows"]) == set(REPLAY_NAMES), where
    for name in REPLAY_NAMES:
        _positive(f"{where}.{name}", data["rows"][name], RATE_KEYS)
    _positive(f"{where}.ratios", data["ratios"], ("graphtape_vs_server_replay", "graphtape_vs_server_replay_paired",
                                                  "graphtape_vs_server_replay_table", "graphtape_vs_floor",
                                                  "logging_vs_quiet"))
    for name in REPLAY_NAMES:  # the proxy's CPU a request (0 where /proc cannot tell)
        assert data["rows"][name]["cpu_ms"] >= 0, where
    assert len(data["per_round"]["graphtape"]) == data["rows"]["graphtape"]["rounds"], where


def _suite_section(suite: dict[str, Any]) -> int:
    """The suite section's figures (its table rows: one a runner, one the capacity), or why it did not run (no
    pytest-recording)."""
    if importlib.util.find_spec("pytest_recording") is None:
        assert "bench" in suite["skipped"]
        return 1
    assert set(suite["rows"]) == {"vcr", "graphtape", "proxy_ca"}
    for name, row in suite["rows"].items():
        _positive(f"suite.{name}.wall_s", row["wall_s"], tuple(str(n) for n in suite["sizes"]))
        _positive(f"suite.{name}.cpu_s", row["cpu_s"], tuple(str(n) for n in suite["sizes"]))
    assert {"graphtape_wall_vs_vcr", "proxy_ca_per_test_vs_vcr"} <= set(suite["ratios"])
    _positive("suite", suite, ("capacity",))  # what a second process gets done: its own row
    return len(suite["rows"]) + 1


def test_quick_bench_reports_every_section(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, "-m", "dev.bench", "--quick", "--json", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(out.read_text(encoding="utf-8"))
    for section in SECTIONS:
        assert section in results, f"no {section} section"

    _replay_section("replay", results["replay"])
    assert results["concurrency"], "no concurrency runs"
    for k, data in results["concurrency"].items():
        assert data["clients"] == int(k) > 1
        _replay_section(f"concurrency.{k}", data)

    scale = results["scale"]["rows"]
    assert len(scale) >= 2
    for n, row in scale.items():
        assert row["interactions"] == int(n)
        _positive(f"scale.{n}", row, ("load_s", "peak_rss_mb", "handle_us", "file_mb", "proxy_p50_ms",
                                      "proxy_startup_s", "cached_load_s", "cached_peak_rss_mb"))
        assert row["cached"] is (row["file_mb"] * 1e6 >= MIN_BYTES)  # the quick sizes are under the threshold
    _positive("scale.ratios", results["scale"]["ratios"], ("handle_largest_vs_smallest",
                                                           "proxy_p50_largest_vs_smallest"))

    bodies = results["big_bodies"]["rows"]
    assert set(bodies) == {"mime", "json"}
    for name, row in bodies.items():
        _positive(f"big_bodies.{name}", row, ("body_bytes", "validate_ms", "diff_ms", "total_ms", "deviations"))

    for key in ("record", "record_latency"):
        record = results[key]
        for name in ("passthrough", "graphtape_record"):
            _positive(f"{key}.{name}", record["rows"][name], RATE_KEYS)
        assert isinstance(record["ratios"]["added_time_pct"], float)
        assert isinstance(record["ratios"]["added_ms"], float)
    assert results["record"]["upstream_latency_ms"] == 0
    assert results["record_latency"]["upstream_latency_ms"] > 0

    scale_rows = results["record_scale"]["rows"]
    assert len(scale_rows) >= 2
    for n, row in scale_rows.items():
        for case in ("rewrite_nofsync", "journal_nofsync", "rewrite_fsync", "journal_fsync"):
            _positive(f"record_scale.{n}.{case}", row[case], ("per_call_ms", "close_ms", "file_mb"))
    assert any("proxy_fsync" in row and row["proxy_fsync"]["p50_ms"] > 0 for row in scale_rows.values())

    load = results["load"]
    assert set(load["rows"]) == {"strict", "fast", "first", "cached"}  # each case checked its reader in its process
    for case, row in load["rows"].items():
        _positive(f"load.{case}", row, ("load_s", "cpu_s", "peak_rss_mb"))
    for name in ("mitmdump", "graphtape_replay"):
        _positive(f"startup.{name}", results["startup"]["rows"][name], ("seconds",))
    for name in ("small", "large"):
        _positive(f"switch.{name}", results["switch"]["rows"][name], ("ms", "interactions"))
    uploads = results["uploads"]
    assert set(uploads["rows"]) == {"direct", "passthrough", "graphtape_record", "graphtape_replay"}
    for name, row in uploads["rows"].items():
        _positive(f"uploads.{name}", row, ("seconds", *(() if name == "direct" else ("peak_rss_mb",))))
    assert 0 < uploads["cassette_kb"] < 64  # the chunks are kept as digests
    faults = results["faults"]
    for name in ("no_faults", "faults"):
        _positive(f"faults.{name}", faults["rows"][name], RATE_KEYS)
    assert isinstance(faults["ratios"]["throughput_cost_pct"], float)

    suite_rows = _suite_section(results["suite"])

    # The printed table: a header, a rule, then one line per row, every section's rows present.
    record_scale_rows = 2 * len(scale_rows) + 2 * sum("proxy_fsync" in r for r in scale_rows.values()) + 1
    replay_rows = len(REPLAY_NAMES) * (1 + len(results["concurrency"]))
    expected_rows = (replay_rows + 2 * len(scale) + len(bodies) + 2 + 2 + 2 + 2 + 4 + 2
                     + record_scale_rows + 3 + suite_rows)
    assert len(results["table"]) == expected_rows
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("section") and set(lines[1].replace(" ", "")) == {"-"}
    body = lines[2:]
    assert len(body) == expected_rows, proc.stdout
    for line, (section, case, figures, ratio) in zip(body, results["table"], strict=True):
        assert line.startswith(section) and case in line and figures in line and ratio in line
