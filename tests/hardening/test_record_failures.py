"""What a recorder does when it cannot record: a bug, a read-only disk, an upstream that is down, and what a
killed recorder left behind. A call that is not in the cassette never looks answered, and is named."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from dev.harness import ProxyProcess
from slow_upstream import SlowUpstream

from graphtape.cassette.format import load_cassette

MESSAGES = "https://graph.microsoft.com/v1.0/me/messages"
FAULTS = Path(__file__).parent / "faults"


@pytest.fixture(scope="module")
def upstream(tmp_path_factory):
    with SlowUpstream(tmp_path_factory.mktemp("failures-upstream")) as u:
        yield u


def record(cassette: Path, confdir: Path, upstream_url: str, cert: Path, *extra: str,
           env: dict[str, str] | None = None) -> ProxyProcess:
    return ProxyProcess(["record", str(cassette), "--upstream", upstream_url, "--upstream-ca", str(cert), *extra],
                        confdir, extra_env=env).start()


def subjects(cassette: Path) -> list[str]:
    return [json.loads(i.request.body)["subject"] for i in load_cassette(cassette).interactions]


def test_an_unexpected_error_while_recording_is_answered_as_such_and_fails_the_session(tmp_path, confdir,
                                                                                        upstream):
    cassette = tmp_path / "c.yaml"
    env = {"GRAPHTAPE_TEST_FAULT": "recorder-add",
           "PYTHONPATH": os.pathsep.join([str(FAULTS), os.environ.get("PYTHONPATH", "")])}
    p = record(cassette, confdir, upstream.url, upstream.cert, env=env)
    with httpx.Client(proxy=p.url, verify=str(p.ca), timeout=20) as c:
        r = c.post(MESSAGES, json={"subject": "one"})
    assert r.status_code == 500, r.text  # not Graph's 201: the client must not believe it was recorded
    assert r.json()["error"]["code"] == "graphtape.InternalError"
    assert "injected fault" in r.json()["error"]["message"]
    assert p.stop() == 1, p.output
    assert "recorded 0, not recorded 1" in p.output
    assert "#1 POST /v1.0/me/messages" in p.output and "the session fails" in p.output
    assert subjects(cassette) == []


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("mode", ["--overwrite", "--append"])
def test_an_existing_cassette_is_untouched_until_a_call_is_recorded(tmp_path, confdir, upstream, mode):
    cassette = tmp_path / "c.yaml"
    first = record(cassette, confdir, upstream.url, upstream.cert)
    with httpx.Client(proxy=first.url, verify=str(first.ca), timeout=20) as c:
        assert c.post(MESSAGES, json={"subject": "kept"}).status_code == 201
    assert first.stop() == 0
    before = cassette.read_bytes(), cassette.stat().st_mtime_ns
    down = record(cassette, confdir, f"https://127.0.0.1:{_closed_port()}", upstream.cert, mode)
    with httpx.Client(proxy=down.url, verify=str(down.ca), timeout=20) as c:
        assert c.post(MESSAGES, json={"subject": "lost"}).status_code == 502  # the upstream is down
    assert down.stop() == 1  # the call the client made is not in the cassette: named, the session fails
    assert (cassette.read_bytes(), cassette.stat().st_mtime_ns) == before  # byte for byte, not even rewritten
    assert "nothing recorded" in down.output and "left as it was" in down.output
    again = record(cassette, confdir, upstream.url, upstream.cert, mode)
    with httpx.Client(proxy=again.url, verify=str(again.ca), timeout=20) as c:
        assert c.post(MESSAGES, json={"subject": "new"}).status_code == 201
    assert again.stop() == 0
    assert subjects(cassette) == (["new"] if mode == "--overwrite" else ["kept", "new"])


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def _remount(mount: Path, how: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{how}", str(mount)], check=True, capture_output=True)


def test_a_disk_turned_read_only_mid_recording_answers_507_and_names_the_call(small_disk, confdir, upstream):
    cassette = small_disk / "c.yaml"
    p = record(cassette, confdir, upstream.url, upstream.cert)
    with httpx.Client(proxy=p.url, verify=str(p.ca), timeout=20) as c:
        assert c.post(MESSAGES, json={"subject": "one"}).status_code == 201
        _remount(small_disk, "ro")
        try:
            r = c.post(MESSAGES, json={"subject": "two"})
        finally:
            _remount(small_disk, "rw")
        assert r.status_code == 507, r.text
        error = r.json()["error"]
        assert error["code"] == "graphtape.RecordFailed" and "Read-only file system" in error["message"]
        assert "innerError" in error and error["innerError"]["request-id"]  # Graph's error shape
        assert c.post(MESSAGES, json={"subject": "three"}).status_code == 201  # writable again: recording goes on
    assert p.stop() == 1, p.output
    assert subjects(cassette) == ["one", "three"]
    assert "#2 POST /v1.0/me/messages" in p.output and "Read-only file system" in p.output
    assert "not recorded 1" in p.output


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_what_a_killed_recorder_left_is_removed_by_the_next_and_nothing_else(tmp_path, confdir, upstream):
    cassette = tmp_path / "c.yaml"
    killed = record(cassette, confdir, upstream.url, upstream.cert)
    with httpx.Client(proxy=killed.url, verify=str(killed.ca), timeout=20) as c:
        assert c.post(MESSAGES, json={"subject": "one"}).status_code == 201
    assert killed.proc is not None
    killed.proc.send_signal(signal.SIGKILL)
    killed.stop()
    dead, alive = _dead_pid(), os.getpid()
    leftovers = [f".c.yaml.{dead}.tmp", f".c.yaml.{dead}.k3x_9a.tmp", f".c.yaml.{dead}.recording",
                 f"..c.yaml.{dead}.recording.{dead}.tmp"]
    kept = [f".c.yaml.{alive}.tmp",  # its process lives: maybe not ours, never removed
            f".d.yaml.{dead}.tmp", "c.yaml.bak", f".c.yaml.{dead}.tmp.keep"]
    for name in leftovers + kept:
        (tmp_path / name).write_text("partial")
    (tmp_path / f".c.yaml.{dead}.x.tmp").symlink_to(tmp_path / "c.yaml.bak")  # a symlink is not ours
    again = record(cassette, confdir, upstream.url, upstream.cert, "--append")
    assert again.stop() == 0, again.output
    left = sorted(os.listdir(tmp_path))
    assert left == sorted(["c.yaml", *kept, f".c.yaml.{dead}.x.tmp"]), left
    assert subjects(cassette) == ["one"]
