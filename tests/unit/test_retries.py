"""Retry-After: when a retry comes too soon after a throttling answer (pure, fed with timestamps)."""

from __future__ import annotations

import datetime as _dt
import json

from graphtape.model import HttpRequest, HttpResponse, Interaction, Mode, Outcome
from graphtape.replay.pipeline import Replayer
from graphtape.session.exchanges import Session
from graphtape.session.retries import RetryWatch, retry_after_seconds, too_soon

KEY = "POST /v1.0/me/sendMail"
NOW = _dt.datetime(2026, 12, 1, 12, 0, 0, tzinfo=_dt.UTC)


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after_seconds("1") == 1.0
    assert retry_after_seconds(" 30 ") == 30.0
    assert retry_after_seconds("Tue, 01 Dec 2026 12:00:05 GMT", NOW) == 5.0
    assert retry_after_seconds("Tue, 01 Dec 2026 11:59:00 GMT", NOW) == 0.0  # in the past: no wait
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds("-3") is None


def test_too_soon_names_the_seconds_waited_and_asked() -> None:
    found = too_soon(0.01, 2, 429)
    assert found is not None
    assert (found.rule, found.severity) == ("retry.too-soon", "warning")
    assert "retried 0.01 s after a 429 whose Retry-After asked for 2 s" in found.message
    assert too_soon(2.0, 2, 429) is None
    assert too_soon(1.97, 2, 429) is None  # within timer granularity


def test_watch_flags_an_early_retry_once_and_only_for_the_same_request() -> None:
    watch = RetryWatch()
    watch.answered(KEY, 429, "1", at=100.0)
    assert watch.arrived("GET /v1.0/me/messages", 100.1) == []  # another call: not a retry
    [found] = watch.arrived(KEY, 100.2)
    assert "retried 0.20 s after a 429 whose Retry-After asked for 1 s" in found.message
    assert watch.arrived(KEY, 100.3) == []  # the throttling answer is used up by its first retry


def test_watch_accepts_a_retry_that_waited() -> None:
    watch = RetryWatch()
    watch.answered(KEY, 503, "1", at=100.0)
    assert watch.arrived(KEY, 101.0) == []


def test_watch_ignores_answers_that_ask_for_no_wait() -> None:
    watch = RetryWatch()
    watch.answered(KEY, 202, "5", at=100.0)  # not a throttling status
    watch.answered("GET /a", 429, None, at=100.0)  # no Retry-After (response.retry-after warns of that)
    watch.answered("GET /b", 429, "0", at=100.0)
    assert [watch.arrived(k, 100.01) for k in (KEY, "GET /a", "GET /b")] == [[], [], []]


def _sendmail() -> HttpRequest:
    body = json.dumps({"message": {"subject": "s", "toRecipients": [
        {"emailAddress": {"address": "megan@contoso.com"}}]}}).encode()
    return HttpRequest("POST", "https://graph.microsoft.com/v1.0/me/sendMail",
                       [("Content-Type", "application/json")], body)


def _throttled_then_accepted() -> list[Interaction]:
    throttled = HttpResponse(429, "Too Many Requests", [("Retry-After", "1"), ("Content-Type", "application/json")],
                             b'{"error":{"code":"TooManyRequests","message":"Please retry again later."}}')
    return [Interaction(_sendmail(), throttled), Interaction(_sendmail(), HttpResponse(202, "Accepted"))]


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def test_replay_serves_identical_requests_in_recorded_order_once_each() -> None:
    clock = Clock()
    session = Session(mode=Mode.REPLAY)
    r = Replayer("c.yaml", _throttled_then_accepted(), session, clock=clock)
    first, resp1 = r.handle(_sendmail())
    clock.now += 1.0
    second, resp2 = r.handle(_sendmail())
    third, resp3 = r.handle(_sendmail())
    assert [resp1.status, resp2.status, resp3.status] == [429, 202, 410]
    assert [first.interaction, second.interaction, third.outcome] == [0, 1, Outcome.EXHAUSTED]
    assert second.findings == [] and first.findings == []


def test_replay_flags_a_retry_sooner_than_the_served_retry_after() -> None:
    clock = Clock()
    session = Session(mode=Mode.REPLAY)
    r = Replayer("c.yaml", _throttled_then_accepted(), session, clock=clock)
    r.handle(_sendmail())
    clock.now += 0.25
    ex, resp = r.handle(_sendmail())
    assert resp.status == 202
    assert [f.rule for f in ex.findings] == ["retry.too-soon"]
    assert "retried 0.25 s after a 429 whose Retry-After asked for 1 s" in ex.findings[0].message
