"""Which request gets which fault: scripted counts, and seeded draws that do not depend on how calls interleave."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from hypothesis import given, settings
from hypothesis import strategies as st

from graphtape.faults.bodies import fault_response
from graphtape.faults.config import parse_faults
from graphtape.faults.record import FaultLog
from graphtape.faults.schedule import Schedule
from graphtape.model import Mode
from graphtape.session.exchanges import Session
from graphtape.session.report import junit_xml, session_report
from graphtape.session.retries import RetryWatch

BASE = "https://graph.microsoft.com/v1.0"
URLS = [f"{BASE}/me/sendMail", f"{BASE}/me/messages", f"{BASE}/users/b@contoso.com/messages/A1/send",
        f"{BASE}/me/mailFolders/inbox/messages"]
RANDOM = {"random": {"rates": {"429": 0.2, "503": 0.1, "reset": 0.1}},
          "scripts": [{"endpoint": "/me/messages", "latency": {"normal": [0.2, 0.1]}}]}


def _calls(draw_from: list[int]) -> list[tuple[str, str, str]]:
    return [("POST", URLS[i], f"POST {URLS[i]}") for i in draw_from]


def _choices(seed: int, calls: list[tuple[str, str, str]]) -> list[object]:
    schedule = Schedule(parse_faults(RANDOM, "f"), seed)
    return [schedule.choose(*call) for call in calls]


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31), picks=st.lists(st.integers(0, len(URLS) - 1), max_size=30))
def test_the_same_seed_draws_the_same_faults(seed: int, picks: list[int]) -> None:
    calls = _calls(picks)
    assert _choices(seed, calls) == _choices(seed, calls)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31), picks=st.lists(st.integers(0, len(URLS) - 1), max_size=30), data=st.data())
def test_interleaving_other_requests_does_not_change_a_requests_draws(seed: int, picks: list[int],
                                                                     data: st.DataObject) -> None:
    """Concurrent clients: each request's n-th draw is the same whatever came in between."""
    calls = _calls(picks)
    order = data.draw(st.permutations(range(len(calls))))
    # keep each request's own order (its n-th call stays its n-th), shuffle the rest
    by_key: dict[str, list[int]] = {}
    for i in range(len(calls)):
        by_key.setdefault(calls[i][2], []).append(i)
    next_of = {k: iter(v) for k, v in by_key.items()}
    shuffled = [next(next_of[calls[i][2]]) for i in order]
    straight = dict(zip(range(len(calls)), _choices(seed, calls), strict=True))
    mixed = dict(zip(shuffled, _choices(seed, [calls[i] for i in shuffled]), strict=True))
    assert straight == mixed


def test_a_different_seed_draws_differently_and_rates_come_out_near_what_was_asked() -> None:
    calls = [("GET", f"{BASE}/me/messages/{i}", f"GET {BASE}/me/messages/{i}") for i in range(2000)]
    cfg = parse_faults({"random": {"rates": {"429": 0.1, "500": 0.05}}}, "f")
    one = [Schedule(cfg, 1).choose(*c) for c in calls]
    two = [Schedule(cfg, 2).choose(*c) for c in calls]
    assert one != two
    statuses = [c.action.status for c in one if c is not None]
    assert 150 < statuses.count(429) < 250 and 60 < statuses.count(500) < 140


def test_scripts_count_their_calls_and_the_first_that_fires_answers() -> None:
    cfg = parse_faults({"scripts": [
        {"method": "POST", "endpoint": "/me/sendMail", "nth": 2, "status": 429},
        {"endpoint": "/users/*/sendMail", "status": 503, "times": 2},
        {"endpoint": "/me/messages/*/attachments/createUploadSession", "status": 503, "times": 1, "per": "request"},
    ]}, "f")
    schedule = Schedule(cfg, 0)
    send = ("POST", f"{BASE}/me/sendMail", "k")
    got = [(c.source, c.action.status) if c else None for c in (schedule.choose(*send) for _ in range(4))]
    # /me and /users/* are one endpoint: script 2 fires on call 1; call 2 is script 1's (first in the file wins,
    # script 2 counts it without firing); script 2's second firing comes on call 3
    assert got == [("script 2", 503), ("script 1", 429), ("script 2", 503), None]
    uploads = [f"{BASE}/me/messages/{m}/attachments/createUploadSession" for m in ("A", "A", "B", "B")]
    fired = [schedule.choose("POST", u, f"POST {u}") is not None for u in uploads]
    assert fired == [True, False, True, False]  # each request once


@given(seed=st.integers(0, 2**31))
def test_latency_draws_stay_in_their_bounds(seed: int) -> None:
    cfg = parse_faults({"scripts": [{"endpoint": "/me/*", "latency": {"uniform": [0.1, 0.3]}}]}, "f")
    schedule = Schedule(cfg, seed)
    for i in range(5):
        chosen = schedule.choose("GET", f"{BASE}/me/x{i}", f"k{i}")
        assert chosen is not None and 0.1 <= chosen.delay_s <= 0.3


def test_graphs_bodies_echo_the_client_request_id() -> None:
    resp = fault_response(503, retry_after="2", client_request_id="c-1")
    doc = json.loads(resp.body)["error"]
    assert resp.status == 503 and resp.reason == "Service Unavailable"
    assert doc["code"] == "serviceNotAvailable" and doc["innerError"]["client-request-id"] == "c-1"
    assert ("Retry-After", "2") in resp.headers and ("client-request-id", "c-1") in resp.headers
    custom = json.loads(fault_response(429, code="ApplicationThrottled", message="over").body)["error"]
    assert (custom["code"], custom["message"]) == ("ApplicationThrottled", "over")


def test_the_watch_tells_each_fault_how_long_the_client_waited_and_the_reports_carry_it() -> None:
    log = FaultLog("faults.yaml", 42)
    session = Session(mode=Mode.REPLAY, cassette="c.yaml", faults=log)
    watch = RetryWatch()
    for _ in range(3):
        session.start("POST", f"{BASE}/me/sendMail")
    early = log.add(source="script 1", kind="status", method="POST", url="u", description="429 Retry-After 2",
                    status=429, retry_after=2.0, exchange=1)
    watch.faulted("k", 10.0, early.retried)
    ignored = log.add(source="random", kind="reset", method="POST", url="u", description="connection reset",
                      exchange=2)
    gave_up = log.add(source="random", kind="status", method="GET", url="u", description="500", status=500,
                      exchange=3)
    assert watch.arrived("k", 10.5) == []  # no 429 was answered through the watch: the fault's own record only
    assert early.reaction(3) == "retried after 0.50 s (before Retry-After: too soon)"
    assert ignored.reaction(3).startswith("ignored") and gave_up.reaction(3).startswith("gave up")
    report = session_report(session)
    assert report["summary"]["faults_seed"] == 42 and report["summary"]["faults_injected"] == 3
    assert [f["exchange"] for f in report["faults"]["injected"]] == [1, 2, 3]
    case = ET.fromstring(junit_xml(session).split("?>", 1)[1]).find("testcase")
    assert case is not None
    props = [p.get("value", "") for p in case.iter("property") if p.get("name") == "graphtape.fault"]
    assert props == ["fault 1 (script 1): #1 POST u: 429 Retry-After 2; retried after 0.50 s (before Retry-After: "
                     "too soon)"]
    assert any("seed 42" in line for line in session.summary_lines())
