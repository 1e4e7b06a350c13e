"""Issue 14 through the real proxy: Graph's own answers in enforce, every URL spelling validated, and no false
positive on what Graph accepts (quoted booleans, a MIME reply without To)."""

from __future__ import annotations

import base64
import json

import httpx

G = "https://graph.microsoft.com"


def _client(p) -> httpx.Client:
    return httpx.Client(proxy=p.url, verify=str(p.ca))


def test_replay_answers_an_undeclared_message_property_as_graph_does(proxy, seed):
    p = proxy("replay", str(seed("create-draft-json")))
    with _client(p) as c:
        r = c.post(f"{G}/v1.0/me/messages", json={"subjct": "typo"})
    assert r.status_code == 400 and r.headers["x-graphtape"] == "contract-error"
    error = r.json()["error"]
    assert error["code"] == "RequestBodyRead"
    assert error["message"] == (
        "The property 'subjct' does not exist on type 'microsoft.graph.message'. Make sure to only use property "
        "names that are defined by the type or mark the type as open type.")


def test_replay_validates_the_namespace_qualified_spelling(proxy, seed):
    p = proxy("replay", str(seed("sendmail-mime")))
    with _client(p) as c:
        r = c.post(f"{G}/v1.0/me/microsoft.graph.sendMail", json={"message": {"subject": "nobody to send to"}})
        headers = c.post(f"{G}/v1.0/me/messages('AAMk%3D')/microsoft.graph.forward",
                         json={"toRecipients": [{"emailAddress": {"address": "a@contoso.com"}}],
                               "message": {"internetMessageHeaders": [{"name": "Group", "value": "x"}]}})
    assert r.status_code == 400 and r.json()["error"]["code"] == "ErrorInvalidRecipients"
    assert headers.status_code == 400 and headers.json()["error"]["code"] == "InvalidInternetMessageHeader"


def test_inspect_reports_no_error_for_what_graph_accepts(tmp_path, proxy, fake_graph):
    report = tmp_path / "r.json"
    p = proxy("inspect", "--upstream", fake_graph.url, "--upstream-ca", str(fake_graph.cert), "--report", str(report))
    reply = base64.encodebytes(b"Subject: RE: plan\r\n\r\nSounds good.\r\n")
    with _client(p) as c:
        c.post(f"{G}/v1.0/me/sendMail", json={
            "message": {"subject": "Lunch?", "toRecipients": [{"emailAddress": {"address": "a@contoso.com"}}]},
            "saveToSentItems": "false"})
        c.post(f"{G}/v1.0/me/messages/AAMk%3D/reply", content=reply, headers={"Content-Type": "text/plain"})
        c.post(f"{G}/v1.0/me/messages/AAMk%3D/replyAll", content=reply, headers={"Content-Type": "text/plain"})
    p.stop()
    doc = json.loads(report.read_text())
    assert doc["summary"]["requests"] == 3
    assert [f for r in doc["requests"] for f in r["findings"]] == []
