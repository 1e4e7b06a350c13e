"""Expiry: a recorded interaction older than ``max_age`` is stale, judged one interaction at a time.

Pure: durations and ``recorded_at`` texts in, judgements out; the clock is a parameter (the replay passes the
wall clock, tests a fixed time).

- ``max_age``: ``90d``, ``12h``, ``30m``, ``2w`` (one number and one unit) or ISO 8601 ``P90D``, ``PT12H``,
  ``P2W``, ``P1DT6H``; months and years are refused (their length varies).
- ``recorded_at``: the time the recorder wrote (``2026-11-22T00:39:14.005Z``), or as a person edits it: a date
  (``2026-11-22``, midnight UTC) or a time without a zone (UTC).
- An interaction without ``recorded_at`` (cassettes written before graphtape stamped each call, or hand-written
  ones) has no known age: it never expires. ``graphtape check --max-age`` counts such interactions, so a
  cassette that cannot expire is visible. An unreadable ``recorded_at`` is treated the same way and named.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphtape.model import Finding

RULE = "cassette.expired"
ON_EXPIRY = ("warn", "fail")
EXAMPLE = "e.g. 90d, 12h, 2w or P90D"

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_SHORT = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])", re.IGNORECASE)
_ISO = re.compile(r"P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?", re.IGNORECASE)


def parse_duration(text: str, option: str = "max_age") -> _dt.timedelta:
    """``"90d"`` / ``"P90D"`` -> 90 days; raises ValueError naming ``option`` and a correct example."""
    value = text.strip()
    short = _SHORT.fullmatch(value)
    if short is not None:
        seconds = float(short.group(1)) * _UNITS[short.group(2).lower()]
    else:
        iso = _ISO.fullmatch(value)
        if iso is None or not any(iso.groups()) or value.upper().endswith("T"):
            raise ValueError(f"graphtape: {option}: {text!r} is not a duration ({EXAMPLE}; months and years are "
                             "not accepted, their length varies)")
        weeks, days, hours, minutes, secs = (float(g) if g else 0.0 for g in iso.groups())
        seconds = (((weeks * 7 + days) * 24 + hours) * 60 + minutes) * 60 + secs
    if seconds <= 0:
        raise ValueError(f"graphtape: {option}: {text!r} must be longer than zero ({EXAMPLE})")
    return _dt.timedelta(seconds=seconds)


def parse_recorded_at(text: str) -> _dt.datetime | None:
    """The time in ``recorded_at`` (aware, UTC when no zone is written), or None: empty or unreadable."""
    value = text.strip()
    if not value:
        return None
    try:
        when = _dt.datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=_dt.UTC)


def age_text(age: _dt.timedelta) -> str:
    """``214 days``, ``5 hours``, ``12 minutes``: the age in its largest whole unit."""
    seconds = int(age.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' * (n != 1)}"
    return f"{max(seconds, 0)} second{'s' * (seconds != 1)}"


def utc_now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


@dataclass(frozen=True)
class Expiry:
    """How old a recording may be (``max_age``, as written in ``text``) and what an expired one does."""

    max_age: _dt.timedelta
    text: str
    fail: bool = False
    now: Callable[[], _dt.datetime] = field(default=utc_now, compare=False, repr=False)

    def age(self, recorded_at: str) -> _dt.timedelta | None:
        """The age of a recording now, or None (no readable ``recorded_at``: it never expires)."""
        when = parse_recorded_at(recorded_at)
        return None if when is None else self.now() - when

    def expired(self, recorded_at: str) -> _dt.timedelta | None:
        """The age of a recording older than ``max_age``; None when it is not expired."""
        age = self.age(recorded_at)
        return age if age is not None and age > self.max_age else None

    def describe(self, index: int, recorded_at: str, age: _dt.timedelta) -> str:
        return (f"interaction {index + 1} expired: recorded {recorded_at.strip()}, {age_text(age)} ago, over the "
                f"max age {self.text}; re-record the cassette")

    def finding(self, index: int, recorded_at: str) -> Finding | None:
        """A served interaction's judgement: a warning finding when it is expired (None when it is not)."""
        age = self.expired(recorded_at)
        if age is None:
            return None
        return Finding(RULE, "warning", f"interaction:{index + 1}", self.describe(index, recorded_at, age))


def expired_in(expiry: Expiry, recorded: Sequence[str]) -> list[tuple[int, _dt.timedelta]]:
    """(0-based index, age) of each expired one among the ``recorded_at`` texts, in order."""
    out = []
    for index, text in enumerate(recorded):
        age = expiry.expired(text)
        if age is not None:
            out.append((index, age))
    return out


def undated(recorded: Sequence[str]) -> list[int]:
    """0-based indexes of the interactions with no readable ``recorded_at`` (they never expire)."""
    return [i for i, text in enumerate(recorded) if parse_recorded_at(text) is None]


def expiry_from(max_age: str, on_expiry: str, project: Mapping[str, Any], *,
                where: str = "--max-age") -> Expiry | None:
    """The expiry in force: ``max_age``/``on_expiry`` given (option, marker) over ``[tool.graphtape]``'s; None
    when no max age is set. Raises ValueError for a bad value, naming where it came from."""
    source = where
    if not max_age:
        max_age, source = project.get("max_age", ""), "[tool.graphtape] max_age"
    if not on_expiry:
        on_expiry = project.get("on_expiry", "warn")
    if not isinstance(max_age, str):
        raise ValueError(f"graphtape: {source} must be a string ({EXAMPLE}), not {max_age!r}")
    if on_expiry not in ON_EXPIRY:
        raise ValueError(f"graphtape: on_expiry must be warn or fail, not {on_expiry!r}")
    if not max_age:
        return None
    return Expiry(parse_duration(max_age, source), max_age.strip(), fail=on_expiry == "fail")
