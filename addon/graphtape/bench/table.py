"""The benchmark's results as one table (pure: results in, rows and text out)."""

from __future__ import annotations

from typing import Any

from graphtape.bench.scenarios import REPLAY_ROWS

Row = tuple[str, str, str, str]  # section, case, figures, ratio
HEADER: Row = ("section", "case", "figures (medians)", "ratio")


def _rate(r: dict[str, Any]) -> str:
    return f"{r['rps']:7.0f} req/s  p50 {r['p50_ms']:6.2f} ms  p99 {r['p99_ms']:6.2f} ms"


def _replay_rows(section: str, data: dict[str, Any]) -> list[Row]:
    rows = data["rows"]
    ratios = data["ratios"]
    out: list[Row] = []
    for name, label in REPLAY_ROWS.items():
        ratio = ""
        if name == "graphtape":
            ratio = (f"{ratios['graphtape_vs_server_replay']:.2f}x server-replay, "
                     f"{ratios['graphtape_vs_floor']:.2f}x floor")
        elif name == "graphtape_logging":
            ratio = f"{ratios['logging_vs_quiet']:.2f}x quiet"
        out.append((section, label, _rate(rows[name]), ratio))
    return out


def rows(results: dict[str, Any]) -> list[Row]:
    out: list[Row] = []
    replay = results["replay"]
    out += _replay_rows(f"replay, 1 client, {replay['requests']} req", replay)
    for k, data in results["concurrency"].items():
        out += _replay_rows(f"replay, {k} client procs, {data['requests']} req", data)
    scale = results["scale"]
    sizes = list(scale["rows"])
    for n in sizes:
        r = scale["rows"][n]
        last = n == sizes[-1]
        figures = (f"load {r['load_s']:6.2f} s  {r['file_mb']:5.1f} MB  peak RSS {r['peak_rss_mb']:4.0f} MB  "
                   f"replay {r['handle_us']:5.0f} us/req")
        ratio = f"{scale['ratios']['handle_largest_vs_smallest']:.2f}x of {int(sizes[0]):,}" if last else ""
        out.append(("cassette scale", f"{int(n):,} interactions, in-process", figures, ratio))
        if "proxy_p50_ms" in r:
            figures = (f"start {r['proxy_startup_s']:6.2f} s  p50 {r['proxy_p50_ms']:6.2f} ms  "
                       f"mean {r['proxy_mean_ms']:6.2f} ms")
            ratio = f"p50 {scale['ratios']['proxy_p50_largest_vs_smallest']:.2f}x of {int(sizes[0]):,}" if last else ""
            out.append(("cassette scale", f"{int(n):,} interactions, graphtape replay", figures, ratio))
    for name, r in results["big_bodies"]["rows"].items():
        label = {"mime": "MIME sendMail + attachment", "json": "JSON message + fileAttachment"}[name]
        figures = (f"{r['body_bytes'] / 1e6:.1f} MB body: validate {r['validate_ms']:6.1f} ms  "
                   f"diff {r['diff_ms']:6.1f} ms  total {r['total_ms']:6.1f} ms")
        out.append(("big bodies", label, figures, ""))
    record = results["record"]
    ratios = record["ratios"]
    out.append((f"record, {record['requests']} req", "bare mitmproxy pass-through to FakeGraph",
                _rate(record["rows"]["passthrough"]), ""))
    out.append((f"record, {record['requests']} req", "graphtape record --upstream FakeGraph",
                _rate(record["rows"]["graphtape_record"]), f"{ratios['added_time_pct']:+.0f}% time per request"))
    start = results["startup"]
    out.append(("startup", "mitmdump (to listening)", f"{start['rows']['mitmdump']['seconds']:.2f} s", ""))
    out.append(("startup", "graphtape replay (to listening)", f"{start['rows']['graphtape_replay']['seconds']:.2f} s",
                f"{start['ratios']['graphtape_vs_mitmdump']:.2f}x mitmdump"))
    switch = results["switch"]
    for r in switch["rows"].values():
        out.append(("cassette switch", f"ProxyThread.switch, {r['interactions']:,} interactions",
                    f"{r['ms']:.1f} ms", ""))
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
