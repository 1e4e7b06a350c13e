"""graphtape's output for people and for tools (issue 18 item 7): ``--help``, start-up errors, run's environment."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys

import pytest

from graphtape.cli import build_parser

GRAPHTAPE = [sys.executable, "-m", "graphtape.cli"]


def graphtape(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GRAPHTAPE, *args], capture_output=True, text=True, timeout=timeout)


def _commands() -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


@pytest.mark.parametrize("name", sorted(_commands()))
def test_every_command_help_has_an_example_described_positionals_and_exit_statuses(name):
    parser = _commands()[name]
    text = parser.format_help()
    assert re.search(rf"example:\s+graphtape {name} ", text), text
    assert re.search(r"exit status:\s+0 ", text, re.IGNORECASE), text
    for action in parser._actions:
        if not action.option_strings and action.help is not argparse.SUPPRESS:
            assert action.help, f"graphtape {name}: positional {action.dest!r} has no description"


def test_the_top_level_help_points_at_each_commands_help():
    text = build_parser().format_help()
    assert "example:\n  graphtape run --cassette" in text and "'graphtape COMMAND --help'" in text, text


def test_help_through_the_command_line_shows_the_exit_statuses():
    out = graphtape("run", "--help")
    assert out.returncode == 0, out.stderr
    assert "graphtape run --cassette" in out.stdout
    assert "3 " in out.stdout.split("exit status:")[1]


def test_the_start_failure_reason_names_the_port_and_what_to_do():
    from graphtape.proxy.startfail import start_failure

    mitm = ("HTTP(S) proxy failed to listen on 127.0.0.1:8080 with [Errno 98] error while attempting to bind on "
            "address ('127.0.0.1', 8080): address already in use\nTry specifying a different port by using "
            "`--mode regular@8082`.")
    said = start_failure([mitm], 1)
    assert said.startswith("graphtape: port 8080 on 127.0.0.1 is in use"), said
    assert "--mode" not in said
    other = start_failure(["some addon failed"], 1)
    assert other == "graphtape: the proxy could not start: some addon failed"
    assert start_failure([], 1) == "graphtape: the proxy could not start: mitmproxy exited with status 1"


def test_run_reverse_gives_the_base_url_and_no_proxy_variables(tmp_path, confdir, seed):
    names = ["HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "GRAPHTAPE_PROXY", "GRAPHTAPE_GRAPH_URL"]
    script = tmp_path / "client.py"
    script.write_text(
        "import json, os, httpx\n"
        f"env = {{n: os.environ.get(n) for n in {names!r}}}\n"
        "r = httpx.post(env['GRAPHTAPE_GRAPH_URL'] + '/beta/me/messages/AAMkAGRWAAAFSmKXAAA=/send', trust_env=False)\n"
        "print(json.dumps({**env, 'status': r.status_code}))\n")
    clean = {k: v for k, v in os.environ.items() if k.lower() not in ("https_proxy", "http_proxy")}
    out = subprocess.run([*GRAPHTAPE, "run", "--reverse", "--cassette", str(seed("send-draft")), "--confdir",
                          str(confdir), "--quiet", "--", sys.executable, str(script)],
                         capture_output=True, text=True, timeout=120, env=clean)
    assert out.returncode == 0, out.stderr
    env = json.loads(out.stdout.strip().splitlines()[-1])
    assert env["GRAPHTAPE_GRAPH_URL"].startswith("http://127.0.0.1:"), env
    assert all(env[n] is None for n in names[:5]), env  # a reverse proxy is not a forward proxy
    assert env["status"] == 202, env


def test_replay_says_the_body_differs_when_a_recorded_url_comes_with_a_new_body(tmp_path, confdir, seed):
    import httpx
    from dev.harness import ProxyProcess

    cassette = seed("create-draft-json")
    body = {"subject": "A subject never recorded", "body": {"contentType": "Text", "content": "hi"}}
    with ProxyProcess(["replay", str(cassette)], confdir) as p, httpx.Client(proxy=p.url, verify=str(p.ca)) as c:
        first = c.post("https://graph.microsoft.com/beta/me/messages", json=body)  # served, as a deviation
        r = c.post("https://graph.microsoft.com/beta/me/messages", json=body)
    assert first.status_code == 201, first.text
    assert r.status_code == 410, r.text
    message = r.json()["error"]["message"]
    assert "not with this body" in message and "body.body.content: 'They were <b>awesome</b>!' -> 'hi'" in message
