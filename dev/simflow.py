"""A whole mail flow with the official Python SDK (msgraph-sdk), as an app makes it: for ``graphtape simulate``.

Create a draft from JSON and one from MIME, attach a 5 MB file to the first through an upload session, send it,
read it back from Sent Items (with its attachment), reply to it, forward it, then sync Sent Items with delta.
``make demo`` shows it against ``graphtape simulate``; tests/simulate/test_simulate_sdk_flow.py checks each step.
Each step's result is a small dict, so a test compares them whole.
"""

from __future__ import annotations

import hashlib
from typing import Any

import httpx

from dev.scenario import MIME_CREATE, mime_b64, send_mime

SUBJECT = "Quarterly report (simulated)"
TO = "megan@contoso.com"
FORWARD_TO = "adele@contoso.com"
ATTACHMENT_SIZE = 5 * 1024 * 1024
CHUNK = 10 * 320 * 1024  # upload chunks: a multiple of 320 KiB, as Graph asks


def attachment_bytes(size: int = ATTACHMENT_SIZE) -> bytes:
    """A deterministic file of ``size`` bytes (its SHA-256 is what the test checks on the other side)."""
    block = hashlib.sha256(b"graphtape simulate").digest() * 2048  # 64 KiB
    return (block * (size // len(block) + 1))[:size]


def upload(upload_url: str, data: bytes) -> list[dict[str, Any]]:
    """PUT ``data`` to an upload session in chunks, no Authorization header (the URL carries its token), as the
    docs say; each chunk's status and ``nextExpectedRanges``. httpx honours HTTPS_PROXY and SSL_CERT_FILE."""
    answers = []
    with httpx.Client(trust_env=True, timeout=60) as http:
        for start in range(0, len(data), CHUNK):
            chunk = data[start:start + CHUNK]
            end = start + len(chunk) - 1
            r = http.put(upload_url, content=chunk, headers={
                "Content-Range": f"bytes {start}-{end}/{len(data)}", "Content-Type": "application/octet-stream"})
            body = r.json() if r.content and "json" in r.headers.get("content-type", "") else {}
            answers.append({"status": r.status_code, "next": body.get("nextExpectedRanges")})
    return answers


async def create_drafts(client: Any) -> tuple[Any, Any]:
    from msgraph.generated.models.body_type import BodyType
    from msgraph.generated.models.email_address import EmailAddress
    from msgraph.generated.models.item_body import ItemBody
    from msgraph.generated.models.message import Message
    from msgraph.generated.models.recipient import Recipient

    draft = await client.me.messages.post(Message(
        subject=SUBJECT, body=ItemBody(content_type=BodyType.Html, content="The figures are <b>attached</b>."),
        to_recipients=[Recipient(email_address=EmailAddress(address=TO))]))
    mime = await send_mime(client, "/me/messages", mime_b64(MIME_CREATE, wrap=76), want_message=True)
    return draft, mime


async def attach_large(client: Any, message_id: str, data: bytes) -> list[dict[str, Any]]:
    from msgraph.generated.models.attachment_item import AttachmentItem
    from msgraph.generated.models.attachment_type import AttachmentType
    from msgraph.generated.users.item.messages.item.attachments.create_upload_session.create_upload_session_post_request_body import (  # noqa: E501
        CreateUploadSessionPostRequestBody,
    )

    body = CreateUploadSessionPostRequestBody(attachment_item=AttachmentItem(
        attachment_type=AttachmentType.File, name="figures.bin", size=len(data),
        content_type="application/octet-stream"))
    session = await client.me.messages.by_message_id(message_id).attachments.create_upload_session.post(body)
    return upload(session.upload_url, data)


async def reply_and_forward(client: Any, message_id: str) -> None:
    from msgraph.generated.models.email_address import EmailAddress
    from msgraph.generated.models.recipient import Recipient
    from msgraph.generated.users.item.messages.item.forward.forward_post_request_body import ForwardPostRequestBody
    from msgraph.generated.users.item.messages.item.reply.reply_post_request_body import ReplyPostRequestBody

    item = client.me.messages.by_message_id(message_id)
    await item.reply.post(ReplyPostRequestBody(comment="Thanks, noted."))
    await item.forward.post(ForwardPostRequestBody(
        comment="FYI", to_recipients=[Recipient(email_address=EmailAddress(address=FORWARD_TO))]))


async def mail_flow(client: Any) -> dict[str, Any]:
    """The whole flow; what each step gave back."""
    data = attachment_bytes()
    draft, mime = await create_drafts(client)
    chunks = await attach_large(client, draft.id, data)
    await client.me.messages.by_message_id(draft.id).send.post()
    sent_folder = client.me.mail_folders.by_mail_folder_id("sentitems")
    listed = await sent_folder.messages.get()
    sent = next(m for m in listed.value if m.subject == SUBJECT)
    attachments = await client.me.messages.by_message_id(sent.id).attachments.get()
    await reply_and_forward(client, sent.id)
    delta = await sent_folder.messages.delta.get()
    return {
        "draft": {"subject": draft.subject, "is_draft": draft.is_draft, "id_set": bool(draft.id)},
        "mime": {"subject": mime.subject, "from": mime.from_.email_address.address if mime.from_ else None},
        "chunks": chunks,
        "sent": {"subject": sent.subject, "is_draft": sent.is_draft, "to": [r.email_address.address
                                                                             for r in sent.to_recipients or []]},
        "attachments": [(a.name, a.size) for a in attachments.value or []],
        "delta": {"subjects": sorted(m.subject or "" for m in delta.value or []),
                  "delta_link": bool(delta.odata_delta_link) or bool(delta.odata_next_link)},
    }
