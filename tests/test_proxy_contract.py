"""The Graph mail contract through the real proxy: enforcement in replay, no false positives on the SDK."""

from __future__ import annotations

import base64
import json

import httpx
import yaml
from dev.scenario import MIME_SEND, mime_b64

from conftest import SEEDS, sdk_call
from test_cli import graphtape

SENDMAIL = "https://graph.microsoft.com/v1.0/me/sendMail"


def _post_mime(p, body: bytes) -> httpx.Response:
    with httpx.Client(proxy=p.url, verify=str(p.ca)) as c:
        return c.post(SENDMAIL, content=body, headers={"Content-Type": "text/plain"})


def test_malformed_base64_gets_graphs_documented_400_and_keeps_the_interaction(proxy, seed):
    p = proxy("replay", str(seed("sendmail-mime")))
    bad = _post_mime(p, mime_b64(MIME_SEND)[:-3] + b"!!!")
    assert bad.status_code == 400
    assert bad.json() == {"error": {"code": "ErrorMimeContentInvalidBase64String",
                                    "message": "Invalid base64 string for MIME content."}}
    good = _post_mime(p, mime_b64(MIME_SEND))
    assert good.status_code == 202  # the recorded interaction was still there
    p.stop()
    assert "matched 1, unmatched 0, exhausted 0, rejected by contract 1, unused interactions 0" in p.stderr


def test_oversized_mime_gets_413_and_keeps_the_interaction(proxy, seed):
    p = proxy("replay", str(seed("sendmail-mime")))
    big = MIME_SEND + "\n" + ("x" * 75 + "\n") * 60_000  # ~4.5 MB once base64-encoded
    r = _post_mime(p, base64.encodebytes(big.encode("latin-1")))
    assert r.status_code == 413
    assert _post_mime(p, mime_b64(MIME_SEND)).status_code == 202


def test_a_schema_error_gets_a_400_in_graphs_shape_naming_the_rule(proxy, seed):
    p = proxy("replay", str(seed("create-draft-mention")))
    with httpx.Client(proxy=p.url, verify=str(p.ca)) as c:
        r = c.post("https://graph.microsoft.com/beta/me/messages", json={
            "subject": "Party planning", "importance": "urgent",
            "toRecipients": [{"emailAddress": {"address": "SamanthaB@contoso.com"}}],
            "mentions": [{"mentionText": "Dana"}]})
    assert r.status_code == 400 and r.headers["x-graphtape"] == "contract-error"
    message = r.json()["error"]["message"]
    assert "mention.mentioned-required" in message and "/mentions/0" in message
    assert "schema.enum" in message and "/importance" in message


def test_report_policy_serves_a_bad_request_and_reports_it(tmp_path, proxy, seed):
    report = tmp_path / "r.json"
    p = proxy("replay", str(seed("sendmail-mime")), "--policy", "report", "--report", str(report))
    assert _post_mime(p, b"bm90IGEgbWltZSBtZXNzYWdl").status_code == 202  # base64 of "not a mime message"
    p.stop()
    doc = json.loads(report.read_text())
    assert doc["summary"]["contract_errors"] >= 1
    assert {f["rule"] for f in doc["requests"][0]["findings"]} & {"mime.not-rfc5322", "mime.no-recipient"}


async def _everyday_mail(client):
    """Drafts, sendMail (JSON and MIME), replies, forwards, attachments: as the SDK sends them."""
    from dev.scenario import send_mime
    from msgraph.generated.models.attachment import Attachment
    from msgraph.generated.models.body_type import BodyType
    from msgraph.generated.models.email_address import EmailAddress
    from msgraph.generated.models.file_attachment import FileAttachment
    from msgraph.generated.models.importance import Importance
    from msgraph.generated.models.item_body import ItemBody
    from msgraph.generated.models.message import Message
    from msgraph.generated.models.recipient import Recipient
    from msgraph.generated.users.item.messages.item.create_forward.create_forward_post_request_body import (
        CreateForwardPostRequestBody,
    )
    from msgraph.generated.users.item.messages.item.create_reply.create_reply_post_request_body import (
        CreateReplyPostRequestBody,
    )
    from msgraph.generated.users.item.messages.item.forward.forward_post_request_body import ForwardPostRequestBody
    from msgraph.generated.users.item.messages.item.reply.reply_post_request_body import ReplyPostRequestBody
    from msgraph.generated.users.item.send_mail.send_mail_post_request_body import SendMailPostRequestBody

    def rcpt(a: str) -> Recipient:
        return Recipient(email_address=EmailAddress(address=a, name="Megan Bowen"))

    attachment: Attachment = FileAttachment(odata_type="#microsoft.graph.fileAttachment", name="report.txt",
                                            content_type="text/plain", content_bytes=b"quarterly numbers")
    msg = Message(subject="Report", importance=Importance.High,
                  body=ItemBody(content_type=BodyType.Html, content="<p>See attached</p>"),
                  to_recipients=[rcpt("megan@contoso.com")], cc_recipients=[rcpt("alex@contoso.com")],
                  attachments=[attachment])
    draft = await client.me.messages.post(msg)
    item = client.me.messages.by_message_id(draft.id)
    await item.attachments.post(FileAttachment(odata_type="#microsoft.graph.fileAttachment", name="more.txt",
                                               content_bytes=b"more"))
    await item.send.post()
    # Sent, the draft lives on in Sent Items under a new id (Graph's, and the stand-in's): the replies go to that one.
    sent = await client.me.mail_folders.by_mail_folder_id("sentitems").messages.get()
    assert sent is not None and sent.value and sent.value[0].subject == "Report"
    item = client.me.messages.by_message_id(sent.value[0].id)
    await client.me.send_mail.post(SendMailPostRequestBody(message=msg, save_to_sent_items=False))
    await client.me.send_mail.post(SendMailPostRequestBody(message=Message(subject="no save flag",
                                                                           to_recipients=[rcpt("a@contoso.com")])))
    await send_mime(client, "/me/sendMail", mime_b64(MIME_SEND), want_message=False)
    await item.create_reply.post(CreateReplyPostRequestBody(comment="Thanks!"))
    await item.reply.post(ReplyPostRequestBody(comment="Thanks!"))
    await item.create_forward.post(CreateForwardPostRequestBody(comment="FYI", to_recipients=[rcpt("b@contoso.com")]))
    await item.forward.post(ForwardPostRequestBody(comment="FYI", to_recipients=[rcpt("b@contoso.com")]))
    await client.me.mail_folders.by_mail_folder_id("drafts").messages.post(Message(subject="in a folder"))
    return draft.id


def test_no_false_positives_on_the_official_sdk(tmp_path, proxy, fake_graph):
    report = tmp_path / "r.json"
    p = proxy("inspect", "--upstream", fake_graph.url, "--upstream-ca", str(fake_graph.cert), "--report", str(report))
    sdk_call(p, _everyday_mail)
    p.stop()
    doc = json.loads(report.read_text())
    assert doc["summary"]["requests"] == 12  # the 11 writes and the one read of Sent Items
    errors = [(r["method"], r["url"], f["rule"], f["message"]) for r in doc["requests"] for f in r["findings"]
              if f["severity"] == "error"]
    assert errors == []


def test_check_is_clean_on_the_bundled_cassettes_and_names_a_planted_bad_request(tmp_path):
    clean = graphtape("check", str(SEEDS))
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "7 cassette(s), 0 error(s)" in clean.stderr

    doc = yaml.safe_load((SEEDS / "create-draft-json.yaml").read_text())
    doc["interactions"][0]["request"]["body"]["json"]["subjct"] = "typo"
    doc["interactions"][0]["request"]["body"]["json"]["importance"] = "urgent"
    planted = tmp_path / "planted.yaml"
    planted.write_text(yaml.safe_dump(doc, sort_keys=False))
    out = graphtape("check", str(planted))
    assert out.returncode == 1
    assert f"{planted}:1: schema.enum: error:" in out.stdout and "/importance" in out.stdout
    assert f"{planted}:1: property.undeclared: error:" in out.stdout and "'subject'" in out.stdout  # issue 14
