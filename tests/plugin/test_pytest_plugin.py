"""The pytest plugin in real inner pytest processes: replay with the SDK, httpx and curl; verdicts; xdist."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from conftest import SEEDS, Listener

pytest_plugins = ["pytester"]
REPO = Path(__file__).resolve().parents[2]  # the inner tests import dev.scenario from here

# recipients are keyed by address (diffing.keyed): another address is one recipient removed and one added
DEVIATIONS = ["body.toRecipients[address=adelev@contoso.com]: removed "
              "{'emailAddress': {'address': 'AdeleV@contoso.com'}}",
              "body.toRecipients[address=someone-else@contoso.com]: added "
              "{'emailAddress': {'address': 'someone-else@contoso.com'}}"]

REPLAY_TESTS = '''
import asyncio, os, subprocess

import httpx
import pytest

SEND = "https://graph.microsoft.com/beta/me/messages/AAMkAGRWAAAFSmKXAAA=/send"
LISTENER = "http://127.0.0.1:{listener_port}/must-not-be-reached"


async def create_draft(to):
    from msgraph.generated.models.body_type import BodyType
    from msgraph.generated.models.email_address import EmailAddress
    from msgraph.generated.models.importance import Importance
    from msgraph.generated.models.item_body import ItemBody
    from msgraph.generated.models.message import Message
    from msgraph.generated.models.recipient import Recipient
    from dev.scenario import make_client

    client = make_client(base_url="https://graph.microsoft.com/beta")
    draft = await client.me.messages.post(Message(
        subject="Did you see last night's game?", importance=Importance.Low,
        body=ItemBody(content_type=BodyType.Html, content="They were <b>awesome</b>!"),
        to_recipients=[Recipient(email_address=EmailAddress(address=to))]))
    return draft.id


@pytest.mark.graphtape("create-draft-json.yaml")
def test_sdk_replays(graphtape):
    assert os.environ["HTTPS_PROXY"] == os.environ["https_proxy"] == graphtape.url
    for key in {proxy_vars!r}:
        assert os.environ[key] == graphtape.env[key]
    assert graphtape.env["SSL_CERT_FILE"] == ""  # the directory instead, read lazily
    folder = graphtape.env["SSL_CERT_DIR"]
    assert open(graphtape.ca).read() in [open(os.path.join(folder, n)).read() for n in os.listdir(folder)]
    assert asyncio.run(create_draft("AdeleV@contoso.com")) == "AAMkAGRWAAAFSmKXAAA="
    assert [ex.outcome for ex in graphtape.requests] == ["matched"]
    assert graphtape.calls("POST", "/me/messages") == 1
    assert graphtape.calls("post", "/beta//me/messages") == 1
    assert graphtape.calls("POST", "/v1.0/me/messages") == 0
    assert graphtape.calls("GET", "/me/messages") == 0
    assert graphtape.deviations == []
    graphtape.assert_all_played()


@pytest.mark.graphtape("create-draft-json.yaml", strict=True)
def test_sdk_changed_recipient_strict():
    assert asyncio.run(create_draft("someone-else@contoso.com")) == "AAMkAGRWAAAFSmKXAAA="


@pytest.mark.graphtape(cassette="create-draft-json.yaml")
def test_sdk_changed_recipient_lenient(graphtape):
    assert asyncio.run(create_draft("someone-else@contoso.com")) == "AAMkAGRWAAAFSmKXAAA="
    assert [d.line() for d in graphtape.deviations] == {deviations!r}


@pytest.mark.graphtape("send-draft.yaml")
def test_unmatched():
    body = {{"message": {{"subject": "x", "body": {{"contentType": "Text", "content": "hi"}},
                        "toRecipients": [{{"emailAddress": {{"address": "a@contoso.com"}}}}]}}}}
    assert httpx.post("https://graph.microsoft.com/v1.0/me/sendMail", json=body).status_code == 404
    assert httpx.get(LISTENER).status_code == 404


@pytest.mark.graphtape("send-draft.yaml")
def test_contract_error():
    r = httpx.post("https://graph.microsoft.com/v1.0/me/messages", content=b"!!not base64!!",
                   headers={{"Content-Type": "text/plain"}})
    assert r.status_code == 400


@pytest.mark.graphtape("send-draft.yaml", fail_on="unmatched")
def test_contract_error_allowed(graphtape):
    r = httpx.post("https://graph.microsoft.com/v1.0/me/messages", content=b"!!not base64!!",
                   headers={{"Content-Type": "text/plain"}})
    assert r.status_code == 400
    assert [f.severity for f in graphtape.findings].count("error") >= 1


@pytest.mark.graphtape("send-draft.yaml")
def test_curl_in_a_subprocess(graphtape):
    out = subprocess.run(["curl", "-sS", "-X", "POST", SEND, "-o", "/dev/null", "-w", "%{{http_code}}"],
                         env={{**os.environ, **graphtape.env}}, capture_output=True, text=True, timeout=30)
    assert out.stdout == "202", out.stderr
    assert graphtape.calls("POST", SEND) == 1
    assert graphtape.calls("POST", "/me/messages/AAMkAGRWAAAFSmKXAAA%3D/send") == 1


@pytest.mark.graphtape("send-draft.yaml")
def test_assert_all_played(graphtape):
    graphtape.assert_all_played()


@pytest.mark.graphtape("send-draft.yaml", strict=True)
def test_unused_strict():
    pass


@pytest.mark.graphtape
def test_missing_cassette():
    pass


@pytest.mark.graphtape("../outside.yaml")
def test_escape_dotdot():
    pass


@pytest.mark.graphtape("/etc/outside.yaml")
def test_escape_absolute():
    pass


@pytest.fixture
def draft_sent():
    assert httpx.post(SEND, headers={{"Accept": "application/json"}}).status_code == 202  # in setup: from the cassette
    yield
    httpx.delete("https://graph.microsoft.com/v1.0/me/messages/AAMkAGRWAAAFSmKXAAA=")  # in teardown: unmatched


@pytest.mark.graphtape("send-draft.yaml", strict=True)
def test_fixture_traffic(draft_sent, graphtape):
    assert graphtape.calls("POST", SEND) == 1
    graphtape.assert_all_played()


def test_zz_environment_kept_for_the_session():  # unmarked: the variables stay, for clients built at any time
    assert [key for key in {proxy_vars!r} if key not in os.environ] == []
'''


@pytest.fixture
def seeds(pytester: pytest.Pytester) -> Path:
    folder = pytester.path / "seeds"
    shutil.copytree(SEEDS, folder)
    return folder


PROXY_VARS = ["HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR",
              "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "NODE_EXTRA_CA_CERTS"]


def test_replay_verdicts(pytester: pytest.Pytester, seeds: Path, listener: Listener, monkeypatch):
    for key in PROXY_VARS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    pytester.makepyfile(test_mail=REPLAY_TESTS.format(listener_port=listener.port, deviations=DEVIATIONS,
                                                      proxy_vars=PROXY_VARS))
    result = pytester.runpytest_subprocess(f"--graphtape-cassette-dir={seeds}",
                                           f"--graphtape-upstream=http://127.0.0.1:{listener.port}",
                                           "-p", "no:cacheprovider", "-rf", timeout=120)
    out = result.stdout.str()
    result.assert_outcomes(passed=6, failed=8, errors=1)  # every verdict fails the test itself ...
    assert listener.connections == 0  # offline: neither the Graph call nor the loopback one went anywhere
    failed = set(re.findall(r"^FAILED test_mail.py::(\w+)", out, re.MULTILINE))
    assert failed == {"test_sdk_changed_recipient_strict", "test_unmatched", "test_contract_error",
                      "test_assert_all_played", "test_unused_strict", "test_missing_cassette", "test_escape_dotdot",
                      "test_escape_absolute"}
    result.stdout.fnmatch_lines([  # ... but for a request in a fixture's teardown, after the test's verdict
        "*_ ERROR at teardown of test_fixture_traffic _*",
        "graphtape: 1 unmatched request(s) (replay of *send-draft.yaml)",
        "  #2 DELETE /v1.0/me/messages/AAMkAGRWAAAFSmKXAAA=: unmatched - *",
        "(during the teardown of fixtures)",
    ])
    result.stdout.fnmatch_lines([
        "*_ test_sdk_changed_recipient_strict _*",
        "graphtape: 2 deviation(s) from the recording (replay of *create-draft-json.yaml)",
        *(f"  #1 POST /beta/me/messages: deviation {line}" for line in DEVIATIONS),
    ])
    result.stdout.fnmatch_lines([
        "*_ test_unmatched _*",
        "graphtape: 2 unmatched request(s) (replay of *send-draft.yaml)",
        "  #1 POST /v1.0/me/sendMail: unmatched - nearest: #1 POST /beta/me/messages/AAMkAGRWAAAFSmKXAAA=/send "
        "[[]path: '/beta/me/messages/AAMkAGRWAAAFSmKXAAA=/send' -> '/v1.0/me/sendMail'*",
        f"  #2 GET http://127.0.0.1:{listener.port}/must-not-be-reached: unmatched - *",
    ])
    result.stdout.fnmatch_lines(["*_ test_contract_error _*", "graphtape: 1 contract error(s) (replay of *)",
                                 "  #1 POST /v1.0/me/messages: rejected - error: mime.base64 at mime:body: *",
                                 "If the new traffic is intended, re-record: *"])
    result.stdout.fnmatch_lines(["*_ test_assert_all_played _*", "*AssertionError: graphtape: 1 of 1 interaction(s) "
                                 "in *send-draft.yaml never played:*",
                                 "*interaction 1 POST /beta/me/messages/AAMkAGRWAAAFSmKXAAA=/send"])
    result.stdout.fnmatch_lines(["*_ test_unused_strict _*", "graphtape: 1 recorded interaction(s) never used; no "
                                 "request reached graphtape's proxy, though the cassette holds 1 interaction(s): *",
                                 "  interaction 1 POST /beta/me/messages/AAMkAGRWAAAFSmKXAAA=/send: never used"])
    result.stdout.fnmatch_lines(["*_ test_missing_cassette _*",
                                 f"graphtape: no cassette {seeds}/test_mail/test_missing_cassette.yaml for "
                                 "test_mail.py::test_missing_cassette; replay is offline and needs one. Record it: "
                                 "pytest --graphtape-mode=once test_mail.py::test_missing_cassette*"])
    result.stdout.fnmatch_lines(["*_ test_escape_dotdot _*", "graphtape: cassette name '../outside.yaml' contains "
                                 f"'..'; cassettes must stay under {seeds.resolve()}*"])
    result.stdout.fnmatch_lines(["*_ test_escape_absolute _*",
                                 "graphtape: cassette name '/etc/outside.yaml' is an absolute path*"])
    assert not (seeds.parent / "outside.yaml").exists() and not (seeds / "test_mail").exists()


XDIST_TESTS = '''
import os
from pathlib import Path

import pytest
import requests

SEND = "https://graph.microsoft.com/beta/me/messages/AAMkAGRWAAAFSmKXAAA=/send"


@pytest.mark.parametrize("n", range(6))
@pytest.mark.graphtape("send-draft.yaml", strict=True)
def test_send(graphtape, n):
    assert requests.post(SEND, headers={{"Accept": "application/json"}}, timeout=10).status_code == 202
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    Path("seen", f"{{n}}.txt").write_text(f"{{worker}} {{os.getpid()}} {{graphtape.url}}")
'''


def test_xdist_one_proxy_per_worker(pytester: pytest.Pytester, seeds: Path):
    (pytester.path / "seen").mkdir()
    pytester.makepyfile(test_workers=XDIST_TESTS.format())
    result = pytester.runpytest_subprocess("-p", "xdist", "-n", "2", f"--graphtape-cassette-dir={seeds}",
                                           "-p", "no:cacheprovider", timeout=120)
    result.assert_outcomes(passed=6)
    seen = [f.read_text().split() for f in sorted((pytester.path / "seen").iterdir())]
    assert len(seen) == 6
    by_pid: dict[str, set[str]] = {}
    for worker, pid, url in seen:
        assert worker.startswith("gw")
        by_pid.setdefault(pid, set()).add(url)
    assert len(by_pid) == 2, seen  # two worker processes ...
    assert all(len(urls) == 1 for urls in by_pid.values()), seen  # ... each kept one proxy for all its tests
    assert len(set.union(*by_pid.values())) == 2, seen  # ... on a port of its own


def _settings(pytester: pytest.Pytester, *args: str):
    from graphtape.pytest.plugin import SETTINGS

    return pytester.parseconfigure(*args).stash[SETTINGS]


def test_settings_command_line_over_ini_over_tool_graphtape(pytester: pytest.Pytester):
    assert _settings(pytester).cassette_dir == pytester.path / "cassettes"  # the default
    (pytester.path / "pyproject.toml").write_text('[tool.graphtape]\ncassette_dir = "recorded"\n')
    assert _settings(pytester).cassette_dir == pytester.path / "recorded"
    (pytester.path / "pyproject.toml").write_text(
        '[tool.graphtape]\ncassette_dir = "recorded"\n\n[tool.pytest.ini_options]\ngraphtape_cassette_dir = "tapes"\n'
        'graphtape_mode = "once"\ngraphtape_strict = true\ngraphtape_upstream = "https://127.0.0.1:8443"\n'
        'graphtape_upstream_ca = "ca.pem"\n')
    s = _settings(pytester)
    assert (s.cassette_dir, s.mode, s.strict, s.upstream, s.upstream_ca, s.confdir) == (
        pytester.path / "tapes", "once", True, "https://127.0.0.1:8443", str(pytester.path / "ca.pem"), "")
    s = _settings(pytester, "--graphtape-mode=record", "--graphtape-cassette-dir=other", "--graphtape-confdir=conf")
    assert (s.mode, s.cassette_dir, s.confdir) == ("record", pytester.path / "other", str(pytester.path / "conf"))


def test_a_bad_mode_in_the_ini_is_a_usage_error(pytester: pytest.Pytester):
    (pytester.path / "pyproject.toml").write_text('[tool.pytest.ini_options]\ngraphtape_mode = "sometimes"\n')
    with pytest.raises(pytest.UsageError,
                       match="graphtape_mode = 'sometimes'; choose replay, record, once, simulate, new_episodes"):
        pytester.parseconfigure()
