"""Replay to real clients of several kinds: httpx, requests, curl, the SDK; forward and reverse proxy modes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
import requests

from conftest import sdk_call
from graphtape.cassette.format import save_cassette
from graphtape.model import HttpRequest, HttpResponse, Interaction

SEND = "https://graph.microsoft.com/v1.0/me/messages/AAMkAGRWAAAFSmKXAAA=/send"


def _send_cassette(path: Path, url: str = SEND) -> Path:
    save_cassette(path, [Interaction(HttpRequest("POST", url, [("Content-Length", "0")]),
                                     HttpResponse(202, "Accepted", [("request-id", "r1")]))])
    return path


def _draft_cassette(path: Path) -> Path:
    body = json.dumps({"subject": "Hi"}).encode()
    resp = json.dumps({"id": "AAMk1", "subject": "Hi"}).encode()
    save_cassette(path, [Interaction(
        HttpRequest("POST", "https://graph.microsoft.com/v1.0/me/messages", [("Content-Type", "application/json")],
                    body),
        HttpResponse(201, "Created", [("Content-Type", "application/json")], resp))])
    return path


def test_httpx_through_https_proxy(tmp_path, proxy):
    p = proxy("replay", str(_draft_cassette(tmp_path / "c.yaml")))
    with httpx.Client(proxy=p.url, verify=str(p.ca)) as c:
        r = c.post("https://graph.microsoft.com/v1.0/me/messages", json={"subject": "Hi"})
    assert r.status_code == 201 and r.json() == {"id": "AAMk1", "subject": "Hi"}
    assert r.headers["content-length"] == str(len(r.content))


def test_http2_client(tmp_path, proxy):
    p = proxy("replay", str(_draft_cassette(tmp_path / "c.yaml")))
    out = subprocess.run(
        ["curl", "-sS", "--http2", "-w", "\n%{http_version} %{http_code}", "-X", "POST", "-H",
         "Content-Type: application/json", "-d", '{"subject": "Hi"}', "--proxy", p.url, "--cacert", str(p.ca),
         "https://graph.microsoft.com/v1.0/me/messages"],
        capture_output=True, text=True, timeout=30)
    body, status = out.stdout.rsplit("\n", 1)
    assert status == "2 201", out.stderr
    assert json.loads(body) == {"id": "AAMk1", "subject": "Hi"}


def test_requests_through_https_proxy_with_env(tmp_path, proxy, monkeypatch):
    p = proxy("replay", str(_send_cassette(tmp_path / "c.yaml")))
    for k, v in p.env().items():
        monkeypatch.setenv(k, v)
    r = requests.post(SEND, timeout=10)  # honours HTTPS_PROXY and REQUESTS_CA_BUNDLE
    assert r.status_code == 202 and r.content == b""
    assert r.headers["request-id"] == "r1"


def test_curl_through_https_proxy(tmp_path, proxy):
    p = proxy("replay", str(_send_cassette(tmp_path / "c.yaml")))
    out = subprocess.run(
        ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-H", "Content-Length: 0",
         "--proxy", p.url, "--cacert", str(p.ca), SEND.replace("=", "%3D").replace("/v1.0/", "/v1.0//")],
        capture_output=True, text=True, timeout=30)
    assert out.stdout == "202", out.stderr


def test_reverse_mode_with_a_base_url(tmp_path, proxy):
    p = proxy("replay", str(_draft_cassette(tmp_path / "c.yaml")), "--reverse")
    r = httpx.post(f"{p.url}/v1.0/me/messages", json={"subject": "Hi"})  # plain HTTP to the proxy, no CA
    assert r.status_code == 201 and r.json()["subject"] == "Hi"


def test_reverse_mode_record_keeps_the_graph_url(tmp_path, proxy, fake_graph):
    cassette = tmp_path / "rev.yaml"
    p = proxy("record", str(cassette), "--reverse", "--upstream", fake_graph.url, "--upstream-ca", str(fake_graph.cert))
    # a sendMail needs a recipient (contract send.no-recipient): the stand-in refuses one without, as Graph does
    to = [{"emailAddress": {"address": "megan@contoso.com"}}]
    r = httpx.post(f"{p.url}/v1.0/me/sendMail", json={"message": {"subject": "x", "toRecipients": to}})
    assert r.status_code == 202
    p.stop()
    from graphtape.cassette.format import load_cassette

    (it,) = load_cassette(cassette).interactions
    assert it.request.url == "https://graph.microsoft.com/v1.0/me/sendMail"
    assert fake_graph.state.received[0].path == "/v1.0/me/sendMail"


def test_sdk_double_slash_and_percent_encoded_id_match_a_plain_recording(tmp_path, proxy):
    """The SDK sends /v1.0//me/messages/AAMk...%3D/send; the cassette was written with neither."""
    p = proxy("replay", str(_send_cassette(tmp_path / "c.yaml")))

    async def send(client):
        await client.me.messages.by_message_id("AAMkAGRWAAAFSmKXAAA=").send.post()
        return "sent"

    assert sdk_call(p, send) == "sent"
    assert p.stop() == 0
    assert "matched 1, unmatched 0" in p.stderr


def test_national_cloud_host_is_in_scope(tmp_path, proxy):
    us_send = SEND.replace("graph.microsoft.com", "graph.microsoft.us")
    p = proxy("replay", str(_send_cassette(tmp_path / "c.yaml", us_send)))
    with httpx.Client(proxy=p.url, verify=str(p.ca)) as c:
        r = c.post(us_send)
    assert r.status_code == 202
