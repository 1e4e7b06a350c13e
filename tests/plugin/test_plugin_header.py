"""The plugin's header line says whether this run records (and where the calls go), or replays offline."""

from __future__ import annotations

from pathlib import Path

import pytest

from graphtape.model import PluginMode
from graphtape.pytest.support import report_header

pytest_plugins = ["pytester"]


@pytest.mark.parametrize(("mode", "records"), [(PluginMode.RECORD, True), (PluginMode.ONCE, True),
                                                (PluginMode.NEW_EPISODES, True), (PluginMode.REPLAY, False),
                                                (PluginMode.SIMULATE, False)])
def test_the_header_says_record_on_exactly_when_the_mode_records(mode, records):
    line = report_header(mode, Path("tapes"), upstream="", strict=False)
    assert line.startswith("graphtape: "), line
    assert ("record on" in line) is records, line
    assert ("calls go to https://graph.microsoft.com" in line) is records, line
    assert "cassettes in tapes" in line


def test_the_header_names_the_upstream_and_strict():
    line = report_header(PluginMode.RECORD, Path("tapes"), upstream="https://127.0.0.1:8443", strict=True)
    assert "record on" in line and "calls go to https://127.0.0.1:8443" in line and line.endswith(", strict"), line
    assert "offline" in report_header(PluginMode.REPLAY, Path("tapes"), upstream="", strict=False)


def test_a_recording_run_says_record_on_in_its_header(pytester: pytest.Pytester):
    pytester.makepyfile(test_nothing="def test_nothing():\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--graphtape-mode=record", "--co", timeout=120)
    result.stdout.fnmatch_lines(["graphtape: record on (mode record; calls go to https://graph.microsoft.com), "
                                 "cassettes in *cassettes"])
    replay = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--co", timeout=120)
    replay.stdout.fnmatch_lines(["graphtape: replay (offline), cassettes in *cassettes"])
