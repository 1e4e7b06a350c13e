"""Record through the real proxy against a local HTTPS stand-in, then replay offline: real SDK, real TLS."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from dev.scenario import MIME_SEND, mime_b64, send_mime

from conftest import TOKEN, sdk_call
from graphtape.cassette.format import load_cassette


async def _draft_and_send(client):
    from msgraph.generated.models.body_type import BodyType
    from msgraph.generated.models.email_address import EmailAddress
    from msgraph.generated.models.item_body import ItemBody
    from msgraph.generated.models.message import Message
    from msgraph.generated.models.recipient import Recipient
    from msgraph.generated.users.item.send_mail.send_mail_post_request_body import SendMailPostRequestBody

    msg = Message(subject="Quarterly report", body=ItemBody(content_type=BodyType.Text, content="Attached."),
                  to_recipients=[Recipient(email_address=EmailAddress(address="megan@contoso.com"))])
    draft = await client.me.messages.post(msg)
    await client.me.messages.by_message_id(draft.id).send.post()
    await client.me.send_mail.post(SendMailPostRequestBody(message=msg, save_to_sent_items=True))
    await send_mime(client, "/me/sendMail", mime_b64(MIME_SEND), want_message=False)
    return draft.id, draft.subject, draft.to_recipients[0].email_address.address


def test_record_with_sdk_then_replay_offline_gives_the_same_results(tmp_path: Path, proxy, fake_graph):
    cassette = tmp_path / "send-report.yaml"
    rec = proxy("record", str(cassette), "--upstream", fake_graph.url, "--upstream-ca", str(fake_graph.cert))
    recorded = sdk_call(rec, _draft_and_send)
    assert rec.stop() == 0, rec.output
    assert len(fake_graph.state.received) == 4
    # The upstream saw the client's real token; the cassette never does.
    assert fake_graph.state.received[0].headers["authorization"] == f"Bearer {TOKEN}"
    fake_graph.stop()

    loaded = load_cassette(cassette)
    assert [i.request.method + " " + i.request.url for i in loaded.interactions] == [
        "POST https://graph.microsoft.com/v1.0/me/messages",
        f"POST https://graph.microsoft.com/v1.0/me/messages/{recorded[0].replace('=', '%3D')}/send",
        "POST https://graph.microsoft.com/v1.0/me/sendMail",
        "POST https://graph.microsoft.com/v1.0/me/sendMail",
    ]
    text = cassette.read_text()
    assert TOKEN not in text and "Bearer" not in text
    assert "<redacted>" in text
    assert "mime: |" in text and "Subject: Internal Resume Submission" in text  # MIME stored decoded

    rep = proxy("replay", str(cassette))
    replayed = sdk_call(rep, _draft_and_send)
    assert replayed == recorded
    assert rep.stop() == 0
    assert "matched 4, unmatched 0" in rep.stderr


def test_concurrent_requests_are_all_recorded(tmp_path: Path, proxy, fake_graph):
    import concurrent.futures

    cassette = tmp_path / "parallel.yaml"
    rec = proxy("record", str(cassette), "--upstream", fake_graph.url, "--upstream-ca", str(fake_graph.cert),
                "--quiet")

    def post(i: int) -> int:
        with httpx.Client(proxy=rec.url, verify=str(rec.ca)) as c:
            r = c.post("https://graph.microsoft.com/v1.0/me/messages", json={"subject": f"m{i}"})
            return r.status_code

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(post, range(16)))
    assert statuses == [201] * 16
    rec.stop()
    subjects = sorted(json.loads(i.request.body)["subject"] for i in load_cassette(cassette).interactions)
    assert subjects == sorted(f"m{i}" for i in range(16))


def test_token_in_a_response_body_is_refused_not_written(tmp_path: Path, proxy, fake_graph):
    cassette = tmp_path / "leak.yaml"
    fake_graph.state.canned.append((201, {"id": "x", "note": f"debug token {TOKEN}"}))
    rec = proxy("record", str(cassette), "--upstream", fake_graph.url, "--upstream-ca", str(fake_graph.cert))
    with httpx.Client(proxy=rec.url, verify=str(rec.ca)) as c:
        r = c.post("https://graph.microsoft.com/v1.0/me/messages", json={"subject": "x"})
        assert r.status_code == 201  # the client still gets its answer
        r2 = c.post("https://graph.microsoft.com/v1.0/me/messages", json={"subject": "clean"})
        assert r2.status_code == 201
    assert rec.stop() == 1  # a session that refused to write something fails
    text = cassette.read_text()
    assert TOKEN not in text
    assert [json.loads(i.request.body)["subject"] for i in load_cassette(cassette).interactions] == ["clean"]
    assert "looks like a token" in rec.output and "response.body.json.note" in rec.output
    assert TOKEN not in rec.output  # nor in the log


def test_upload_url_authtoken_is_redacted(tmp_path: Path, proxy, fake_graph):
    cassette = tmp_path / "upload.yaml"
    upload = f"https://outlook.office.com/api/gv1.0/users('a')/messages('b')/AttachmentSessions('c')?authtoken={TOKEN}"
    fake_graph.state.canned.append((201, {"uploadUrl": upload, "expirationDateTime": "2026-11-22T00:00:00Z"}))
    rec = proxy("record", str(cassette), "--upstream", fake_graph.url, "--upstream-ca", str(fake_graph.cert))
    with httpx.Client(proxy=rec.url, verify=str(rec.ca)) as c:
        url = "https://graph.microsoft.com/v1.0/me/messages/AAMk%3D/attachments/createUploadSession"
        body = {"AttachmentItem": {"attachmentType": "file", "name": "big.pdf", "size": 5_000_000}}
        r = c.post(url, json=body)
    assert r.json()["uploadUrl"] == upload  # the client got the real one
    assert rec.stop() == 0
    text = cassette.read_text()
    assert TOKEN not in text and "authtoken=<redacted>" in text


def test_gzip_response_is_stored_decoded_and_replayed(tmp_path: Path, proxy):
    import gzip

    from graphtape.cassette.format import save_cassette
    from graphtape.model import HttpRequest, HttpResponse, Interaction

    doc = {"value": [{"id": "1", "subject": "hello"}]}
    cassette = tmp_path / "gz.yaml"
    save_cassette(cassette, [Interaction(
        HttpRequest("GET", "https://graph.microsoft.com/v1.0/me/messages?$select=subject,id&$top=1"),
        HttpResponse(200, "OK", [("Content-Type", "application/json"), ("Content-Encoding", "gzip")],
                     json.dumps(doc).encode()))])
    assert "subject: hello" in cassette.read_text()
    rep = proxy("replay", str(cassette))
    url = "https://graph.microsoft.com/v1.0//me/messages"
    params = {"$top": "1", "$select": "subject,id"}
    with httpx.Client(proxy=rep.url, verify=str(rep.ca), params=params) as c, c.stream("GET", url) as r:
        raw = b"".join(r.iter_raw())
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    assert raw[:2] == b"\x1f\x8b"  # gzip on the wire, as the recording says
    assert json.loads(gzip.decompress(raw)) == doc
