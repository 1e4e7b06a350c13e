"""Shared by the fault tests: a cassette recorded through the real proxy from the stand-in, and plain clients."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

SENDMAIL = {"message": {"subject": "Report", "toRecipients": [{"emailAddress": {"address": "megan@contoso.com"}}]}}
SEND_URL = "https://graph.microsoft.com/v1.0/me/sendMail"
DRAFTS_URL = "https://graph.microsoft.com/v1.0/me/messages"
DRAFT = {"subject": "Draft", "body": {"contentType": "text", "content": "hello"}}


def client(proxy: Any, timeout: float = 20) -> httpx.Client:
    return httpx.Client(proxy=proxy.url, verify=str(proxy.ca), timeout=timeout)


def send(c: httpx.Client) -> httpx.Response:
    return c.post(SEND_URL, content=json.dumps(SENDMAIL), headers={"Content-Type": "application/json"})


def create_draft(c: httpx.Client) -> httpx.Response:
    return c.post(DRAFTS_URL, content=json.dumps(DRAFT), headers={"Content-Type": "application/json"})


def record(proxy: Any, fake_graph: Any, cassette: Path, *calls: str) -> Path:
    """Record ``calls`` ("send", "draft") through graphtape from the stand-in into ``cassette``."""
    rec = proxy("record", str(cassette), "--upstream", fake_graph.url, "--upstream-ca", str(fake_graph.cert))
    with client(rec) as c:
        for call in calls:
            resp = send(c) if call == "send" else create_draft(c)
            assert resp.status_code in (201, 202), resp.text
    assert rec.stop() == 0, rec.output
    return cassette


def write_faults(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "faults.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def report_of(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return doc
