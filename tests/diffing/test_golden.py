"""The differ's output for each kind of change, kept in golden files (see golden_cases for the format)."""

from __future__ import annotations

from pathlib import Path

import pytest
from dev.deviations import format_deviations

from graphtape.diffing.core import diff_requests
from graphtape.diffing.ignore import DEFAULT_IGNORE, IgnoreRules

from .golden_cases import UPDATE, case_paths, load_case, write_expected


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in case_paths()])
def test_golden(path: Path) -> None:
    case = load_case(path)
    rules = DEFAULT_IGNORE.merge(IgnoreRules.parse(case.ignore))
    got = format_deviations(diff_requests(case.recorded, case.actual, rules))
    if UPDATE:
        write_expected(path, got)
        return
    assert got == case.expected.rstrip("\n"), f"{path.name}: rerun with GRAPHTAPE_UPDATE_GOLDEN=1 if intended"


def test_golden_cases_exist() -> None:
    assert len(case_paths()) >= 20
