"""Expiry end to end, through the real proxy: ``graphtape replay``/``run`` with ``--max-age``, ``[tool.graphtape]``,
``graphtape check --max-age`` and the plugin's ``max_age=`` marker, on a hand-edited cassette whose interactions
were recorded at different times (see cassettes.py: with 90d, interactions 1 and 3 are expired)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import httpx
import pytest

from .cassettes import GRAPH, NAMES, write_aged

pytest_plugins = ["pytester"]
GRAPHTAPE = [sys.executable, "-m", "graphtape.cli"]


def _get_all(proxy: Any, names: tuple[str, ...] = NAMES) -> list[int]:
    with httpx.Client(proxy=proxy.url, verify=str(proxy.ca), timeout=20) as c:
        return [c.get(f"{GRAPH}/me/messages/{name}").status_code for name in names]


def test_warn_lists_each_expired_interaction_served_and_the_session_passes(tmp_path, proxy):
    cassette, report = write_aged(tmp_path / "c.yaml"), tmp_path / "report.json"
    p = proxy("replay", str(cassette), "--max-age", "90d", "--report", str(report))
    assert _get_all(p) == [200, 200, 200, 200]
    assert p.stop() == 0, p.output
    assert "matched 4, unmatched 0" in p.stderr
    summary = p.stderr[p.stderr.index("graphtape: replay session"):]
    listed = [line for line in summary.splitlines() if "expired: recorded" in line]
    assert len(listed) == 2, p.stderr
    assert listed[0].startswith(f"  #1 GET {GRAPH}/me/messages/old: interaction 1 expired")
    assert listed[1].startswith(f"  #3 GET {GRAPH}/me/messages/older: interaction 3 expired")
    assert "200 days ago" in listed[0] and "120 days ago" in listed[1]
    assert "over the max age 90d" in listed[0]
    data = json.loads(report.read_text())
    found = [(e["number"], f["rule"], f["location"]) for e in data["requests"] for f in e["findings"]]
    assert data["summary"]["expired"] == 2 and data["problems"] == []
    assert found == [(1, "cassette.expired", "interaction:1"), (3, "cassette.expired", "interaction:3")]


def test_fail_fails_the_session_naming_the_expired_ones(tmp_path, proxy):
    cassette = write_aged(tmp_path / "c.yaml")
    p = proxy("replay", str(cassette), "--max-age", "P90D", "--on-expiry", "fail")
    assert _get_all(p) == [200, 200, 200, 200]  # still served: the verdict is the session's
    assert p.stop() == 1, p.output
    problems = [line for line in p.stderr.splitlines() if "problem:" in line]
    assert len(problems) == 2 and "interaction 1 expired" in problems[0] and "interaction 3 expired" in problems[1]
    assert all("(on_expiry = fail)" in line for line in problems)


def test_only_fresh_and_undated_interactions_served_pass_even_with_fail(tmp_path, proxy):
    cassette = write_aged(tmp_path / "c.yaml")
    p = proxy("replay", str(cassette), "--max-age", "90d", "--on-expiry", "fail")
    assert _get_all(p, ("fresh", "undated")) == [200, 200]  # judged per interaction, not by the oldest one
    assert p.stop() == 0, p.output
    assert "expired" not in p.stderr.replace("unused interactions", "")


def test_run_with_fail_exits_3_naming_them(tmp_path, confdir):
    cassette = write_aged(tmp_path / "c.yaml")
    client = ("import httpx, os; c = httpx.Client(verify=os.environ['CURL_CA_BUNDLE']); "
              f"[c.get('{GRAPH}/me/messages/' + n).raise_for_status() for n in {list(NAMES)!r}]")
    done = subprocess.run([*GRAPHTAPE, "run", "--confdir", str(confdir), "--cassette", str(cassette),
                           "--max-age", "90d", "--on-expiry", "fail", "--", sys.executable, "-c", client],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, done.stderr
    assert "the command passed, but the session had" in done.stderr
    assert "interaction 1 expired" in done.stderr and "interaction 3 expired" in done.stderr


def test_project_settings_and_fail_on_expired(tmp_path, proxy, monkeypatch):
    cassette = write_aged(tmp_path / "c.yaml")
    (tmp_path / "pyproject.toml").write_text('[tool.graphtape]\nmax_age = "150d"\n')
    monkeypatch.chdir(tmp_path)
    p = proxy("replay", str(cassette), "--fail-on", "unmatched,violation,expired")
    assert _get_all(p) == [200, 200, 200, 200]
    assert p.stop() == 1, p.output
    assert "1 expired interaction(s) served (cassette.expired)" in p.stderr  # only the 200-day one is over 150d
    assert "interaction 1 expired" in p.stderr and "interaction 3 expired" not in p.stderr


@pytest.mark.parametrize(("args", "option"), [(["--max-age", "3 months"], "--max-age"),
                                              (["--max-age", "P1M"], "--max-age")])
def test_a_bad_max_age_is_refused_at_start(tmp_path, args, option):
    cassette = write_aged(tmp_path / "c.yaml")
    done = subprocess.run([*GRAPHTAPE, "replay", str(cassette), *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert f"graphtape: {option}: " in done.stderr and "e.g. 90d, 12h, 2w or P90D" in done.stderr


def test_check_lists_expired_interactions_with_their_age_and_number(tmp_path):
    cassette = write_aged(tmp_path / "c.yaml")
    warn = subprocess.run([*GRAPHTAPE, "check", str(cassette), "--max-age", "90d"], capture_output=True, text=True,
                          timeout=60)
    assert warn.returncode == 0, warn.stderr
    lines = warn.stdout.splitlines()
    assert [line.split(": ")[0] for line in lines] == [f"{cassette}:1", f"{cassette}:3"]
    assert "cassette.expired: recorded" in lines[0] and "200 days ago (max age 90d)" in lines[0]
    assert "120 days ago" in lines[1]
    assert "2 expired interaction(s) in 1 cassette(s) (max age 90d, on_expiry warn), 1 without recorded_at" \
        in warn.stderr
    fail = subprocess.run([*GRAPHTAPE, "check", str(tmp_path), "--max-age", "90d", "--on-expiry", "fail"],
                          capture_output=True, text=True, timeout=60)
    assert fail.returncode == 1 and fail.stdout == warn.stdout
    none = subprocess.run([*GRAPHTAPE, "check", str(cassette), "--max-age", "300d", "--on-expiry", "fail"],
                          capture_output=True, text=True, timeout=60)
    assert none.returncode == 0 and none.stdout == "" and "0 expired interaction(s)" in none.stderr


PLUGIN_TEST = '''
import httpx, pytest
GRAPH = "https://graph.microsoft.com/v1.0"

@pytest.mark.graphtape("aged.yaml", MARKER)
def test_reads(graphtape):
    for name in NAMES:
        assert httpx.get(f"{GRAPH}/me/messages/{name}").status_code == 200
'''


def _plugin_run(pytester: pytest.Pytester, marker: str, names: tuple[str, ...] = NAMES) -> Any:
    (pytester.path / "cassettes").mkdir(exist_ok=True)
    write_aged(pytester.path / "cassettes" / "aged.yaml")
    source = PLUGIN_TEST.replace("MARKER", marker).replace("NAMES", repr(names))
    pytester.makepyfile(test_aged=source)
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly")


def test_plugin_marker_max_age_fail_fails_the_test_naming_them(pytester: pytest.Pytester):
    run = _plugin_run(pytester, 'max_age="90d", on_expiry="fail"')
    run.assert_outcomes(failed=1)
    out = run.stdout.str()
    assert "interaction 1 expired" in out and "interaction 3 expired" in out


def test_plugin_marker_max_age_warn_passes_and_fresh_ones_pass_with_fail(pytester: pytest.Pytester):
    _plugin_run(pytester, 'max_age="90d"').assert_outcomes(passed=1)
    _plugin_run(pytester, 'max_age="90d", on_expiry="fail"', ("fresh", "undated")).assert_outcomes(passed=1)


def test_plugin_marker_bad_max_age_is_refused(pytester: pytest.Pytester):
    run = _plugin_run(pytester, 'max_age="ninety days"')
    assert run.ret != 0
    assert "graphtape: max_age=: 'ninety days' is not a duration (e.g. 90d" in run.stdout.str()
