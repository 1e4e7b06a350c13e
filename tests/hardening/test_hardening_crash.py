"""Crash safety: a recording proxy killed with SIGKILL at random moments, and a disk that fills up.

After every kill the cassette on disk loads, and what it holds is a prefix of the requests the client
sent (one at a time, in order): nothing missing before the last one present, nothing half-written.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import threading
import time

import httpx
import pytest
from dev.harness import ProxyProcess
from hardening_upstream import Upstream

from graphtape.cassette.format import load_cassette

MESSAGES = "https://graph.microsoft.com/v1.0/me/messages"
ROUNDS, BATCHES = 50, 5


@pytest.fixture(scope="module")
def upstream(tmp_path_factory):
    with Upstream(tmp_path_factory.mktemp("crash-upstream")) as u:
        yield u


def _send_until_killed(p: ProxyProcess, subjects: list[str], sent: list[str]) -> None:
    try:
        with httpx.Client(proxy=p.url, verify=str(p.ca), timeout=5) as c:
            for s in subjects:
                body = {"subject": s, "body": {"contentType": "text", "content": s * 200}}
                if c.post(MESSAGES, json=body).status_code != 201:
                    return
                sent.append(s)
    except httpx.HTTPError:
        return  # the proxy died under us


@pytest.mark.slow
@pytest.mark.parametrize("batch", range(BATCHES))
def test_sigkill_at_random_moments_leaves_a_loadable_cassette_holding_a_prefix(tmp_path, confdir, upstream, batch):
    rng = random.Random(7000 + batch)
    seen_partial = 0
    for round_ in range(ROUNDS // BATCHES):
        cassette = tmp_path / f"kill-{round_}.yaml"
        p = ProxyProcess(["record", str(cassette), "--quiet", "--upstream", upstream.url,
                          "--upstream-ca", str(upstream.cert)], confdir).start()
        subjects = [f"r{round_}-{i}" for i in range(40)]
        answered: list[str] = []
        client = threading.Thread(target=_send_until_killed, args=(p, subjects, answered), daemon=True)
        client.start()
        deadline = time.time() + 10
        while not answered and client.is_alive() and time.time() < deadline:
            time.sleep(0.005)  # the kill lands while recording, not while the first TLS handshake runs
        time.sleep(rng.uniform(0.0, 0.4))
        assert p.proc is not None
        p.proc.send_signal(signal.SIGKILL)
        p.proc.wait(10)
        client.join(10)
        held = [json.loads(i.request.body)["subject"] for i in load_cassette(cassette).interactions]
        assert held == subjects[: len(held)], f"round {round_}: {held}"  # a prefix, in order, no gaps
        # every answer the client saw was written before it was sent on: the cassette holds at least those
        assert len(held) >= len(answered), (held, answered)
        seen_partial += 0 < len(held) < len(subjects)
        leftovers = [f.name for f in tmp_path.iterdir() if f.name.startswith(f".kill-{round_}.yaml.")
                     and f.name != f".kill-{round_}.yaml.lock"]  # the lock file: the kernel released its lock
        assert len(leftovers) <= 1  # at most the one temp file a kill mid-write leaves; never the cassette
        p.stop()
    assert seen_partial >= (ROUNDS // BATCHES) // 2  # the kills did land mid-recording


@pytest.fixture
def tiny_disk(tmp_path):
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_is_reported_at_once_and_the_previous_cassette_stays_whole(tiny_disk, confdir, upstream):
    cassette = tiny_disk / "c.yaml"
    p = ProxyProcess(["record", str(cassette), "--upstream", upstream.url, "--upstream-ca", str(upstream.cert)],
                     confdir).start()
    statuses: list[int] = []
    held_before_failure, refusal = 0, None
    with httpx.Client(proxy=p.url, verify=str(p.ca), timeout=20) as c:
        for i in range(40):
            r = c.post(MESSAGES, json={"subject": f"m{i}", "body": {"contentType": "text", "content": "x" * 6000}})
            statuses.append(r.status_code)
            refusal = r
            deadline = time.time() + 5
            while f"#{i + 1} " not in p.output and "cannot write" not in p.output and time.time() < deadline:
                time.sleep(0.02)
            if "cannot write" in p.output:
                break
            held_before_failure = len(load_cassette(cassette).interactions)
        assert "cannot write" in p.output, "the 64 KB disk never filled"
        assert f"cannot write {cassette}" in p.output and "No space left on device" in p.output
        # every call written down was answered; the one that was not is answered with graphtape's error, in
        # Graph's shape, never with Graph's 201: its client must not believe it is in the cassette
        assert statuses == [201] * (len(statuses) - 1) + [507], statuses
        assert refusal is not None and refusal.json()["error"]["code"] == "graphtape.RecordFailed"
        assert "No space left on device" in refusal.json()["error"]["message"]
        after = c.post(MESSAGES, json={"subject": "small"})
        assert after.status_code in (201, 507)  # and the proxy keeps serving (the disk may still be too full)
    assert p.stop() == 1  # a call that was not written fails the session
    held = [json.loads(i.request.body)["subject"] for i in load_cassette(cassette).interactions]
    assert ("small" in held) == (after.status_code == 201)
    assert f"#{len(statuses)} POST /v1.0/me/messages" in p.output  # the session names the call
    assert held[:held_before_failure] == [f"m{i}" for i in range(held_before_failure)]
    assert held_before_failure >= 3
    assert f"m{len(statuses) - 1}" not in held  # the one that did not fit is not there, not half there
    assert "the file holds what it held" in p.output
    left = sorted(f.name for f in tiny_disk.iterdir())
    # no temp file (nor lock) left on the disk; the journal stays if folding it (a whole copy) did not fit, and
    # every reader applies it (``held`` above)
    assert left in (["c.yaml"], ["c.yaml", "c.yaml.journal"]), left
    if "c.yaml.journal" in left:
        assert "the calls are safe in" in p.output and "the next load or recording of it folds in" in p.output
