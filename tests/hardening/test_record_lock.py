"""One cassette, one recorder: a second ``record`` of the same cassette refuses (exit 2) and says who holds it;
a lock left by a killed recorder never blocks the next one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import httpx
import pytest
from dev.harness import ProxyProcess
from slow_upstream import SlowUpstream

from graphtape.cassette.format import load_cassette

MESSAGES = "https://graph.microsoft.com/v1.0/me/messages"


@pytest.fixture(scope="module")
def upstream(tmp_path_factory):
    with SlowUpstream(tmp_path_factory.mktemp("lock-upstream")) as u:
        yield u


def record_args(cassette, upstream, *extra: str) -> list[str]:
    return ["record", str(cassette), "--upstream", upstream.url, "--upstream-ca", str(upstream.cert), *extra]


def second_recorder(cassette, confdir, upstream, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "graphtape.cli", *record_args(cassette, upstream, *extra),
                           "--port", "0", "--confdir", str(confdir)], capture_output=True, text=True, timeout=20)


def subjects(cassette) -> list[str]:
    return [json.loads(i.request.body)["subject"] for i in load_cassette(cassette).interactions]


@pytest.mark.parametrize("second", [[], ["--append"], ["--overwrite"]], ids=["new", "append", "overwrite"])
def test_a_second_recorder_of_the_same_cassette_refuses_and_names_the_holder(tmp_path, confdir, upstream, second):
    cassette = tmp_path / "c.yaml"
    first = ProxyProcess(record_args(cassette, upstream), confdir).start()
    assert first.proc is not None
    with httpx.Client(proxy=first.url, verify=str(first.ca), timeout=20) as c:
        assert c.post(MESSAGES, json={"subject": "one"}).status_code == 201
        done = second_recorder(cassette, confdir, upstream, *second)
        assert done.returncode == 2, done
        assert "is being recorded by another graphtape" in done.stderr
        assert f"pid {first.proc.pid}" in done.stderr and f"graphtape record {cassette}" in done.stderr
        assert "since 20" in done.stderr  # when it started, as a UTC timestamp
        assert "graphtape: record on" not in done.stdout  # it never started listening
        assert c.post(MESSAGES, json={"subject": "two"}).status_code == 201
    assert first.stop() == 0, first.output
    assert subjects(cassette) == ["one", "two"]  # the first recorder's calls, none lost or clobbered


def test_two_recorders_of_one_new_name_started_together_leave_one_running(tmp_path, confdir, upstream):
    cassette = tmp_path / "new.yaml"
    cmd = [sys.executable, "-m", "graphtape.cli", *record_args(cassette, upstream, "--append"), "--port", "0",
           "--confdir", str(confdir)]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    try:
        exited = []
        for p in procs:
            try:
                p.wait(15)
                exited.append(p)
            except subprocess.TimeoutExpired:
                pass  # this one is recording
        assert [p.returncode for p in exited] == [2], [p.returncode for p in procs]
        assert "is being recorded by another graphtape" in exited[0].communicate()[1]
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
                p.communicate(timeout=30)


def test_a_lock_left_by_a_killed_recorder_does_not_block_the_next(tmp_path, confdir, upstream):
    cassette = tmp_path / "c.yaml"
    first = ProxyProcess(record_args(cassette, upstream), confdir).start()
    with httpx.Client(proxy=first.url, verify=str(first.ca), timeout=20) as c:
        assert c.post(MESSAGES, json={"subject": "one"}).status_code == 201
    assert first.proc is not None
    first.proc.send_signal(signal.SIGKILL)
    first.stop()
    assert (tmp_path / ".c.yaml.lock").exists()  # its pid is still in there, the kernel released the lock
    again = ProxyProcess(record_args(cassette, upstream, "--append"), confdir).start()
    with httpx.Client(proxy=again.url, verify=str(again.ca), timeout=20) as c:
        assert c.post(MESSAGES, json={"subject": "two"}).status_code == 201
    assert again.stop() == 0, again.output
    assert subjects(cassette) == ["one", "two"]
    assert not (tmp_path / ".c.yaml.lock").exists()  # a recorder that stops cleanly takes its lock file away
    assert os.listdir(tmp_path) == ["c.yaml"]
