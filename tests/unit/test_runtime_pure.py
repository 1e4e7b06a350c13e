"""The pure parts of the proxy runtime: session snapshots and the start line (the readiness contract)."""

from __future__ import annotations

from pathlib import Path

import pytest

from graphtape.model import Finding, Mode, Outcome
from graphtape.proxy.runtime import snapshot_of
from graphtape.proxy.startline import format_start_line, parse_start_line
from graphtape.session.exchanges import Session


def test_a_snapshot_keeps_what_the_session_was_when_it_was_taken():
    live = Session(mode=Mode.REPLAY, cassette="c.yaml", unused=[1, 2])
    ex = live.start("POST", "https://graph.microsoft.com/v1.0/me/sendMail")
    ex.outcome, ex.status = Outcome.MATCHED, 202
    snap = snapshot_of(live)

    ex.outcome, ex.status = Outcome.EXHAUSTED, 410  # the proxy's loop goes on changing the live session
    ex.findings.append(Finding("json.malformed", "error", "", "not JSON"))
    live.start("GET", "https://graph.microsoft.com/v1.0/me")
    live.unused.remove(1)
    live.problems.append("something failed")

    assert [(e.number, e.outcome, e.status, e.findings) for e in snap.exchanges] == [(1, Outcome.MATCHED, 202, [])]
    assert snap.unused == [1, 2] and snap.problems == [] and snap.cassette == "c.yaml" and snap.mode == Mode.REPLAY
    assert snap.summary_lines()[0] == "graphtape: replay session (c.yaml): 1 request"


@pytest.mark.parametrize("host, url", [("127.0.0.1", "http://127.0.0.1:8080"), ("::1", "http://[::1]:8080"),
                                       ("localhost", "http://localhost:8080")])
def test_the_start_line_reads_back_what_was_printed(host, url):
    line = format_start_line(Mode.RECORD, host, 8080, Path("/home/me/.mitmproxy/mitmproxy-ca-cert.pem"))
    assert line == f"graphtape: record on {url}, CA certificate: /home/me/.mitmproxy/mitmproxy-ca-cert.pem"
    start = parse_start_line(line + "\n")
    assert start is not None
    assert (start.mode, start.url, start.host, start.port) == ("record", url, host, 8080)
    assert start.ca == Path("/home/me/.mitmproxy/mitmproxy-ca-cert.pem")


@pytest.mark.parametrize("line", ["graphtape: replay session (c.yaml): 1 request",
                                  "graphtape: warning: listening on 0.0.0.0, reachable from other machines", ""])
def test_other_lines_are_not_the_start_line(line):
    assert parse_start_line(line) is None
