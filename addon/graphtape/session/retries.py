"""Whether a client waited as long as a throttling answer's ``Retry-After`` asked before it retried.

Graph answers a throttled call 429 (sometimes 503) with ``Retry-After: <seconds>``; a client that comes back
sooner is throttled again, and Graph counts the early retry against the app. ``RetryWatch`` remembers, per
request (method and normalised URL: ``HttpRequest.key``), the last such answer and when it went out; when
the same request comes again it says whether it came too soon (a ``retry.too-soon`` warning).

Pure: the proxy feeds it timestamps (``time.monotonic()``) at the moment it answers a call and the moment the
next one arrives. Replay measures from serving the recorded 429 to the next matching request; record and
inspect from passing Graph's 429 on to the retry's arrival. Either way the time measured includes the trip
to the client and back, so a client that slept exactly ``Retry-After`` is never reported.

An injected fault (``graphtape.faults``) also waits here for its retry, whatever its status (a reset, a 500):
``faulted`` names what to tell when the same request comes again (how long the client waited).
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

from graphtape.contract.rules import finding
from graphtape.model import Finding

THROTTLED = frozenset({429, 503})  # the statuses whose Retry-After a client must honour
SLACK_S = 0.05  # timer granularity: a retry this much early still counts as on time


def retry_after_seconds(value: str | None, now: _dt.datetime | None = None) -> float | None:
    """The wait a ``Retry-After`` value asks for: delay-seconds (``"1"``) or an HTTP-date (seconds from
    ``now``, never below 0); None when absent or unreadable."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=_dt.UTC)
    return max(0.0, (when - (now or _dt.datetime.now(_dt.UTC))).total_seconds())


def retry_after_value(wait_s: float) -> str:
    """The ``Retry-After`` header value (delay-seconds: a whole number, which the SDKs parse with ``int``) for a wait
    of ``wait_s`` seconds: rounded up, so a client that waits what it says is never early; at least 1.

    graphtape's own throttling answers (Outlook's limits, scripted faults) are made with it from the wait already
    multiplied by ``--faults-time-scale``, so the header is the shortened wait, and the ``retry.too-soon`` check,
    which reads the header as served, holds a retry to that same shortened wait.
    """
    return str(max(1, math.ceil(wait_s - 1e-6)))


def too_soon(waited_s: float, asked_s: float, status: int) -> Finding | None:
    """A ``retry.too-soon`` warning when a retry came ``waited_s`` after a ``status`` answer asking ``asked_s``."""
    if waited_s + SLACK_S >= asked_s:
        return None
    msg = (f"retried {waited_s:.2f} s after a {status} whose Retry-After asked for {asked_s:g} s; wait at "
           "least Retry-After before retrying (msgraph-sdk's RetryHandler does), or Graph throttles again")
    return finding("retry.too-soon", "header:Retry-After", msg)


@dataclass(frozen=True)
class _Throttled:
    at: float  # when the answer went out (monotonic seconds)
    asked_s: float
    status: int


@dataclass
class RetryWatch:
    """The throttling answers of one session still waiting for their retry, by request key."""

    pending: dict[str, _Throttled] = field(default_factory=dict)
    faults: dict[str, tuple[float, Callable[[float], None]]] = field(default_factory=dict)  # key -> (at, on_retry)

    def answered(self, key: str, status: int, retry_after: str | None, at: float,
                 now: _dt.datetime | None = None) -> None:
        """A call was answered at ``at``; a 429/503 with a readable ``Retry-After`` waits for its retry."""
        asked = retry_after_seconds(retry_after, now) if status in THROTTLED else None
        if asked is not None and asked > 0:
            self.pending[key] = _Throttled(at, asked, status)

    def faulted(self, key: str, at: float, on_retry: Callable[[float], None]) -> None:
        """An injected fault answered ``key`` at ``at``: its retry calls ``on_retry(seconds waited)``."""
        self.faults[key] = (at, on_retry)

    def arrived(self, key: str, at: float) -> list[Finding]:
        """A call arrived at ``at``: [a warning] if it retries a throttled one too soon, else []."""
        fault = self.faults.pop(key, None)
        if fault is not None:
            fault[1](at - fault[0])
        throttled = self.pending.pop(key, None)
        if throttled is None:
            return []
        found = too_soon(at - throttled.at, throttled.asked_s, throttled.status)
        return [found] if found is not None else []
