"""Each fault kind through the real proxy (replay of a cassette recorded from the stand-in), seen by httpx."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from .support import client, create_draft, record, report_of, send, write_faults


@pytest.fixture
def sent_twice(tmp_path: Path, proxy, fake_graph) -> Path:
    return record(proxy, fake_graph, tmp_path / "send.yaml", "send", "send")


def test_a_scripted_429_answers_with_graphs_body_and_the_retry_gets_the_recorded_answer(
        tmp_path: Path, proxy, sent_twice: Path) -> None:
    faults = write_faults(tmp_path, "scripts:\n  - {method: POST, endpoint: /me/sendMail, nth: 2, status: 429,"
                                    " retry_after: 1}\n")
    report = tmp_path / "report.json"
    rep = proxy("replay", str(sent_twice), "--faults", str(faults), "--report", str(report))
    with client(rep) as c:
        first, second = send(c), send(c)
        time.sleep(1.1)
        third = send(c)
    assert rep.stop() == 0, rep.output
    assert [first.status_code, second.status_code, third.status_code] == [202, 429, 202]
    assert second.headers["retry-after"] == "1" and second.headers["x-graphtape"] == "fault"
    error = second.json()["error"]
    assert error["code"] == "TooManyRequests"
    assert set(error["innerError"]) == {"date", "request-id", "client-request-id"}
    doc = report_of(report)
    assert doc["summary"]["faults_injected"] == 1
    (fault,) = doc["faults"]["injected"]
    assert (fault["exchange"], fault["status"], fault["source"]) == (2, 429, "script 1")
    assert fault["reaction"].startswith("retried after 1.") and not fault["retried_too_soon"]
    assert "matched 2, unmatched 0" in rep.stderr and "retry.too-soon" not in rep.stderr


def test_a_client_retrying_at_once_gets_the_finding_and_fail_on_retry_fails_the_session(
        tmp_path: Path, proxy, sent_twice: Path) -> None:
    faults = write_faults(tmp_path, "scripts:\n  - {endpoint: /users/*/sendMail, times: 1, status: 503,"
                                    " retry_after: 2}\n")
    rep = proxy("replay", str(sent_twice), "--faults", str(faults), "--fail-on", "unmatched,retry")
    with client(rep) as c:
        statuses = [send(c).status_code for _ in range(3)]  # /me matches the /users/* rule: one mailbox form
    assert statuses == [503, 202, 202]
    assert rep.stop() == 1, rep.output  # the session fails
    assert "warning: retry.too-soon" in rep.stderr and "whose Retry-After asked for 2 s" in rep.stderr
    assert "retry(ies) before Retry-After asked" in rep.stderr
    assert "(before Retry-After: too soon)" in rep.stderr


def test_a_reset_closes_the_connection_with_no_answer(tmp_path: Path, proxy, sent_twice: Path) -> None:
    faults = write_faults(tmp_path, "scripts:\n  - {endpoint: /me/sendMail, nth: 1, reset: true}\n")
    rep = proxy("replay", str(sent_twice), "--faults", str(faults))
    with client(rep) as c:
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            send(c)
        assert send(c).status_code == 202  # the retry, on a new connection
    assert rep.stop() == 0, rep.output
    assert "/me/sendMail: connection reset; retried after" in rep.stderr


def test_an_empty_answer_keeps_the_status_and_drops_the_body(tmp_path: Path, proxy, fake_graph) -> None:
    cassette = record(proxy, fake_graph, tmp_path / "draft.yaml", "draft")
    faults = write_faults(tmp_path, "scripts:\n  - {endpoint: /me/messages, empty: true}\n")
    rep = proxy("replay", str(cassette), "--faults", str(faults))
    with client(rep) as c:
        resp = create_draft(c)
    assert rep.stop() == 0, rep.output
    assert resp.status_code == 201 and resp.content == b"" and resp.headers["content-length"] == "0"
    assert "/me/messages: empty answer; gave up: no retry" in rep.stderr


def test_a_truncated_answer_is_cut_and_the_connection_closed(tmp_path: Path, proxy, fake_graph) -> None:
    cassette = record(proxy, fake_graph, tmp_path / "draft.yaml", "draft")
    faults = write_faults(tmp_path, "scripts:\n  - {endpoint: /me/messages, truncated: 0.25}\n")
    rep = proxy("replay", str(cassette), "--faults", str(faults))
    with client(rep) as c, pytest.raises(httpx.RemoteProtocolError, match="without sending complete message body"):
        create_draft(c)
    assert rep.stop() == 0, rep.output
    assert "/me/messages: answer truncated at 25%; gave up" in rep.stderr


def test_latency_delays_one_request_without_holding_up_the_others(tmp_path: Path, proxy, fake_graph) -> None:
    cassette = record(proxy, fake_graph, tmp_path / "both.yaml", "draft", "send")
    faults = write_faults(tmp_path, "scripts:\n  - {endpoint: /me/messages, latency: 1.5}\n")
    rep = proxy("replay", str(cassette), "--faults", str(faults))

    done: dict[str, float] = {}
    started = time.monotonic()

    def slow() -> None:
        with client(rep) as c:
            assert create_draft(c).status_code == 201
        done["slow"] = time.monotonic() - started

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.2)
    with client(rep) as c:
        assert send(c).status_code == 202
    done["fast"] = time.monotonic() - started
    t.join(10)
    assert rep.stop() == 0, rep.output
    assert done["slow"] >= 1.5 and done["fast"] < 1.2, done
    assert "(script 1): #2 POST https://graph.microsoft.com/v1.0/me/messages: latency 1.5 s; waited" in rep.stderr


def test_the_limits_admit_first_and_a_slot_is_free_again_once_answered(tmp_path: Path, proxy,
                                                                       sent_twice: Path) -> None:
    faults = write_faults(tmp_path, "limits: {concurrency: 1}\n"
                                    "scripts:\n  - {endpoint: /me/sendMail, nth: 1, latency: 1.0}\n")
    rep = proxy("replay", str(sent_twice), "--faults", str(faults), "--allow-repeats")
    got: list[int] = []
    slow = threading.Thread(target=lambda: got.append(send(client(rep)).status_code))
    slow.start()
    time.sleep(0.4)  # the first holds the one slot through its latency
    with client(rep) as c:
        throttled = send(c)
        slow.join(10)
        after = send(c)  # answered: its slot is free
    assert rep.stop() == 0, rep.output
    assert (throttled.status_code, got, after.status_code) == (429, [202], 202)
    assert throttled.json()["error"]["code"] == "ApplicationThrottled"
    assert "429 Application is over its MailboxConcurrency limit. Retry-After 1" in rep.stderr
    assert "(limits)" in rep.stderr and "(script 1)" in rep.stderr


def test_the_time_scale_shortens_a_scripted_retry_after(tmp_path: Path, proxy, sent_twice: Path) -> None:
    faults = write_faults(tmp_path, "scripts:\n  - {endpoint: /me/sendMail, nth: 1, status: 429, retry_after: 8}\n")
    rep = proxy("replay", str(sent_twice), "--faults", str(faults), "--faults-time-scale", "0.25")
    with client(rep) as c:
        first = send(c)
        time.sleep(1.0)
        assert send(c).status_code == 202
    assert rep.stop() == 0, rep.output
    assert first.status_code == 429 and first.headers["retry-after"] == "2"
    assert "warning: retry.too-soon" in rep.stderr and "asked for 2 s" in rep.stderr
