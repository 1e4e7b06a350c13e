"""The benchmark's results as one table (pure: results in, rows and text out)."""

from __future__ import annotations

from typing import Any

from dev.bench.scenarios import REPLAY_ROWS

Row = tuple[str, str, str, str]  # section, case, figures, ratio
HEADER: Row = ("section", "case", "figures (medians)", "ratio")


def _rate(r: dict[str, Any]) -> str:
    cpu = f"  CPU {r['cpu_ms']:5.2f} ms" if "cpu_ms" in r else ""  # the proxy process's, per request (replay)
    return f"{r['rps']:7.0f} req/s  p50 {r['p50_ms']:6.2f} ms  p99 {r['p99_ms']:6.2f} ms{cpu}"


def _replay_rows(section: str, data: dict[str, Any]) -> list[Row]:
    rows = data["rows"]
    ratios = data["ratios"]
    out: list[Row] = []
    for name, label in REPLAY_ROWS.items():
        ratio = ""
        if name == "graphtape":
            ratio = (f"{ratios['graphtape_vs_server_replay']:.2f}x server-replay "
                     f"(paired rounds {ratios['graphtape_vs_server_replay_paired']:.2f}x, "
                     f"CPU {ratios['graphtape_vs_server_replay_cpu']:.2f}x), "
                     f"{ratios['graphtape_vs_floor']:.2f}x floor, "
                     f"{ratios['graphtape_vs_server_replay_table']:.2f}x server-replay with the table "
                     f"(CPU {ratios['graphtape_vs_server_replay_table_cpu']:.2f}x)")
        elif name == "graphtape_logging":
            ratio = f"{ratios['logging_vs_quiet']:.2f}x quiet"
        elif name == "graphtape_before":
            if name not in rows:
                continue
            ratio = (f"{ratios['before_vs_server_replay']:.2f}x server-replay (CPU "
                     f"{ratios['before_vs_server_replay_cpu']:.2f}x); quiet is {ratios['graphtape_vs_before']:.2f}x it")
        out.append((section, label, _rate(rows[name]), ratio))
    return out


def _scale_rows(scale: dict[str, Any]) -> list[Row]:
    out: list[Row] = []
    sizes = list(scale["rows"])
    for n in sizes:
        r = scale["rows"][n]
        last = n == sizes[-1]
        again = "cached" if r["cached"] else "parsed"  # under the parse cache's threshold: YAML again
        figures = (f"load {r['load_s']:6.2f} s, again {r['cached_load_s']:5.2f} s {again}  {r['file_mb']:5.1f} MB  "
                   f"peak RSS {r['peak_rss_mb']:4.0f} MB, again {r['cached_peak_rss_mb']:4.0f} MB  "
                   f"replay {r['handle_us']:5.0f} us/req")
        ratio = f"{scale['ratios']['handle_largest_vs_smallest']:.2f}x of {int(sizes[0]):,}" if last else ""
        out.append(("cassette scale", f"{int(n):,} interactions, in-process", figures, ratio))
        if "proxy_p50_ms" in r:
            figures = (f"start {r['proxy_startup_s']:6.2f} s  p50 {r['proxy_p50_ms']:6.2f} ms  "
                       f"mean {r['proxy_mean_ms']:6.2f} ms")
            ratio = f"p50 {scale['ratios']['proxy_p50_largest_vs_smallest']:.2f}x of {int(sizes[0]):,}" if last else ""
            out.append(("cassette scale", f"{int(n):,} interactions, graphtape replay", figures, ratio))
    return out


def _record_rows(record: dict[str, Any]) -> list[Row]:
    latency = record.get("upstream_latency_ms", 0.0)
    upstream = f"FakeGraph answering in {latency:g} ms" if latency else "FakeGraph"
    section = f"record, {record['requests']} req"
    added = f"{record['ratios']['added_time_pct']:+.0f}% time per request ({record['ratios']['added_ms']:+.2f} ms)"
    return [(section, f"bare mitmproxy pass-through to {upstream}", _rate(record["rows"]["passthrough"]), ""),
            (section, f"graphtape record --upstream {upstream}", _rate(record["rows"]["graphtape_record"]), added)]


def rows(results: dict[str, Any]) -> list[Row]:
    """The table's rows for the sections in ``results`` (all of them after a full run)."""
    out: list[Row] = []
    if "replay" in results:
        replay = results["replay"]
        out += _replay_rows(f"replay, 1 client, {replay['requests']} req", replay)
        for k, data in results["concurrency"].items():
            out += _replay_rows(f"replay, {k} client procs, {data['requests']} req", data)
    if "scale" in results:
        out += _scale_rows(results["scale"])
    for name, r in results.get("big_bodies", {"rows": {}})["rows"].items():
        label = {"mime": "MIME sendMail + attachment", "json": "JSON message + fileAttachment"}[name]
        figures = (f"{r['body_bytes'] / 1e6:.1f} MB body: validate {r['validate_ms']:6.1f} ms  "
                   f"diff {r['diff_ms']:6.1f} ms  total {r['total_ms']:6.1f} ms")
        out.append(("big bodies", label, figures, ""))
    for key in ("record", "record_latency"):
        if key in results:
            out += _record_rows(results[key])
    if "record_scale" in results:
        from dev.bench.recordscale import table_rows

        out += table_rows(results["record_scale"])
    if "load" in results:
        from dev.bench.load import table_rows as load_rows

        out += load_rows(results["load"])
    if "startup" in results:
        start = results["startup"]
        out.append(("startup", "mitmdump (to listening)", f"{start['rows']['mitmdump']['seconds']:.2f} s", ""))
        out.append(("startup", "graphtape replay (to listening)",
                    f"{start['rows']['graphtape_replay']['seconds']:.2f} s",
                    f"{start['ratios']['graphtape_vs_mitmdump']:.2f}x mitmdump"))
    for r in results.get("switch", {"rows": {}})["rows"].values():
        out.append(("cassette switch", f"ProxyThread.switch, {r['interactions']:,} interactions",
                    f"{r['ms']:.1f} ms", ""))
    if "uploads" in results:
        out += _upload_rows(results["uploads"])
    if "faults" in results:
        from dev.bench.faults import fault_rows

        out += fault_rows(results["faults"])
    if "suite" in results:
        out += _suite_rows(results["suite"])
    return out


def _suite_rows(data: dict[str, Any]) -> list[Row]:
    from dev.bench.suite import LABELS

    if "skipped" in data:
        return [("suite", "pytest-recording vs the graphtape plugin", "not run", data["skipped"])]
    sizes = [str(n) for n in data["sizes"]]
    out: list[Row] = []
    for key, r in data["rows"].items():
        name, _, workers = key.partition("_n")
        label = LABELS[name] + (f", -n {workers}" if workers else "")
        walls = "  ".join(f"{n} tests {r['wall_s'][n]:6.2f} s" for n in sizes)
        ratio = []
        if name != "vcr":
            ratio.append(f"{data['ratios'][f'{key}_wall_vs_vcr']:.2f}x VCR wall, "
                         f"{data['ratios'][f'{key}_per_test_vs_vcr']:.2f}x per test")
        if workers:  # against the same tool without -n, from the same rounds
            got = data["ratios"]
            walls_vs_1 = ", ".join(f"{n}: {got[f'{key}_wall_vs_1' + ('' if n == sizes[-1] else f'_{n}')]:.2f}x"
                                   for n in sizes)
            ratio.append(f"vs without -n: wall {walls_vs_1}; CPU {got[f'{key}_cpu_vs_1']:.2f}x")
        cpu = f"  CPU {r['cpu_s'][sizes[-1]]:5.2f} s" if "cpu_s" in r else ""
        out.append(("suite", label, f"{walls}  one more test {r['per_test_ms']:6.1f} ms{cpu}", "; ".join(ratio)))
    if "capacity" in data:
        out.append(("suite", "what a second process gets done here (2 CPU-bound vs 1, median of the rounds)",
                    f"{data['capacity']:.2f}x", "2.0x on two idle cores; near 1.0x, -n 2 cannot gain"))
    return out


def _upload_rows(up: dict[str, Any]) -> list[Row]:
    from dev.bench.uploads import ROWS

    section = f"upload session, {up['size_mb']} MB in {up['chunks']} chunks"
    base = up["rows"]["direct"]["seconds"]
    out: list[Row] = []
    for name, label in ROWS.items():
        r = up["rows"][name]
        memory = f", proxy peak RSS {r['peak_rss_mb']:4.0f} MB" if "peak_rss_mb" in r else ""
        extra = f" (cassette {up['cassette_kb']:.0f} KB)" if name == "graphtape_record" else ""
        ratio = f"{r['seconds'] / base:.2f}x direct" if name != "direct" else ""
        out.append((section, label + extra, f"{r['seconds']:.2f} s{memory}", ratio))
    return out


def render(table: list[Row]) -> str:
    all_rows = [HEADER, *table]
    widths = [max(len(r[i]) for r in all_rows) for i in range(4)]
    lines = []
    for n, r in enumerate(all_rows):
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
