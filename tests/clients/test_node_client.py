"""The official Graph JavaScript SDK (Node.js) through the real proxy: record against the stand-in, replay offline.

The SDK and undici come from tests/clients/node/package-lock.json (``make test`` runs ``npm ci`` there); these
tests skip, saying why, where node or those packages are missing.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import TOKEN
from graphtape.cassette.format import load_cassette

NODE_DIR = Path(__file__).resolve().parent / "node"
MIN_NODE = (18, 17)  # undici 6's floor; Node 20 is what the tests are written for


def _why_skip() -> str | None:
    node = shutil.which("node")
    if node is None:
        return "node is not on PATH: install Node.js 18.17+ (with npm) to test the JavaScript SDK"
    out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    m = re.match(r"v(\d+)\.(\d+)", out)
    if m is None or (int(m[1]), int(m[2])) < MIN_NODE:
        return f"node {out or '(no version)'} is older than {'.'.join(map(str, MIN_NODE))}: undici 6 needs it"
    if not (NODE_DIR / "node_modules" / "@microsoft" / "microsoft-graph-client").is_dir():
        return f"the JavaScript SDK is not installed: run `make test` or `npm ci --prefix {NODE_DIR}`"
    return None


pytestmark = pytest.mark.skipif((_reason := _why_skip()) is not None, reason=_reason or "")


def run_node(proxy: Any, way: str, *scenarios: str, env: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """``node mail.mjs WAY SCENARIO...`` with the variables a user sets for ``proxy``; its JSON results."""
    full = {**os.environ, **proxy.env(), "GRAPH_TOKEN": TOKEN, "GRAPHTAPE_BASE_URL": proxy.url, **(env or {})}
    out = subprocess.run(["node", str(NODE_DIR / "mail.mjs"), way, *scenarios], capture_output=True, text=True,
                         env=full, timeout=120)
    assert out.returncode == 0, f"node mail.mjs {way} {' '.join(scenarios)} failed:\n{out.stderr}"
    results: list[dict[str, Any]] = json.loads(out.stdout)
    assert [r["scenario"] for r in results] == list(scenarios), out.stdout
    return results


def record(proxy: Any, fake_graph: Any, cassette: Path, way: str, *scenarios: str) -> list[dict[str, Any]]:
    rec = proxy("record", str(cassette), "--upstream", fake_graph.url, "--upstream-ca", str(fake_graph.cert))
    results = run_node(rec, way, *scenarios)
    assert rec.stop() == 0, rec.output
    return results


DRAFT_SEND = {"id": "<the draft's id>", "subject": "Quarterly report (from Node)", "to": "megan@contoso.com",
              "send": 202}


def draft_id(recorded: list[dict[str, Any]]) -> str:
    """The id the stand-in gave the draft (made from its id seed), replaced in ``recorded`` by DRAFT_SEND's."""
    result = recorded[0]["result"]
    found, result["id"] = result["id"], DRAFT_SEND["id"]
    assert found.startswith("AAMk") and found.endswith("=")
    return str(found)


@pytest.mark.parametrize("way", ["env", "agent"])
def test_node_sdk_records_against_the_stand_in_then_replays_offline(tmp_path, proxy, fake_graph, way):
    cassette = tmp_path / "node.yaml"
    recorded = record(proxy, fake_graph, cassette, way, "draft-send", "sendmail-mime")
    made = draft_id(recorded)
    assert recorded == [{"scenario": "draft-send", "result": DRAFT_SEND},
                        {"scenario": "sendmail-mime", "result": {"sent": True, "returned": {}}}]
    received = fake_graph.state.received
    assert [r.path for r in received] == ["/v1.0/me/messages", f"/v1.0/me/messages/{made}/send",
                                          "/v1.0/me/sendMail"]
    assert {r.headers["authorization"] for r in received} == {f"Bearer {TOKEN}"}  # the SDK's own auth handler
    assert {r.headers["sdkversion"] for r in received} == {"graph-js/3.0.7 (featureUsage=7)"}
    fake_graph.stop()

    text = cassette.read_text()
    assert TOKEN not in text and "Bearer" not in text
    assert "mime: " in text and "Quarterly report (MIME, from Node)" in text  # the base64 MIME stored decoded
    interactions = load_cassette(cassette).interactions
    assert base64.b64decode(interactions[2].request.body).startswith(b"From: Alex Wilber <AlexW@contoso.com>\r\n")
    assert [i.request.url for i in interactions] == [
        "https://graph.microsoft.com/v1.0/me/messages",
        f"https://graph.microsoft.com/v1.0/me/messages/{made}/send",
        "https://graph.microsoft.com/v1.0/me/sendMail"]

    rep = proxy("replay", str(cassette))
    replayed = run_node(rep, way, "draft-send", "sendmail-mime")
    assert draft_id(replayed) == made and replayed == recorded
    assert rep.stop() == 0, rep.output
    assert "matched 3, unmatched 0" in rep.stderr and "rejected by contract 0" in rep.stderr, rep.stderr


def test_node_sdk_in_replay_reaches_no_host_even_a_live_one(tmp_path, proxy, fake_graph, listener):
    cassette = tmp_path / "node.yaml"
    record(proxy, fake_graph, cassette, "agent", "sendmail-mime")
    fake_graph.stop()
    rep = proxy("replay", str(cassette))
    probe = {"GRAPHTAPE_PROBE_URL": f"https://127.0.0.1:{listener.port}/v1.0/me/sendMail"}
    sent, probed = run_node(rep, "agent", "sendmail-mime", "probe", env=probe)
    assert sent == {"scenario": "sendmail-mime", "result": {"sent": True, "returned": {}}}
    assert probed["error"]["status"] == 404 and probed["error"]["code"] == "graphtape.UnmatchedRequest", probed
    time.sleep(0.3)  # a connection the proxy had opened would have been accepted by now
    assert listener.connections == 0
    rep.stop()
    assert "matched 1, unmatched 1" in rep.stderr, rep.stderr


def test_node_sdk_with_reverse_base_url_replays_a_recording_made_through_the_proxy(tmp_path, proxy, fake_graph):
    cassette = tmp_path / "node.yaml"
    recorded = record(proxy, fake_graph, cassette, "env", "draft-send", "sendmail-mime")
    fake_graph.stop()
    rep = proxy("replay", str(cassette), "--reverse")  # plain HTTP to the proxy: no proxy agent, no CA
    assert run_node(rep, "reverse", "draft-send", "sendmail-mime") == recorded
    assert rep.stop() == 0, rep.output
    assert "matched 3, unmatched 0" in rep.stderr, rep.stderr


def test_node_sdk_sends_no_token_to_an_http_base_url(tmp_path, proxy, fake_graph):
    """Why the README says record through a proxy agent: the SDK's auth handler skips a non-https baseUrl."""
    rec = proxy("record", str(tmp_path / "rev.yaml"), "--reverse", "--upstream", fake_graph.url, "--upstream-ca",
                str(fake_graph.cert))
    assert run_node(rec, "reverse", "sendmail-mime")[0]["result"]["sent"] is True
    rec.stop()
    (got,) = fake_graph.state.received
    assert got.path == "/v1.0/me/sendMail"
    assert "authorization" not in got.headers and "sdkversion" not in got.headers, got.headers


def test_node_sdk_bad_mime_bodies_get_graphs_400_from_the_contract_in_replay(tmp_path, proxy, fake_graph):
    cassette = tmp_path / "node.yaml"
    record(proxy, fake_graph, cassette, "agent", "sendmail-mime")
    fake_graph.stop()
    rep = proxy("replay", str(cassette))
    broken, unlabelled, good = run_node(rep, "agent", "broken-mime", "mime-without-content-type", "sendmail-mime")
    assert broken["error"] == {"status": 400, "code": "ErrorMimeContentInvalidBase64String",
                               "message": "Invalid base64 string for MIME content."}
    # The SDK labels a string body application/json unless told otherwise: Graph reads it as JSON and refuses it.
    assert unlabelled["error"]["status"] == 400 and unlabelled["error"]["code"] == "RequestBodyRead", unlabelled
    assert "json.malformed" in unlabelled["error"]["message"]
    assert good["result"] == {"sent": True, "returned": {}}  # the recorded interaction was still there
    rep.stop()
    assert "matched 1, unmatched 0, exhausted 0, rejected by contract 2" in rep.stderr, rep.stderr


def test_node_sdk_through_a_proxy_that_requires_credentials(tmp_path, proxy, fake_graph):
    """--proxyauth: undici's ProxyAgent takes the credentials from the proxy URL, as HTTPS_PROXY carries them."""
    cassette = tmp_path / "node.yaml"
    auth = ("--proxyauth", "alice:s3cret-pass")

    def with_credentials(p: Any) -> dict[str, str]:
        url = p.url.replace("http://", "http://alice:s3cret-pass@", 1)
        return {"GRAPHTAPE_PROXY": url, "HTTPS_PROXY": url, "https_proxy": url}

    rec = proxy("record", str(cassette), "--upstream", fake_graph.url, "--upstream-ca", str(fake_graph.cert), *auth)
    recorded = run_node(rec, "agent", "draft-send", env=with_credentials(rec))
    assert rec.stop() == 0, rec.output
    made = draft_id(recorded)
    assert recorded == [{"scenario": "draft-send", "result": DRAFT_SEND}]
    fake_graph.stop()
    rep = proxy("replay", str(cassette), *auth)
    replayed = run_node(rep, "env", "draft-send", env=with_credentials(rep))
    assert draft_id(replayed) == made and replayed == recorded
    assert rep.stop() == 0, rep.output
