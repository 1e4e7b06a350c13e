"""Faults as clients meet them: the official SDK's RetryHandler against a scripted 429, the seeded random rate
reproduced from the printed seed, and the same stage in record and inspect (nothing faulted is sent or recorded)."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import sdk_call
from graphtape.cassette.format import load_cassette

from .support import client, create_draft, record, report_of, send, write_faults


async def _sdk_send(graph: Any) -> float:
    """sendMail through msgraph-sdk (kiota's RetryHandler retries 429/503/504 after Retry-After); how long it took."""
    from msgraph.generated.models.email_address import EmailAddress
    from msgraph.generated.models.message import Message
    from msgraph.generated.models.recipient import Recipient
    from msgraph.generated.users.item.send_mail.send_mail_post_request_body import SendMailPostRequestBody

    msg = Message(subject="Report", to_recipients=[Recipient(email_address=EmailAddress(address="megan@contoso.com"))])
    started = time.monotonic()
    await graph.me.send_mail.post(SendMailPostRequestBody(message=msg))
    return time.monotonic() - started


def test_the_sdk_retry_handler_waits_a_scripted_429_out_and_succeeds_in_replay(tmp_path: Path, proxy,
                                                                               fake_graph) -> None:
    cassette = tmp_path / "sdk-send.yaml"
    rec = proxy("record", str(cassette), "--upstream", fake_graph.url, "--upstream-ca", str(fake_graph.cert))
    sdk_call(rec, _sdk_send)
    assert rec.stop() == 0, rec.output
    faults = write_faults(tmp_path, "scripts:\n  - {method: POST, endpoint: /me/sendMail, nth: 1, status: 429, "
                                    "retry_after: 1}\n")
    report = tmp_path / "report.json"
    rep = proxy("replay", str(cassette), "--faults", str(faults), "--report", str(report), "--fail-on",
                "unmatched,violation,retry")
    took = sdk_call(rep, _sdk_send)  # raises if the SDK ended on the 429
    assert rep.stop() == 0, rep.output
    assert took >= 1.0
    (fault,) = report_of(report)["faults"]["injected"]
    assert fault["status"] == 429 and fault["retried_after_s"] >= 1.0 and not fault["retried_too_soon"]
    assert "matched 1, unmatched 0" in rep.stderr and "retry.too-soon" not in rep.stderr


def _statuses(proxy: Any, n: int) -> list[int | str]:
    out: list[int | str] = []
    with client(proxy) as c:
        for _ in range(n):
            try:
                out.append(send(c).status_code)
            except httpx.RemoteProtocolError:
                out.append("reset")
    return out


def test_random_faults_come_back_the_same_from_the_printed_seed(tmp_path: Path, proxy, fake_graph) -> None:
    cassette = record(proxy, fake_graph, tmp_path / "send.yaml", "send")
    faults = write_faults(tmp_path, "random: {rates: {500: 0.3, 503: 0.2, reset: 0.1}}\n")  # no seed: a new one
    first = proxy("replay", str(cassette), "--allow-repeats", "--faults", str(faults))
    seen = _statuses(first, 25)
    assert first.stop() == 0, first.output
    found = re.search(r"seed (\d+) \(--faults-seed \1 draws the same\), injected (\d+)", first.stderr)
    assert found is not None, first.stderr
    assert int(found.group(2)) == sum(1 for s in seen if s != 202) > 0 and 202 in seen
    again = proxy("replay", str(cassette), "--allow-repeats", "--faults", str(faults), "--faults-seed", found[1])
    assert _statuses(again, 25) == seen
    again.stop()
    other = proxy("replay", str(cassette), "--allow-repeats", "--faults", str(faults), "--faults-seed",
                  str(int(found[1]) + 1))
    assert _statuses(other, 25) != seen
    other.stop()


def test_in_record_a_faulted_call_is_not_sent_nor_recorded_and_its_retry_is(tmp_path: Path, proxy,
                                                                          fake_graph) -> None:
    faults = write_faults(tmp_path, "scripts:\n  - {endpoint: /me/sendMail, times: 1, status: 503}\n"
                                    "  - {endpoint: /me/messages, truncated: true}\n")
    cassette = tmp_path / "rec.yaml"
    rec = proxy("record", str(cassette), "--upstream", fake_graph.url, "--upstream-ca", str(fake_graph.cert),
                "--faults", str(faults))
    with client(rec) as c:
        assert [send(c).status_code, send(c).status_code] == [503, 202]
        with pytest.raises(httpx.RemoteProtocolError):
            create_draft(c)  # sent, recorded whole, cut short on its way to the client
    assert rec.stop() == 0, rec.output
    assert [r.method for r in fake_graph.state.received] == ["POST", "POST"]  # the 503 never went upstream
    interactions = load_cassette(cassette).interactions
    assert [i.response.status for i in interactions] == [202, 201]
    assert b'"subject"' in interactions[1].response.body  # the whole answer, as Graph gave it


def test_in_inspect_the_stage_answers_the_same_way(tmp_path: Path, proxy, fake_graph) -> None:
    watch = proxy("inspect", "--upstream", fake_graph.url, "--upstream-ca", str(fake_graph.cert), "--faults",
                  "{scripts: [{endpoint: /me/sendMail, nth: 1, status: 504}]}")
    with client(watch) as c:
        first = send(c)
        assert first.status_code == 504 and first.json()["error"]["code"] == "timeout"
        assert send(c).status_code == 202
    watch.stop()
    assert len(fake_graph.state.received) == 1
    assert "fault 1 (script 1): #1 POST" in watch.stderr and "504; retried after" in watch.stderr


def test_the_sdk_retry_handler_waits_a_scripted_429_out_and_succeeds_in_simulate(tmp_path: Path, proxy) -> None:
    faults = write_faults(tmp_path, "scripts:\n  - {method: POST, endpoint: /me/sendMail, nth: 1, status: 429, "
                                    "retry_after: 1}\n")
    report = tmp_path / "report.json"
    sim = proxy("simulate", "--faults", str(faults), "--report", str(report), "--fail-on", "unmatched,retry")
    took = sdk_call(sim, _sdk_send)  # raises if the SDK ended on the 429
    assert sim.stop() == 0, sim.output
    assert took >= 1.0
    doc = report_of(report)
    (fault,) = doc["faults"]["injected"]
    assert fault["status"] == 429 and fault["retried_after_s"] >= 1.0 and not fault["retried_too_soon"]
    assert [r["outcome"] for r in doc["requests"]] == ["faulted", "simulated"]
    assert "retry.too-soon" not in sim.stderr


def test_an_httpx_loop_retrying_at_once_gets_the_finding_in_simulate(tmp_path: Path, proxy) -> None:
    faults = write_faults(tmp_path, "scripts:\n  - {endpoint: /me/sendMail, nth: 1, status: 429, retry_after: 2}\n")
    sim = proxy("simulate", "--faults", str(faults), "--fail-on", "unmatched,retry")
    assert _statuses(sim, 2) == [429, 202]
    assert sim.stop() == 1, sim.output  # --fail-on retry
    assert "warning: retry.too-soon" in sim.stderr and "(before Retry-After: too soon)" in sim.stderr
