"""A real app's whole mail session, unchanged, against a recording: it signs in with ``ClientSecretCredential``,
creates a draft, uploads a 10 MB attachment to it through an upload session (chunk PUTs on the uploadUrl's other
host, no Authorization), then sends the draft and a sendMail in one ``$batch``.

Recorded through the real proxy against the stand-in (sign-in, Graph and the upload host all routed to it), then
replayed with the stand-in stopped: the app, its code and its credential object the same in both runs, gets the
same results, and the replay answers everything itself (sign-in offline, the rest from the cassette).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
from dev.harness import ProxyProcess

from graphtape.cassette.format import load_cassette
from graphtape.graph import LOGIN_HOSTS
from graphtape.testing.fakegraph import FakeGraph
from test_proxy_signin import CLIENT_ID, SENDER, TENANT

SECRET = "-".join(["whole", "session", "app", "secret"])  # built here: no secret-looking literal in the repo
MB = 1024 * 1024
CHUNK = 4 * MB  # Graph's largest chunk
ATTACHMENT = hashlib.sha256(b"graphtape").digest() * (10 * MB // 32)  # 10 MB, the same bytes in both runs


async def _session(client: Any) -> dict[str, Any]:
    """The app: what a reporting job does, with msgraph-sdk for Graph and httpx for the upload's chunk PUTs."""
    from msgraph.generated.models.attachment_item import AttachmentItem
    from msgraph.generated.models.attachment_type import AttachmentType
    from msgraph.generated.models.email_address import EmailAddress
    from msgraph.generated.models.message import Message
    from msgraph.generated.models.recipient import Recipient
    from msgraph.generated.users.item.messages.item.attachments.create_upload_session.create_upload_session_post_request_body import (  # noqa: E501
        CreateUploadSessionPostRequestBody,
    )
    from msgraph.generated.users.item.send_mail.send_mail_post_request_body import SendMailPostRequestBody
    from msgraph_core.requests.batch_request_builder import BatchRequestBuilder
    from msgraph_core.requests.batch_request_content import BatchRequestContent
    from msgraph_core.requests.batch_request_item import BatchRequestItem

    user = client.users.by_user_id(SENDER)
    to = [Recipient(email_address=EmailAddress(address="megan@contoso.com"))]
    draft = await user.messages.post(Message(subject="Quarterly figures", to_recipients=to))
    body = CreateUploadSessionPostRequestBody(attachment_item=AttachmentItem(
        attachment_type=AttachmentType.File, name="figures.bin", size=len(ATTACHMENT)))
    upload = await user.messages.by_message_id(draft.id).attachments.create_upload_session.post(body)
    chunks = []
    with httpx.Client(timeout=60) as http:  # as the docs show: no Authorization on the uploadUrl
        for start in range(0, len(ATTACHMENT), CHUNK):
            end = min(start + CHUNK, len(ATTACHMENT)) - 1
            r = http.put(upload.upload_url, content=ATTACHMENT[start:end + 1],
                         headers={"Content-Range": f"bytes {start}-{end}/{len(ATTACHMENT)}"})
            chunks.append((r.status_code, r.json().get("nextExpectedRanges") if r.content else None))

    send_draft = user.messages.by_message_id(draft.id).send.to_post_request_information()
    send_draft.headers.try_add("Content-Type", "application/json")
    send_draft.content = b"{}"
    notice = user.send_mail.to_post_request_information(SendMailPostRequestBody(
        message=Message(subject="Figures sent", to_recipients=to), save_to_sent_items=False))
    items = [BatchRequestItem(send_draft), BatchRequestItem(notice)]
    content = BatchRequestContent()
    for item in items:
        content.add_request(item.id, item)
    answer = await BatchRequestBuilder(client.request_adapter).post(content)
    statuses = answer.get_response_status_codes()
    return {"draft": (draft.id, draft.subject), "upload": chunks, "batch": [statuses.get(i.id) for i in items]}


def app() -> dict[str, Any]:
    """The production app: a credential from its configuration, handed to msgraph-sdk. Nothing knows graphtape."""
    from azure.identity import ClientSecretCredential
    from msgraph import GraphServiceClient

    client = GraphServiceClient(credentials=ClientSecretCredential(TENANT, CLIENT_ID, SECRET),
                                scopes=["https://graph.microsoft.com/.default"])
    return asyncio.run(_session(client))


def test_sign_in_a_10_mb_upload_session_and_batch_run_unchanged_against_a_recording(
        tmp_path: Path, confdir: Path) -> None:
    cassette, report = tmp_path / "whole-session.yaml", tmp_path / "replay.json"
    with FakeGraph(tmp_path / "cert") as fake:
        rec = ProxyProcess(["record", str(cassette), "--upstream", fake.url, "--upstream-ca", str(fake.cert),
                            "--upstream-signin", "--upstream-uploads"], confdir).start()
        try:
            with rec.behind():
                recorded = app()
        finally:
            assert rec.stop() == 0, rec.output
        seen_live = [f"{r.method} {r.path.split('?')[0]}" for r in fake.state.received]
    # the stand-in is stopped: nothing upstream any more, replay must answer everything itself
    assert recorded["upload"] == [(200, [f"{4 * MB}"]), (200, [f"{8 * MB}"]), (201, None)]
    assert recorded["batch"] == [202, 202]
    assert len(seen_live) == 8, seen_live  # draft, createUploadSession, 3 chunks, the $batch and its 2 items

    text = cassette.read_text()
    assert not any(host in text for host in LOGIN_HOSTS) and "eyJ" not in text  # sign-in never recorded
    assert "authtoken=<redacted>" in text or "authtoken" not in text
    assert len(text) < 200_000  # chunks kept as digests, not 10 MB of base64
    urls = [i.request.url.split("?")[0] for i in load_cassette(cassette).interactions]
    assert [u.split("/")[2] for u in urls] == ["graph.microsoft.com"] * 2 + ["outlook.office.com"] * 3 + [
        "graph.microsoft.com"]

    rep = ProxyProcess(["replay", str(cassette), "--report", str(report)], confdir).start()
    with rep.behind():
        replayed = app()
    assert rep.stop() == 0, rep.output
    assert replayed == recorded
    replay_report = json.loads(report.read_text())
    assert replay_report["summary"]["upstream_connections_refused"] == 0  # the server_connect guard saw no attempt
    requests = replay_report["requests"]
    assert [r["outcome"] for r in requests] == ["signed-in"] * 2 + ["matched"] * 6
    assert all(not r.get("deviations") for r in requests), requests
    assert "matched 6, unmatched 0" in rep.stderr
