"""What graphtape touches: Graph calls only; replay never reaches the network; other hosts pass through untouched."""

from __future__ import annotations

import json
import ssl
import time

import httpx

from conftest import SEEDS
from graphtape.cassette.format import load_cassette
from test_cli import SENDMAIL


def test_unmatched_request_gets_the_documented_error_and_nothing_is_contacted(proxy, listener):
    p = proxy("replay", str(SEEDS / "send-draft.yaml"))
    with httpx.Client(proxy=p.url, verify=str(p.ca)) as c:
        # A Graph call the cassette does not hold, and a call to a live listener on loopback.
        graph = c.post("https://graph.microsoft.com/v1.0/me/sendMail", json=SENDMAIL)
        local = c.post(f"https://127.0.0.1:{listener.port}/v1.0/me/sendMail", json={"message": {}})
    for r in (graph, local):
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "graphtape.UnmatchedRequest"
    assert "send-draft.yaml" in graph.json()["error"]["message"]
    assert "Nearest recorded: #1 POST /beta/me/messages/AAMkAGRWAAAFSmKXAAA=/send" in graph.json()["error"]["message"]
    time.sleep(0.3)
    assert listener.connections == 0


# With a recipient: the stand-in refuses a sendMail without one (contract send.no-recipient), as Graph does.
DIRECT = b'{"message": {"subject": "direct", "toRecipients": [{"emailAddress": {"address": "megan@contoso.com"}}]}}'


def test_other_hosts_pass_through_untouched_and_are_not_recorded(tmp_path, proxy, fake_graph):
    """The stand-in reached as itself (not as graph.microsoft.com) is 'another host': forwarded, never written."""
    cassette = tmp_path / "c.yaml"
    p = proxy("record", str(cassette), "--upstream", fake_graph.url, "--upstream-ca", str(fake_graph.cert))
    direct_ctx = ssl.create_default_context(cafile=str(p.ca))
    with httpx.Client(proxy=p.url, verify=direct_ctx) as c:
        other = c.post(f"{fake_graph.url}/v1.0/me/sendMail", content=DIRECT,
                       headers={"Content-Type": "application/json", "Authorization": "Bearer direct-secret-123456789"})
        graph = c.post("https://graph.microsoft.com/v1.0/me/messages", json={"subject": "via graph"})
    assert other.status_code == 202 and graph.status_code == 201
    # Untouched: the stand-in got the body and the credentials exactly as sent.
    direct = next(r for r in fake_graph.state.received if b"direct" in r.body)
    assert direct.body == DIRECT
    assert direct.headers["authorization"] == "Bearer direct-secret-123456789"
    p.stop()
    (only,) = load_cassette(cassette).interactions
    assert json.loads(only.request.body) == {"subject": "via graph"}
    assert "direct" not in cassette.read_text()


def test_out_of_scope_graph_paths_are_not_recorded(tmp_path, proxy, fake_graph):
    """Graph host, but not /v1.0 or /beta: passed through, never written."""
    cassette = tmp_path / "c.yaml"
    p = proxy("record", str(cassette), "--upstream", fake_graph.url, "--upstream-ca", str(fake_graph.cert))
    with httpx.Client(proxy=p.url, verify=str(p.ca)) as c:
        r = c.post("https://graph.microsoft.com/v2.0/me/sendMail", json={})
    assert r.status_code == 404  # what graph.microsoft.com itself would answer; graphtape did not step in
    p.stop()
    assert load_cassette(cassette).interactions == []
