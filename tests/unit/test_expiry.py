"""The pure parts of expiry: durations, recorded_at texts, the per-interaction judgement, the settings in force."""

from __future__ import annotations

import datetime as _dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graphtape.replay.expiry import (
    RULE,
    Expiry,
    age_text,
    expired_in,
    expiry_from,
    parse_duration,
    parse_recorded_at,
    undated,
)

DAY = _dt.timedelta(days=1)
NOW = _dt.datetime(2026, 12, 1, 12, 0, tzinfo=_dt.UTC)


@pytest.mark.parametrize(("text", "expected"), [
    ("90d", 90 * DAY), ("12h", _dt.timedelta(hours=12)), ("2w", 14 * DAY), ("30m", _dt.timedelta(minutes=30)),
    ("45s", _dt.timedelta(seconds=45)), (" 1.5d ", 1.5 * DAY), ("90D", 90 * DAY),
    ("P90D", 90 * DAY), ("PT12H", _dt.timedelta(hours=12)), ("P2W", 14 * DAY),
    ("P1DT6H", _dt.timedelta(days=1, hours=6)), ("PT1M30S", _dt.timedelta(seconds=90)), ("p3d", 3 * DAY),
])
def test_durations_short_and_iso(text: str, expected: _dt.timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "90", "d", "90 days", "3mo", "P1M", "P1Y", "P", "PT", "P1DT", "0d", "-5d",
                                  "P0D", "90d12h"])
def test_a_bad_duration_names_the_option_and_a_correct_example(text: str) -> None:
    with pytest.raises(ValueError, match=r"graphtape: --max-age: .*e\.g\. 90d, 12h, 2w or P90D"):
        parse_duration(text, "--max-age")


@given(st.integers(1, 10_000), st.sampled_from(["d", "h", "w", "m", "s"]))
def test_short_and_iso_forms_agree(n: int, unit: str) -> None:
    iso = {"d": f"P{n}D", "h": f"PT{n}H", "w": f"P{n}W", "m": f"PT{n}M", "s": f"PT{n}S"}[unit]
    assert parse_duration(f"{n}{unit}") == parse_duration(iso) > _dt.timedelta(0)


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-22T00:39:14.005Z", _dt.datetime(2026, 11, 22, 0, 39, 14, 5000, tzinfo=_dt.UTC)),
    ("2026-11-22", _dt.datetime(2026, 11, 22, tzinfo=_dt.UTC)),  # an unquoted date, as YAML hands it over
    ("2026-11-22 08:00:00", _dt.datetime(2026, 11, 22, 8, tzinfo=_dt.UTC)),  # no zone: UTC
    ("2026-11-22T10:00:00+02:00", _dt.datetime(2026, 11, 22, 8, tzinfo=_dt.UTC)),
    ("", None), ("yesterday", None), ("t", None),
])
def test_recorded_at_forms(text: str, expected: _dt.datetime | None) -> None:
    assert parse_recorded_at(text) == expected


def _stamp(age: _dt.timedelta) -> str:
    return (NOW - age).isoformat().replace("+00:00", "Z")


@given(st.lists(st.one_of(st.none(), st.integers(0, 400 * 86400)), max_size=30), st.integers(1, 400))
def test_each_interaction_is_judged_by_its_own_age(ages: list[int | None], max_days: int) -> None:
    expiry = Expiry(max_days * DAY, f"{max_days}d", now=lambda: NOW)
    stamps = ["" if a is None else _stamp(_dt.timedelta(seconds=a)) for a in ages]
    expected = [i for i, a in enumerate(ages) if a is not None and a > max_days * 86400]
    assert [i for i, _ in expired_in(expiry, stamps)] == expected  # not "all of them, because one is old"
    assert undated(stamps) == [i for i, a in enumerate(ages) if a is None]
    for index, age in expired_in(expiry, stamps):
        assert age == _dt.timedelta(seconds=ages[index] or 0)


def test_the_finding_of_a_served_expired_interaction() -> None:
    expiry = Expiry(90 * DAY, "90d", now=lambda: NOW)
    assert expiry.finding(0, _stamp(89 * DAY)) is None
    assert expiry.finding(0, "") is None  # no recorded_at: never expires
    found = expiry.finding(2, "2026-05-01")
    assert found is not None and (found.rule, found.severity, found.location) == (RULE, "warning", "interaction:3")
    assert found.message == ("interaction 3 expired: recorded 2026-05-01, 214 days ago, over the max age 90d; "
                             "re-record the cassette")


def test_age_text() -> None:
    assert [age_text(t) for t in (214 * DAY, DAY, _dt.timedelta(hours=5), _dt.timedelta(minutes=1),
                                  _dt.timedelta(seconds=3))] == ["214 days", "1 day", "5 hours", "1 minute",
                                                                 "3 seconds"]


def test_the_option_wins_over_the_project_and_warn_is_the_default() -> None:
    project = {"max_age": "30d", "on_expiry": "fail"}
    assert expiry_from("", "", {}) is None
    chosen = expiry_from("", "", project)
    assert chosen is not None and (chosen.max_age, chosen.fail, chosen.text) == (30 * DAY, True, "30d")
    chosen = expiry_from("2w", "warn", project)
    assert chosen is not None and (chosen.max_age, chosen.fail) == (14 * DAY, False)
    chosen = expiry_from("P90D", "", {})
    assert chosen is not None and not chosen.fail


def test_a_bad_project_value_names_where_it_came_from() -> None:
    with pytest.raises(ValueError, match=r"\[tool.graphtape\] max_age: '3 months' is not a duration"):
        expiry_from("", "", {"max_age": "3 months"})
    with pytest.raises(ValueError, match="must be a string"):
        expiry_from("", "", {"max_age": 90})
    with pytest.raises(ValueError, match="on_expiry must be warn or fail, not 'stop'"):
        expiry_from("90d", "stop", {})
