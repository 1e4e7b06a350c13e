"""Edges of the proxy, driven as users drive it: ``mitmdump -s entry.py``, ``graphtape run``, the stand-in."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from conftest import REPO
from graphtape.contract import RULES

SEND_DRAFT = "https://graph.microsoft.com/beta/me/messages/AAMkAGRWAAAFSmKXAAA=/send"
MAILFOLDERS = "https://graph.microsoft.com/v1.0/me/mailFolders"
START = re.compile(r"graphtape: replay on (http://(\[[^\]]+\]|[^:/]+):(\d+)), CA certificate")


class Mitmdump:
    """``mitmdump -s addon/graphtape/entry.py ARGS``: both output streams read line by line, the start line found."""

    def __init__(self, confdir: Path, cassette: Path, *args: str):
        mitmdump = Path(sys.executable).parent / "mitmdump"
        self.proc = subprocess.Popen(
            [str(mitmdump), "-q", "-s", str(REPO / "addon" / "graphtape" / "entry.py"), "--listen-port", "0",
             "--set", f"confdir={confdir}", "--set", "graphtape_mode=replay", "--set", f"graphtape_cassette={cassette}",
             *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.ca = confdir / "mitmproxy-ca-cert.pem"
        self.out: list[str] = []
        self.err: list[str] = []
        self._lines: queue.Queue[tuple[str, str]] = queue.Queue()
        self._readers = [threading.Thread(target=self._read, args=(name,), daemon=True) for name in ("out", "err")]
        for t in self._readers:
            t.start()
        self.url, self.host = self._wait_for_start()

    def _read(self, name: str) -> None:
        stream = self.proc.stdout if name == "out" else self.proc.stderr
        assert stream is not None
        for line in stream:
            (self.out if name == "out" else self.err).append(line.rstrip("\n"))
            self._lines.put((name, line.rstrip("\n")))

    def _wait_for_start(self) -> tuple[str, str]:
        while True:
            try:
                _, line = self._lines.get(timeout=30)
            except queue.Empty:
                self.stop()
                raise AssertionError(f"mitmdump did not start:\n{self.output}") from None
            m = START.search(line)
            if m:
                return m.group(1), m.group(2)

    @property
    def output(self) -> str:
        return "\n".join(["stdout:", *self.out, "stderr:", *self.err])

    def client(self) -> httpx.Client:
        return httpx.Client(proxy=self.url, verify=str(self.ca), timeout=10)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        for t in self._readers:
            t.join(5)
        return rc


@pytest.fixture
def mitmdump(confdir: Path, seed) -> Iterator[Callable[..., Mitmdump]]:
    started: list[Mitmdump] = []

    def start(*args: str) -> Mitmdump:
        started.append(Mitmdump(confdir, seed("send-draft"), *args))
        return started[-1]

    yield start
    for m in started:
        m.stop(signal.SIGKILL)


def _listening(port: int) -> list[str]:
    """The local addresses on which something accepts TCP connections on this port."""
    seen = []
    for family, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        with socket.socket(family) as s:
            s.settimeout(2)
            if s.connect_ex((addr, port)) == 0:
                seen.append(addr)
    return seen


def _own_address() -> str | None:
    """An address of this machine that is not loopback (None if it has none)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
        except OSError:
            return None
        address = s.getsockname()[0]
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def test_mitmdump_listens_on_loopback_unless_told_otherwise(mitmdump):
    m = mitmdump()
    assert m.host == "127.0.0.1", m.output  # was: 'http://:::PORT', every interface
    port = int(m.url.rsplit(":", 1)[1])
    assert _listening(port) == ["127.0.0.1"], m.output
    own = _own_address()
    if own is not None:
        with socket.socket() as s:
            s.settimeout(2)
            assert s.connect_ex((own, port)) != 0, f"reachable on {own}"
    assert "reachable from other machines" not in m.output
    with m.client() as c:
        assert c.post(SEND_DRAFT).status_code == 202
    assert m.stop() == 0, m.output  # a session that passes exits 0


def test_mitmdump_with_an_explicit_listen_host_warns_and_brackets_ipv6(mitmdump):
    m = mitmdump("--listen-host", "::")
    assert m.host == "[::]", m.output
    assert "graphtape: warning: listening on ::, reachable from other machines" in "\n".join(m.err), m.output
    loop6 = mitmdump("--set", "listen_host=::1")
    assert loop6.host == "[::1]", loop6.output
    assert "reachable from other machines" not in loop6.output
    with loop6.client() as c:
        assert c.post(SEND_DRAFT).status_code == 202


def test_a_failed_mitmdump_session_exits_non_zero(mitmdump):
    m = mitmdump()
    with m.client() as c:
        assert c.get(MAILFOLDERS).status_code == 404  # unmatched: the session fails
    rc = m.stop()
    assert "graphtape: the session fails: 1 unmatched request(s)" in "\n".join(m.err), m.output
    assert rc == 3, m.output


def test_graphtape_lines_go_to_stderr_under_mitmdump(mitmdump):
    m = mitmdump()
    with m.client() as c:
        c.post(SEND_DRAFT)
    m.stop()
    assert [line for line in m.out if "graphtape" in line] == [], m.output
    assert any(line.startswith("graphtape: replay on http://127.0.0.1:") for line in m.err), m.output


@pytest.mark.parametrize("quiet", [True, False])
def test_run_leaves_the_commands_stdout_to_the_command(tmp_path, confdir, seed, quiet):
    # 'graphtape run --quiet -- echo {"ok": true}' printed the banner into the command's output.
    script = tmp_path / "client.py"
    script.write_text("import json, requests\n"
                      f"r = requests.post({SEND_DRAFT!r}, timeout=10)\n"
                      "print(json.dumps({'ok': r.status_code == 202}))\n")
    args = [sys.executable, "-m", "graphtape.cli", "run", "--cassette", str(seed("send-draft")), "--port", "0",
            "--confdir", str(confdir), *(["--quiet"] if quiet else []), "--", sys.executable, str(script)]
    out = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout == '{"ok": true}\n', out.stdout
    assert "graphtape: replay on http://127.0.0.1:" in out.stderr
    assert "matched 1, unmatched 0" in out.stderr


URGENT = {"subject": "Party", "importance": "urgent", "toRecipients": [{"emailAddress": {"address": "a@contoso.com"}}]}
FINDING = "schema.enum at /importance"


def _post_urgent(p) -> int:
    with httpx.Client(proxy=p.url, verify=str(p.ca), timeout=10) as c:
        return c.post("https://graph.microsoft.com/beta/me/messages", json=URGENT).status_code


@pytest.mark.parametrize("policy", ["enforce", "report"])
def test_each_contract_error_is_logged_once_in_replay(proxy, seed, policy):
    p = proxy("replay", str(seed("create-draft-json")), "--policy", policy)
    assert _post_urgent(p) == (400 if policy == "enforce" else 201)
    p.stop()
    log = [line for line in p.stderr.splitlines() if line.startswith("[")]  # the per-request log, not the summary
    assert sum(FINDING in line for line in log) == 1, p.output


def test_each_contract_error_is_logged_once_in_record(tmp_path, proxy, fake_graph):
    p = proxy("record", str(tmp_path / "c.yaml"), "--upstream", fake_graph.url, "--upstream-ca", str(fake_graph.cert))
    assert _post_urgent(p) == 400  # the stand-in refuses what the contract refuses, as Graph does
    p.stop()
    log = [line for line in p.stderr.splitlines() if line.startswith("[")]
    assert sum(FINDING in line for line in log) == 1, p.output


def test_a_rejected_flow_names_each_error_once_in_its_mitmweb_comment():
    from mitmproxy.test import taddons, tflow

    from graphtape.model import Mode, Outcome
    from graphtape.proxy.addon import GraphTape, mark_flow
    from graphtape.proxy.flows import request_of
    from graphtape.proxy.pipeline import enforce, reject, validate
    from graphtape.proxy.state import FlowState
    from graphtape.scope import Scope
    from graphtape.session.exchanges import Session

    flow = tflow.tflow()
    flow.request.method, flow.request.url = "POST", "https://graph.microsoft.com/beta/me/messages"
    flow.request.headers["Content-Type"] = "application/json"
    flow.request.set_content(json.dumps(URGENT).encode())
    session = Session(mode=Mode.REPLAY)
    req = request_of(flow, flow.request.url)
    state = FlowState(flow.request.url, None, request=req, findings=validate(req, Scope()))
    rejection = enforce(req, state.findings, enforcing=True)
    assert rejection is not None
    with taddons.context(GraphTape()):  # reject logs as the addon's options say
        reject(flow, state, session, rejection)  # marks the flow as it answers it
    [ex] = session.exchanges
    assert ex.outcome == Outcome.REJECTED
    mark_flow(flow, ex)
    assert flow.comment.count(FINDING) == 1, flow.comment
    assert flow.marked


@pytest.mark.parametrize("mode", ["record", "inspect"])
def test_a_finding_on_a_call_whose_upstream_failed_still_counts(tmp_path, proxy, listener, mode):
    # The upstream closes every connection: mitmproxy's error hook, not response, sees the call.
    report = tmp_path / "r.json"
    args = ["record", str(tmp_path / "c.yaml")] if mode == "record" else ["inspect"]
    p = proxy(*args, "--upstream", f"http://127.0.0.1:{listener.port}", "--report", str(report))
    with httpx.Client(proxy=p.url, verify=str(p.ca), timeout=10) as c:
        r = c.post(SEND_DRAFT, content=b"null", headers={"Content-Type": "application/json"})
    assert r.status_code == 502
    p.stop()
    assert "contract errors 1," in p.stderr, p.output
    assert "graphtape: the session fails: " in p.stderr and "1 contract error(s)" in p.stderr, p.output
    doc = json.loads(report.read_text())
    assert [f["rule"] for f in doc["requests"][0]["findings"]] == ["send.no-body"], doc
    assert sum("send.no-body" in line for line in p.stderr.splitlines() if line.startswith("[")) == 1, p.output


def test_recording_a_null_body_to_send_against_the_stand_in_records_graphs_400(tmp_path, proxy, fake_graph):
    cassette = tmp_path / "c.yaml"
    p = proxy("record", str(cassette), "--upstream", fake_graph.url, "--upstream-ca", str(fake_graph.cert))
    with httpx.Client(proxy=p.url, verify=str(p.ca), timeout=10) as c:
        r = c.post(SEND_DRAFT, content=b"null", headers={"Content-Type": "application/json"})
    # was mitmproxy's 502; send takes no body, so the stand-in answers the contract's send.no-body
    assert r.status_code == 400 and r.json()["error"]["code"] == RULES["send.no-body"].code, r.text
    p.stop()
    assert "recorded 1, not recorded 0" in p.stderr and "contract errors 1," in p.stderr, p.output


HOSTILE_IGNORE = "body.**" + "a**" * 7 + "zzz"  # each '**' was an unanchored '.*': O(len(path) ** 8) to fail
LONG_KEY = "a" * 70  # the deviation path body.aaa...a


def _with_meta_ignore(path: Path, pattern: str) -> Path:
    text = path.read_text()
    assert "\nmeta:\n" in text
    path.write_text(text.replace("\nmeta:\n", f"\nmeta:\n  ignore:\n  - '{pattern}'\n", 1))
    return path


@pytest.mark.timeout(120)
def test_a_hostile_ignore_glob_in_a_cassette_does_not_freeze_replay(proxy, seed):
    # --policy report: the long key is undeclared on message (a contract error), and the test is about the diff
    p = proxy("replay", str(_with_meta_ignore(seed("create-draft-json"), HOSTILE_IGNORE)), "--allow-repeats",
              "--policy", "report")
    body = {"subject": "x" * 40, "importance": "Low", "body": {"contentType": "HTML", "content": "hi"},
            "toRecipients": [{"emailAddress": {"address": "someone.with.a.long.name@contoso.com"}}], LONG_KEY: 1}
    with httpx.Client(proxy=p.url, verify=str(p.ca), timeout=20) as c:
        for _ in range(3):  # each one diffs several paths against the pattern
            assert c.post("https://graph.microsoft.com/beta/me/messages", json=body).status_code == 201
    p.stop()
    assert "deviation body.subject" in p.stderr and f"deviation body.{LONG_KEY}: added" in p.stderr, p.output


@pytest.mark.timeout(120)
def test_a_hostile_ignore_glob_does_not_hang_graphtape_diff(tmp_path, seed):
    old = _with_meta_ignore(seed("create-draft-json"), HOSTILE_IGNORE)
    new = tmp_path / "new.yaml"
    text = old.read_text()
    assert "        subject: Did you see last night's game?\n" in text
    new.write_text(text.replace("        subject: Did you see last night's game?\n",
                                f"        subject: Did you see last night's game?\n        {LONG_KEY}: 1\n", 1))
    out = subprocess.run([sys.executable, "-m", "graphtape.cli", "diff", "--ignore", HOSTILE_IGNORE, str(old),
                          str(new)], capture_output=True, text=True, timeout=60)
    assert f"body.{LONG_KEY}" in out.stdout, out.stdout + out.stderr
