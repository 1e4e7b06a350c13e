"""Stopping a recorder (Ctrl-C, SIGTERM) while clients are mid-call: every call a client saw answered is in the
cassette; every call that is not is named in the session's failure, and the exit status says so."""

from __future__ import annotations

import json
import random
import signal
import threading
import time
from dataclasses import dataclass, field

import httpx
import pytest
from dev.harness import ProxyProcess
from slow_upstream import SlowUpstream

from graphtape.cassette.format import load_cassette

FOLDER = "https://graph.microsoft.com/v1.0/me/mailFolders/{tag}/messages"


@pytest.fixture(scope="module")
def shared_upstream(tmp_path_factory):
    with SlowUpstream(tmp_path_factory.mktemp("slow-upstream")) as u:
        yield u


@pytest.fixture
def upstream(shared_upstream):
    shared_upstream.arrived.clear()  # what this test's calls brought, only
    return shared_upstream


def recorder(cassette, confdir, upstream, **env: str) -> ProxyProcess:
    return ProxyProcess(["record", str(cassette), "--quiet", "--upstream", upstream.url,
                         "--upstream-ca", str(upstream.cert)], confdir, extra_env=env).start()


def post(c: httpx.Client, tag: str, delay: str) -> httpx.Response:
    return c.post(FOLDER.format(tag=tag), json={"subject": tag}, headers={"X-Delay-Ms": delay})


def held_tags(cassette) -> list[str]:
    return [json.loads(i.request.body)["subject"] for i in load_cassette(cassette).interactions]


def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.time() + timeout
    while not predicate():
        assert time.time() < deadline, "timed out"
        time.sleep(0.01)


def in_background(fn, *args):
    out: dict[str, object] = {}

    def run() -> None:
        try:
            out["result"] = fn(*args)
        except httpx.HTTPError as e:
            out["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, out


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_call_in_flight_when_stopping_is_answered_and_recorded(tmp_path, confdir, upstream, sig):
    cassette = tmp_path / "c.yaml"
    p = recorder(cassette, confdir, upstream)
    with httpx.Client(proxy=p.url, verify=str(p.ca), timeout=20) as c:
        assert post(c, "before", "0").status_code == 201
        t, out = in_background(post, c, "inflight", "1500")
        wait_for(lambda: any("/inflight/" in a for a in upstream.arrived))
        assert p.stop(sig) == 0, p.output
        t.join(10)
    assert isinstance(out.get("result"), httpx.Response), out
    assert out["result"].status_code == 201
    assert held_tags(cassette) == ["before", "inflight"]
    assert "recorded 2, not recorded 0" in p.output


def test_a_call_unanswered_when_the_wait_runs_out_fails_the_session_and_is_named(tmp_path, confdir, upstream):
    cassette = tmp_path / "c.yaml"
    p = recorder(cassette, confdir, upstream, GRAPHTAPE_STOP_WAIT_SECONDS="1")
    with httpx.Client(proxy=p.url, verify=str(p.ca), timeout=20) as c:
        assert post(c, "answered", "0").status_code == 201
        t, out = in_background(post, c, "stuck", "never")
        wait_for(lambda: any("/stuck/" in a for a in upstream.arrived))
        start = time.time()
        assert p.stop() == 1, p.output
        assert time.time() - start < 8  # the wait is bounded
        t.join(10)
    result = out.get("result")
    assert result is None or result.status_code >= 500  # never a 2xx
    assert held_tags(cassette) == ["answered"]
    assert "not recorded 1" in p.output
    assert "/me/mailFolders/stuck/messages" in p.output and "still waiting for its answer" in p.output


def test_a_new_call_while_stopping_is_refused_and_never_sent(tmp_path, confdir, upstream):
    cassette = tmp_path / "c.yaml"
    p = recorder(cassette, confdir, upstream, GRAPHTAPE_STOP_WAIT_SECONDS="3")
    with httpx.Client(proxy=p.url, verify=str(p.ca), timeout=20) as slow, \
            httpx.Client(proxy=p.url, verify=str(p.ca), timeout=20) as late:
        assert post(late, "warm", "0").status_code == 201  # its connection is open before the stop
        t, out = in_background(post, slow, "slow", "2000")
        wait_for(lambda: any("/slow/" in a for a in upstream.arrived))
        assert p.proc is not None
        p.proc.send_signal(signal.SIGINT)
        wait_for(lambda: "stopping" in p.output)
        r = post(late, "late", "0")
        assert r.status_code == 503 and r.json()["error"]["code"] == "graphtape.ShuttingDown", r.text
        p.proc.wait(20)  # no second signal: that one would stop the wait (tested below)
        assert p.stop() == 1, p.output
        t.join(10)
    assert "result" in out and out["result"].status_code == 201, (out, p.output)
    assert not any("/late/" in a for a in upstream.arrived)
    assert held_tags(cassette) == ["warm", "slow"]
    assert "/me/mailFolders/late/messages" in p.output and "not recorded 1" in p.output


def test_a_second_signal_stops_waiting_and_names_what_was_in_flight(tmp_path, confdir, upstream):
    cassette = tmp_path / "c.yaml"
    p = recorder(cassette, confdir, upstream, GRAPHTAPE_STOP_WAIT_SECONDS="30")
    with httpx.Client(proxy=p.url, verify=str(p.ca), timeout=20) as c:
        t, out = in_background(post, c, "stuck", "never")
        wait_for(lambda: any("/stuck/" in a for a in upstream.arrived))
        assert p.proc is not None
        p.proc.send_signal(signal.SIGINT)
        wait_for(lambda: "Ctrl-C again to stop now" in p.output)
        start = time.time()
        assert p.stop(signal.SIGINT) == 1, p.output
        assert time.time() - start < 5  # not the 30 s wait
        t.join(10)
    assert "result" not in out or out["result"].status_code >= 500
    assert held_tags(cassette) == []
    assert "/me/mailFolders/stuck/messages: still waiting for its answer" in p.output


# --------------------------------------------------------------------------- signals under concurrency

CLIENTS, ROUNDS = 8, 10


@dataclass
class Calls:
    answered: list[str] = field(default_factory=list)  # 2xx
    refused: list[str] = field(default_factory=list)  # a graphtape error answer
    lost: list[str] = field(default_factory=list)  # no answer (the proxy went away)
    other: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _client(p: ProxyProcess, name: str, rng: random.Random, calls: Calls, stop: threading.Event) -> None:
    with httpx.Client(proxy=p.url, verify=str(p.ca), timeout=15) as c:
        for i in range(400):
            if stop.is_set():
                return
            tag = f"{name}-{i}"
            try:
                r = post(c, tag, str(rng.choice([0, 0, 5, 20, 80, 250])))
            except httpx.HTTPError:
                with calls.lock:
                    calls.lost.append(tag)
                return
            with calls.lock:
                if 200 <= r.status_code < 300:
                    calls.answered.append(tag)
                    continue
                if r.status_code >= 500 and r.json().get("error", {}).get("code", "").startswith("graphtape."):
                    calls.refused.append(tag)
                else:
                    calls.other.append(f"{tag}: {r.status_code} {r.text[:200]}")
            return  # as a client would: no more calls after an error


def _one_round(tmp_path, confdir, upstream, rng: random.Random, round_: int) -> tuple[int, int]:
    cassette = tmp_path / f"sig-{round_}.yaml"
    p = recorder(cassette, confdir, upstream, GRAPHTAPE_STOP_WAIT_SECONDS="5")
    calls, stop = Calls(), threading.Event()
    threads = [threading.Thread(target=_client, args=(p, f"r{round_}c{n}", random.Random(rng.random()), calls, stop),
                                daemon=True) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    wait_for(lambda: len(calls.answered) >= CLIENTS)
    time.sleep(rng.uniform(0.0, 0.8))
    sig = rng.choice([signal.SIGINT, signal.SIGTERM])
    start = time.time()
    status = p.stop(sig)
    assert time.time() - start < 15, f"round {round_}: stopping took {time.time() - start:.1f} s"
    stop.set()
    for t in threads:
        t.join(20)
    held = held_tags(cassette)  # it loads
    where = f"round {round_} ({sig.name}, exit {status})"
    assert len(held) == len(set(held)), where
    assert not calls.other, (where, calls.other)
    missing = [t for t in calls.answered if t not in held]
    assert not missing, f"{where}: answered but not in the cassette: {missing}\n{p.output}"
    forwarded = {a.split("/")[-2] for a in upstream.arrived}
    unrecorded = [t for t in calls.refused + calls.lost if t not in held and (t in forwarded or t in calls.refused)]
    for tag in unrecorded:
        assert f"/me/mailFolders/{tag}/messages" in p.output, f"{where}: {tag} is not named\n{p.output}"
    if unrecorded:
        assert status == 1 and "the session fails" in p.output, f"{where}: {unrecorded}\n{p.output}"
    else:
        assert status == 0, f"{where}\n{p.output}"
    return len(held), len(unrecorded)


@pytest.mark.slow
def test_sigint_and_sigterm_at_random_moments_with_8_clients_lose_no_answered_call(tmp_path, confdir, upstream):
    rng = random.Random(11_2026)
    totals = [_one_round(tmp_path, confdir, upstream, rng, r) for r in range(ROUNDS)]
    assert sum(held for held, _ in totals) >= ROUNDS * CLIENTS  # the clients did record
