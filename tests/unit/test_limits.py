"""Outlook's limits as a model (faults/limits.py): pure, with a clock the test turns."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphtape.faults.limits import Limiter, LimitsConfig, parse_limits, scaled
from graphtape.faults.who import DEFAULT_APP, caller_of
from graphtape.model import HttpRequest, HttpResponse, header
from graphtape.session.retries import RetryWatch
from graphtape.signin.tokens import jwt

GRAPH = "https://graph.microsoft.com/v1.0"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def bearer(**claims: Any) -> tuple[str, str]:
    return ("Authorization", "Bearer " + jwt(claims))  # a JWT-shaped token made at runtime


def get(path: str, *, app: str = "app-1", oid: str = "user-1", **more: Any) -> HttpRequest:
    return HttpRequest("GET", f"{GRAPH}{path}", [bearer(appid=app, oid=oid, **more)])


def post(path: str, size: int, *, app: str = "app-1") -> HttpRequest:
    return HttpRequest("POST", f"{GRAPH}{path}", [bearer(appid=app, oid="user-1")], b"x" * size)


def error_of(resp: HttpResponse) -> dict[str, Any]:
    error = json.loads(resp.body)["error"]
    assert isinstance(error, dict)
    return error


# ---------------------------------------------------------------------- whose call it is

def test_the_mailbox_of_me_is_the_tokens_user_and_users_are_case_insensitive() -> None:
    assert caller_of(get("/me/messages", oid="ABC")).mailbox == "abc"
    assert caller_of(get("/users/Megan@Contoso.com/messages")).mailbox == "megan@contoso.com"
    assert caller_of(get("/users('Megan@Contoso.com')/messages")).mailbox == "megan@contoso.com"
    assert caller_of(HttpRequest("GET", f"{GRAPH}/me/messages")).mailbox == "me"  # no token
    assert caller_of(get("/subscriptions")).mailbox == ""  # no mailbox: not Outlook's limits
    assert caller_of(get("/me", app="APP-X")).app == "app-x"
    assert caller_of(HttpRequest("GET", f"{GRAPH}/me", [bearer(azp="app-v2")])).app == "app-v2"
    assert caller_of(HttpRequest("GET", f"{GRAPH}/me", [("Authorization", "Bearer opaque")])).app == DEFAULT_APP


def test_an_upload_url_names_its_mailbox_as_users_oid_at_tenant() -> None:
    url = "https://outlook.office.com/api/v2.0/Users('USER-1@tenant')/Messages('m')/AttachmentSessions('s')"
    caller = caller_of(HttpRequest("PUT", url + "?authtoken=" + jwt({"appid": "app-1"}), [], b"x"))
    assert (caller.app, caller.mailbox) == ("app-1", "user-1")


def test_a_upn_and_the_oid_of_the_same_token_count_as_one_mailbox() -> None:
    lim = Limiter(LimitsConfig(requests=1), Clock())
    assert lim.admit(get("/me", oid="user-1", upn="megan@contoso.com")) is None
    resp = lim.admit(get("/users/MEGAN@contoso.com/messages"))
    assert resp is not None and error_of(resp)["message"] == "Application is over its Request limit."


# ---------------------------------------------------------------------- the three limits

def test_the_fifth_concurrent_request_gets_graphs_mailbox_concurrency_429() -> None:
    lim = Limiter(LimitsConfig(), Clock())
    held = [get(f"/me/messages/{i}") for i in range(4)]
    assert all(lim.admit(r) is None for r in held)
    fifth = HttpRequest("GET", f"{GRAPH}/me/messages", [bearer(appid="app-1", oid="user-1"),
                                                         ("client-request-id", "c-1")])
    resp = lim.admit(fifth)
    assert resp is not None and resp.status == 429
    assert header(resp.headers, "retry-after") == "1"
    error = error_of(resp)
    assert (error["code"], error["message"]) == ("ApplicationThrottled",
                                                 "Application is over its MailboxConcurrency limit.")
    assert error["innerError"]["client-request-id"] == "c-1"
    assert error["innerError"]["request-id"] == header(resp.headers, "request-id")
    assert error["innerError"]["date"]
    lim.release(held[0])
    assert lim.admit(fifth) is None


def test_concurrency_is_per_app_by_default_and_per_app_and_mailbox_as_an_option() -> None:
    per_app = Limiter(LimitsConfig(concurrency=1), Clock())
    assert per_app.admit(get("/me", oid="a")) is None
    assert per_app.admit(get("/me", oid="b")) is not None  # another mailbox, the same app: over
    assert per_app.admit(get("/me", oid="b", app="app-2")) is None  # another app
    per_mailbox = Limiter(LimitsConfig(concurrency=1, concurrency_scope="mailbox"), Clock())
    assert per_mailbox.admit(get("/me", oid="a")) is None
    assert per_mailbox.admit(get("/me", oid="b")) is None


def test_the_request_window_slides_and_retry_after_says_when_it_frees() -> None:
    clock = Clock()
    lim = Limiter(LimitsConfig(requests=3, requests_window_s=600), clock)
    for _ in range(3):
        req = get("/me/messages")
        assert lim.admit(req) is None
        lim.release(req)
        clock.now += 100  # admitted at 1000, 1100, 1200; now 1300
    resp = lim.admit(get("/me/messages"))
    assert resp is not None and error_of(resp)["message"] == "Application is over its Request limit."
    assert header(resp.headers, "retry-after") == "300"  # the one of 1000 leaves the window at 1600
    clock.now += 299.5
    assert lim.admit(get("/me/messages")) is not None
    clock.now += 0.5
    assert lim.admit(get("/me/messages")) is None
    assert lim.admit(get("/me/messages", oid="someone-else")) is None  # per mailbox


def test_uploads_over_150_mb_in_5_minutes_answer_incoming_bytes() -> None:
    clock = Clock()
    lim = Limiter(scaled(LimitsConfig(), scale=0.01), clock)  # 1.5 MB
    first = post("/me/messages", 1_000_000)
    assert lim.admit(first) is None
    lim.release(first)
    clock.now += 120
    resp = lim.admit(post("/me/messages", 600_000))
    assert resp is not None and error_of(resp)["message"] == "Application is over its IncomingBytes limit."
    assert header(resp.headers, "retry-after") == "180"  # the first upload leaves the window at +300 s
    fits = post("/me/messages", 500_000)
    assert lim.admit(fits) is None  # fits what is left
    lim.release(fits)
    assert lim.admit(get("/me/messages")) is None  # a GET uploads nothing


def test_scale_multiplies_counts_and_bytes_and_time_scale_the_waits() -> None:
    cfg = scaled(LimitsConfig(), scale=0.01, time_scale=0.01)
    assert (cfg.requests, cfg.upload_bytes, cfg.concurrency) == (100, int(150 * 1024 * 1024 * 0.01), 1)
    assert (cfg.requests_window_s, cfg.upload_window_s) == pytest.approx((6.0, 3.0))
    assert scaled(LimitsConfig(), scale=0.4).concurrency == 2
    assert scaled(LimitsConfig(), scale=2).concurrency == 8
    with pytest.raises(ValueError, match="above 0"):
        scaled(LimitsConfig(), scale=0)


def test_a_time_scaled_retry_after_is_the_wait_the_compliance_check_holds_a_retry_to() -> None:
    clock = Clock()
    lim = Limiter(scaled(LimitsConfig(requests=1), time_scale=0.01), clock)  # the window: 6 s
    assert lim.admit(get("/me/messages")) is None
    resp = lim.admit(get("/me/messages"))
    assert resp is not None and header(resp.headers, "retry-after") == "6"
    watch = RetryWatch()
    watch.answered("k", resp.status, header(resp.headers, "retry-after"), at=0.0)
    assert [f.rule for f in watch.arrived("k", at=1.0)] == ["retry.too-soon"]
    watch.answered("k", resp.status, header(resp.headers, "retry-after"), at=0.0)
    assert watch.arrived("k", at=6.0) == []  # waited the shortened wait: on time
    clock.now += 6
    assert lim.admit(get("/me/messages")) is None


# ---------------------------------------------------------------------- $batch

def batch(*items: dict[str, Any], app: str = "app-1") -> HttpRequest:
    body = json.dumps({"requests": list(items)}).encode()
    return HttpRequest("POST", f"{GRAPH}/$batch", [bearer(appid=app, oid="user-1"),
                                                   ("Content-Type", "application/json")], body)


def item(ident: str, url: str = "/me/messages", **more: Any) -> dict[str, Any]:
    return {"id": ident, "method": "GET", "url": url, **more}


def test_batch_items_count_one_by_one_and_the_ones_over_answer_429_inside_the_200() -> None:
    lim = Limiter(LimitsConfig(requests=3), Clock())
    first = batch(item("1"), item("2"))
    assert lim.admit(first) is None and lim.refused_items(first) is None
    second = batch(item("a"), item("b"), item("c", dependsOn=["b"]))
    assert lim.admit(second) is None  # item a is admitted: the batch goes on without b and c
    refusal = lim.refused_items(second)
    assert refusal is not None and refusal.forward is not None
    assert [i["id"] for i in json.loads(refusal.forward)["requests"]] == ["a"]
    assert {i: (a["id"], a["status"]) for i, a in refusal.answers.items()} == {1: ("b", 429), 2: ("c", 424)}
    assert refusal.answers[1]["body"]["error"]["code"] == "ApplicationThrottled"
    assert refusal.answers[1]["headers"]["Retry-After"]
    whole = lim.admit(batch(item("x")))
    assert whole is not None and whole.status == 200  # every item refused: Graph's 200, each item its 429
    assert [(a["id"], a["status"]) for a in json.loads(whole.body)["responses"]] == [("x", 429)]


def test_a_batch_holds_at_most_4_slots_or_what_is_free_and_releases_them() -> None:
    lim = Limiter(LimitsConfig(concurrency=4), Clock())
    big = batch(*(item(str(i)) for i in range(10)))
    assert lim.admit(big) is None and lim.in_use() == 4 and lim.refused_items(big) is None
    assert lim.admit(get("/me")) is not None
    lim.release(big)
    assert lim.in_use() == 0
    single = get("/me")
    assert lim.admit(single) is None
    seq = batch(item("1"), item("2", dependsOn=["1"]))
    assert lim.admit(seq) is None and lim.in_use() == 2  # sequenced: one at a time
    lim.release(single)
    lim.release(seq)
    assert lim.in_use() == 0


# ---------------------------------------------------------------------- the faults file's section

def test_parse_limits_reads_each_key_and_names_a_wrong_one() -> None:
    cfg = parse_limits({"requests": 100, "requests_window": 60, "upload_mb": 1.5, "concurrency": 2,
                        "concurrency_scope": "mailbox"}, "faults.yaml")
    assert (cfg.requests, cfg.requests_window_s, cfg.upload_bytes, cfg.concurrency, cfg.concurrency_scope) == (
        100, 60.0, int(1.5 * 1024 * 1024), 2, "mailbox")
    assert parse_limits({}, "faults.yaml") == LimitsConfig()
    with pytest.raises(ValueError, match=r"faults.yaml: limits.request is not a limit: did you mean 'requests'"):
        parse_limits({"request": 5}, "faults.yaml")
    with pytest.raises(ValueError, match=r"faults.yaml: limits.concurrency must be a whole number"):
        parse_limits({"concurrency": 2.5}, "faults.yaml")
    with pytest.raises(ValueError, match=r"limits.requests must be a number above 0"):
        parse_limits({"requests": -1}, "faults.yaml")
    with pytest.raises(ValueError, match=r"limits.concurrency_scope must be 'app' or 'mailbox'"):
        parse_limits({"concurrency_scope": "tenant"}, "faults.yaml")


# ---------------------------------------------------------------------- properties

@settings(max_examples=150, deadline=None)
@given(limit=st.integers(1, 6), steps=st.lists(st.tuples(st.floats(0, 30), st.booleans()), max_size=60))
def test_no_window_ever_admits_more_than_its_limit(limit: int, steps: list[tuple[float, bool]]) -> None:
    clock = Clock()
    lim = Limiter(LimitsConfig(requests=limit, requests_window_s=60, concurrency=100), clock)
    admitted: list[float] = []
    for advance, _ in steps:
        clock.now += advance
        req = get("/me/messages")
        if lim.admit(req) is None:
            admitted.append(clock.now)
            lim.release(req)
        assert sum(1 for t in admitted if t > clock.now - 60) <= limit


@settings(max_examples=150, deadline=None)
@given(ops=st.lists(st.tuples(st.booleans(), st.integers(0, 7), st.integers(0, 3)), max_size=80),
       limit=st.integers(1, 5))
def test_release_always_frees_and_slots_never_exceed_the_limit(ops: list[tuple[bool, int, int]], limit: int) -> None:
    lim = Limiter(LimitsConfig(concurrency=limit), Clock())
    reqs = [get("/me/messages") if i % 2 else batch(item("1"), item("2"), item("3")) for i in range(8)]
    live: set[int] = set()
    for start, which, _ in ops:
        req = reqs[which]
        if start and which not in live:
            if lim.admit(req) is None:
                live.add(which)
                lim.refused_items(req)
        else:
            lim.release(req)  # an end, a second end, or the end of one never admitted
            live.discard(which)
        assert lim.in_use() <= limit
    for which in list(live):
        lim.release(reqs[which])
    assert lim.in_use() == 0


def test_the_scale_flags_set_their_options_and_refuse_what_is_not_a_number_above_0() -> None:
    import argparse

    from graphtape.faults.limitsconfig import parse_scale
    from graphtape.faults.scaleflags import add_scale_flags, scale_options

    parser = argparse.ArgumentParser()
    add_scale_flags(parser.add_argument_group("faults"))
    args = parser.parse_args(["--faults-scale", "0.01", "--faults-time-scale", "0.1"])
    assert scale_options(args) == {"graphtape_faults_scale": "0.01", "graphtape_faults_time_scale": "0.1"}
    assert scale_options(parser.parse_args([])) == {}
    with pytest.raises(SystemExit):
        parser.parse_args(["--faults-scale", "0"])
    assert parse_scale("0.5", "graphtape_faults_scale") == 0.5
    with pytest.raises(ValueError, match="graphtape_faults_time_scale must be a number above 0"):
        parse_scale("fast", "graphtape_faults_time_scale")
