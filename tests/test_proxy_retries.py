"""Throttling in a recording: a 429 with Retry-After and its retry, recorded and replayed in order, through the
real proxy; a client that retries sooner than Retry-After asked gets a retry.too-soon warning."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx

from conftest import sdk_call
from graphtape.cassette.format import load_cassette

SENDMAIL = {"message": {"subject": "Report", "toRecipients": [{"emailAddress": {"address": "megan@contoso.com"}}]}}
URL = "https://graph.microsoft.com/v1.0/me/sendMail"


async def _send(client: Any) -> float:
    """sendMail through the SDK (its RetryHandler retries a 429 after Retry-After); how long it took."""
    from msgraph.generated.models.email_address import EmailAddress
    from msgraph.generated.models.message import Message
    from msgraph.generated.models.recipient import Recipient
    from msgraph.generated.users.item.send_mail.send_mail_post_request_body import SendMailPostRequestBody

    msg = Message(subject="Report", to_recipients=[Recipient(email_address=EmailAddress(address="megan@contoso.com"))])
    started = time.monotonic()
    await client.me.send_mail.post(SendMailPostRequestBody(message=msg))
    return time.monotonic() - started


def test_the_sdk_retry_handler_gets_the_recorded_429_then_the_202(tmp_path: Path, proxy, fake_graph) -> None:
    cassette = tmp_path / "throttled.yaml"
    fake_graph.state.throttle.next(1, retry_after_s=1)
    rec = proxy("record", str(cassette), "--upstream", fake_graph.url, "--upstream-ca", str(fake_graph.cert))
    took = sdk_call(rec, _send)
    assert rec.stop() == 0, rec.output
    fake_graph.stop()
    assert took >= 1.0 and fake_graph.state.throttle.answered == 1
    loaded = load_cassette(cassette).interactions
    assert [i.response.status for i in loaded] == [429, 202]
    assert ("Retry-After", "1") in loaded[0].response.headers
    assert "retry.too-soon" not in rec.stderr

    rep = proxy("replay", str(cassette))
    took = sdk_call(rep, _send)  # raises if the SDK saw the 429 (or anything but the 202) last
    assert rep.stop() == 0, rep.output
    assert took >= 1.0  # the SDK waited the replayed Retry-After
    assert "matched 2, unmatched 0" in rep.stderr and "unused interactions 0" in rep.stderr
    assert "warnings 0" in rep.stderr and "retry.too-soon" not in rep.stderr


def _post_twice(proxy: Any, wait_s: float = 0.0) -> list[int]:
    """A client of its own retry logic: it retries a 429 after ``wait_s``, whatever Retry-After says."""
    with httpx.Client(proxy=proxy.url, verify=str(proxy.ca), timeout=20) as c:
        first = c.post(URL, content=json.dumps(SENDMAIL), headers={"Content-Type": "application/json"})
        time.sleep(wait_s)
        second = c.post(URL, content=json.dumps(SENDMAIL), headers={"Content-Type": "application/json"})
    return [first.status_code, second.status_code]


def test_a_retry_sooner_than_retry_after_is_flagged_in_record_inspect_and_replay(tmp_path: Path, proxy,
                                                                                  fake_graph) -> None:
    cassette = tmp_path / "too-soon.yaml"
    fake_graph.state.throttle.next(1, retry_after_s=2)
    rec = proxy("record", str(cassette), "--upstream", fake_graph.url, "--upstream-ca", str(fake_graph.cert))
    assert _post_twice(rec) == [429, 202]
    assert rec.stop() == 0, rec.output
    assert "warning: retry.too-soon" in rec.stderr
    assert "whose Retry-After asked for 2 s" in rec.stderr and "warnings 1" in rec.stderr

    fake_graph.state.throttle.next(1, retry_after_s=2)
    watch = proxy("inspect", "--upstream", fake_graph.url, "--upstream-ca", str(fake_graph.cert))
    assert _post_twice(watch) == [429, 202]
    watch.stop()
    assert "warning: retry.too-soon" in watch.stderr and "whose Retry-After asked for 2 s" in watch.stderr
    fake_graph.stop()

    rep = proxy("replay", str(cassette))
    assert _post_twice(rep) == [429, 202]
    assert rep.stop() == 0, rep.output  # a warning: the session does not fail on it
    assert "warning: retry.too-soon" in rep.stderr and "whose Retry-After asked for 2 s" in rep.stderr
    assert "matched 2, unmatched 0" in rep.stderr

    patient = proxy("replay", str(cassette))
    assert _post_twice(patient, wait_s=2.0) == [429, 202]
    patient.stop()
    assert "retry.too-soon" not in patient.stderr and "warnings 0" in patient.stderr
