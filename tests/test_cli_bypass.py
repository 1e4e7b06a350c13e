"""``graphtape run`` and clients that would go around its proxy: NO_PROXY cleaned, a bypass named.

The client scripts call graph.microsoft.com only once NO_PROXY no longer names it (else they exit 9 before
any call): a run that failed to clean it never reaches for the network.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from graphtape.testing.fakegraph import FakeGraph
from test_cli import GRAPHTAPE, SEND_DRAFT, _client_script

NOTICE = ("graphtape: removed graph.microsoft.com, .microsoft.com from NO_PROXY and no_proxy: they would send "
          "Microsoft Graph and sign-in calls around the proxy, to the real service")


def _run(tmp_path: Path, confdir: Path, cassette: Path, code: str, env: dict[str, str]
         ) -> subprocess.CompletedProcess[str]:
    script = _client_script(tmp_path, code)
    return subprocess.run([*GRAPHTAPE, "run", "--cassette", str(cassette), "--port", "0", "--confdir", str(confdir),
                           "--quiet", "--", sys.executable, str(script)],
                          capture_output=True, text=True, timeout=120, env=env)


def test_run_removes_graph_hosts_from_no_proxy_and_says_so(tmp_path, confdir, seed, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "localhost,graph.microsoft.com")
    monkeypatch.setenv("no_proxy", ".microsoft.com,127.0.0.2")
    code = ("if 'microsoft' in os.environ.get('NO_PROXY', '') + os.environ.get('no_proxy', ''): sys.exit(9)\n"
            "print(os.environ['NO_PROXY'], os.environ['no_proxy'])\n"
            f"r = requests.post({SEND_DRAFT!r}, timeout=10)\nsys.exit(0 if r.status_code == 202 else 1)\n")
    out = _run(tmp_path, confdir, seed("send-draft"), code, dict(os.environ))
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["localhost", "127.0.0.2"]
    assert out.stderr.count(NOTICE) == 1, out.stderr
    assert "matched 1, unmatched 0" in out.stderr


def test_run_fails_a_replay_that_no_request_reached(tmp_path, confdir, seed):
    with FakeGraph(tmp_path / "cert") as tenant:  # stands in for the network the client must not reach
        code = ("import httpx\n"
                f"with httpx.Client(trust_env=False, verify={str(tenant.cert)!r}, timeout=10) as c:\n"
                f"    c.post({tenant.url + '/beta/me/messages/AAMkAGRWAAAFSmKXAAA=/send'!r})\n")
        out = _run(tmp_path, confdir, seed("send-draft"), code, dict(os.environ))
        reached = len(tenant.state.received)
    assert reached == 1  # the client went straight to the "tenant" ...
    assert out.returncode == 3, out.stderr  # ... so the command's success does not count
    assert ("graphtape: the session fails: no request reached graphtape's proxy, though the cassette holds 1 "
            "interaction(s): the client likely went around it (NO_PROXY or no_proxy naming a Graph host; "
            "trust_env=False (httpx, requests);") in out.stderr
