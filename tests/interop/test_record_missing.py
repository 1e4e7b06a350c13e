"""Record what is missing end to end, through the real proxy: ``graphtape replay --record-missing --upstream``
and the plugin's ``--graphtape-mode=new_episodes`` against the stand-in, then offline replay of the result."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import TOKEN
from graphtape.cassette.format import load_cassette
from graphtape.testing.fakegraph import FakeGraph
from graphtape.testing.tls import make_certificate

from .mitmtools import GRAPH, batch_body, mime_message

pytest_plugins = ["pytester"]
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _send(proxy: Any) -> int:
    with httpx.Client(proxy=proxy.url, verify=str(proxy.ca), timeout=20) as c:
        return c.post(f"{GRAPH}/me/sendMail", content=base64.b64encode(mime_message()),
                      headers={**AUTH, "Content-Type": "text/plain"}).status_code


def _batch(proxy: Any) -> int:
    with httpx.Client(proxy=proxy.url, verify=str(proxy.ca), timeout=20) as c:
        return c.post(f"{GRAPH}/$batch", content=json.dumps(batch_body()).encode(),
                      headers={**AUTH, "Content-Type": "application/json"}).status_code


def _upstream(fake: Any) -> list[str]:
    return ["--upstream", fake.url, "--upstream-ca", str(fake.cert)]


def test_replay_record_missing_replays_the_known_call_and_appends_the_new_one(tmp_path, proxy, fake_graph):
    cassette = tmp_path / "c.yaml"
    rec = proxy("record", str(cassette), *_upstream(fake_graph))
    assert _send(rec) == 202
    assert rec.stop() == 0
    before_text, before = cassette.read_text(), load_cassette(cassette).interactions
    fake_graph.state.received.clear()

    both = proxy("replay", str(cassette), "--record-missing", *_upstream(fake_graph))
    assert both.port and _send(both) == 202 and _batch(both) == 200
    assert both.stop() == 0, both.output
    assert [r.path for r in fake_graph.state.received] == ["/v1.0/$batch", "/v1.0/me/messages", "/v1.0/me/sendMail"]
    assert "graphtape: new_episodes session" in both.stderr
    assert "replayed 1, appended 1, not recorded 0, upstream failures 0" in both.stderr
    assert "appended #2 POST /v1.0/$batch -> 200 as interaction 2" in both.stderr
    after = load_cassette(cassette).interactions
    assert after[:1] == before and len(after) == 2 and after[1].request.url.endswith("/$batch")
    first_chunk = before_text[before_text.index("- request:"):before_text.index("# end of graphtape cassette")]
    assert first_chunk in cassette.read_text()  # what it held, byte for byte

    fake_graph.stop()
    offline = proxy("replay", str(cassette), "--fail-on", "unmatched,unused")
    assert _send(offline) == 202 and _batch(offline) == 200
    assert offline.stop() == 0, offline.output
    assert "matched 2, unmatched 0" in offline.stderr


def test_a_session_with_nothing_missing_leaves_the_cassette_byte_for_byte(tmp_path, proxy, fake_graph):
    cassette = tmp_path / "c.yaml"
    rec = proxy("record", str(cassette), *_upstream(fake_graph))
    assert _send(rec) == 202
    rec.stop()
    data = cassette.read_bytes()
    fake_graph.state.received.clear()
    again = proxy("replay", str(cassette), "--record-missing", *_upstream(fake_graph))
    assert _send(again) == 202
    assert again.stop() == 0
    assert fake_graph.state.received == [] and cassette.read_bytes() == data
    assert "replayed 1, appended 0" in again.stderr


def test_record_missing_without_a_cassette_records_every_call_into_a_new_one(tmp_path, proxy, fake_graph):
    cassette = tmp_path / "new.yaml"
    first = proxy("replay", str(cassette), "--record-missing", *_upstream(fake_graph))
    assert _send(first) == 202
    assert first.stop() == 0, first.output
    assert "replayed 0, appended 1" in first.stderr
    assert [i.request.url for i in load_cassette(cassette).interactions] == [f"{GRAPH}/me/sendMail"]


def test_an_upstream_without_record_missing_is_refused():
    done = subprocess.run([sys.executable, "-m", "graphtape.cli", "replay", "c.yaml", "--upstream", "https://x"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "graphtape: --upstream needs --record-missing: replay alone is offline" in done.stderr


PLUGIN_TESTS = '''
import base64, httpx
MIME = base64.b64encode(b"From: a@contoso.com\\r\\nTo: b@contoso.com\\r\\nSubject: Hi\\r\\n\\r\\nHello\\r\\n")

def send():
    return httpx.post("https://graph.microsoft.com/v1.0/me/sendMail", content=MIME,
                      headers={"Content-Type": "text/plain"}).status_code

def draft():
    return httpx.post("https://graph.microsoft.com/v1.0/me/messages", json={"subject": "Later"}).status_code

def test_mail(graphtape):
    assert send() == 202
    if EXTRA:
        assert draft() == 201
'''


@pytest.fixture(scope="module")
def cert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fakegraph-cert")  # before pytester snapshots sys.modules (see the plugin's
    make_certificate(folder)  # record tests)
    return folder


def test_plugin_new_episodes_appends_to_the_cassette_and_replays_the_rest(pytester: pytest.Pytester,
                                                                          cert_dir: Path):
    tape = pytester.path / "cassettes" / "test_mail" / "test_mail.yaml"
    with FakeGraph(cert_dir) as fake:
        upstream = (f"--graphtape-upstream={fake.url}", f"--graphtape-upstream-ca={fake.cert}")
        pytester.makepyfile(test_mail="EXTRA = False\n" + PLUGIN_TESTS)
        run = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--graphtape-mode=once", *upstream)
        run.assert_outcomes(passed=1)
        assert len(load_cassette(tape).interactions) == 1
        fake.state.received.clear()
        pytester.makepyfile(test_mail="EXTRA = True\n" + PLUGIN_TESTS)
        run = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--graphtape-mode=new_episodes", *upstream)
        run.assert_outcomes(passed=1)
        assert [r.path for r in fake.state.received] == ["/v1.0/me/messages"]  # the sendMail was replayed
    assert [i.request.url.rsplit("/", 1)[-1] for i in load_cassette(tape).interactions] == ["sendMail", "messages"]
    offline = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--graphtape-mode=replay",
                                            "--graphtape-strict")
    offline.assert_outcomes(passed=1)
