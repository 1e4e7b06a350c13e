"""Request bodies built the way real clients build them: msgraph-sdk's models with every settable property,
serialized by kiota's JSON writer, and MIME built with Python's ``email`` package.

"Every settable property" means every field of the model except the kiota plumbing (backing_store,
additional_data), the properties only the server sets (overlay.yaml read_only; Graph ignores or refuses them
and graphtape warns), and, for mailFolder, the navigation collections no client creates inline (messages,
messageRules, childFolders). ``unset_fields`` lets a test check that claim model by model.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import re
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

from kiota_abstractions.serialization import Parsable
from kiota_serialization_json.json_serialization_writer import JsonSerializationWriter
from msgraph.generated.models.attachment_item import AttachmentItem
from msgraph.generated.models.attachment_type import AttachmentType
from msgraph.generated.models.body_type import BodyType
from msgraph.generated.models.date_time_time_zone import DateTimeTimeZone
from msgraph.generated.models.email_address import EmailAddress
from msgraph.generated.models.file_attachment import FileAttachment
from msgraph.generated.models.followup_flag import FollowupFlag
from msgraph.generated.models.followup_flag_status import FollowupFlagStatus
from msgraph.generated.models.importance import Importance
from msgraph.generated.models.inference_classification_type import InferenceClassificationType
from msgraph.generated.models.internet_message_header import InternetMessageHeader
from msgraph.generated.models.item_attachment import ItemAttachment
from msgraph.generated.models.item_body import ItemBody
from msgraph.generated.models.mail_folder import MailFolder
from msgraph.generated.models.message import Message
from msgraph.generated.models.multi_value_legacy_extended_property import MultiValueLegacyExtendedProperty
from msgraph.generated.models.open_type_extension import OpenTypeExtension
from msgraph.generated.models.recipient import Recipient
from msgraph.generated.models.reference_attachment import ReferenceAttachment
from msgraph.generated.models.single_value_legacy_extended_property import SingleValueLegacyExtendedProperty
from msgraph.generated.users.item.mail_folders.item.move.move_post_request_body import (
    MovePostRequestBody as FolderMoveBody,
)
from msgraph.generated.users.item.messages.item.attachments.create_upload_session.create_upload_session_post_request_body import (  # noqa: E501
    CreateUploadSessionPostRequestBody,
)
from msgraph.generated.users.item.messages.item.copy.copy_post_request_body import CopyPostRequestBody
from msgraph.generated.users.item.messages.item.create_forward.create_forward_post_request_body import (
    CreateForwardPostRequestBody,
)
from msgraph.generated.users.item.messages.item.create_reply.create_reply_post_request_body import (
    CreateReplyPostRequestBody,
)
from msgraph.generated.users.item.messages.item.create_reply_all.create_reply_all_post_request_body import (
    CreateReplyAllPostRequestBody,
)
from msgraph.generated.users.item.messages.item.forward.forward_post_request_body import ForwardPostRequestBody
from msgraph.generated.users.item.messages.item.move.move_post_request_body import MovePostRequestBody
from msgraph.generated.users.item.messages.item.reply.reply_post_request_body import ReplyPostRequestBody
from msgraph.generated.users.item.messages.item.reply_all.reply_all_post_request_body import ReplyAllPostRequestBody
from msgraph.generated.users.item.send_mail.send_mail_post_request_body import SendMailPostRequestBody

from graphtape.contract.build import overlay

WHEN = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
PLUMBING = {"backing_store", "additional_data", "odata_type"}
NOT_CREATED_INLINE = {"MailFolder": {"child_folders", "messages", "message_rules"}}
GUID = "66f5a359-4659-4830-9070-00047ec6ac6e"


def snake(name: str) -> str:
    """A Graph property name as kiota's Python models spell it (``from`` -> ``from_``)."""
    out = re.sub(r"([A-Z])", r"_\1", name).lower()
    return out + "_" if out in ("from",) else out


READ_ONLY = {snake(p) for props in overlay()["read_only"].values() for p in props}


def unset_fields(model: Parsable) -> list[str]:
    """The settable fields of ``model`` left None (see the module docstring for what is settable)."""
    skip = PLUMBING | READ_ONLY | NOT_CREATED_INLINE.get(type(model).__name__, set())
    return [f.name for f in dataclasses.fields(model) if f.name not in skip and getattr(model, f.name) is None]


def serialize(model: Parsable) -> bytes:
    writer = JsonSerializationWriter()
    writer.write_object_value(None, model)
    return bytes(writer.get_serialized_content())


def recipient(address: str, name: str = "") -> Recipient:
    return Recipient(email_address=EmailAddress(address=address, name=name or address.split("@")[0]))


def zone(hour: int) -> DateTimeTimeZone:
    return DateTimeTimeZone(date_time=f"2026-12-0{hour % 9 + 1}T{hour:02d}:00:00.0000000", time_zone="UTC")


def file_attachment() -> FileAttachment:
    return FileAttachment(content_type="text/plain", is_inline=False, last_modified_date_time=WHEN, name="notes.txt",
                          size=5, content_bytes=b"hello", content_id="notes@contoso", content_location="notes.txt")


def reference_attachment() -> ReferenceAttachment:
    return ReferenceAttachment(content_type="application/pdf", is_inline=False, last_modified_date_time=WHEN,
                               name="plan.pdf", size=1024)


def item_attachment(depth: int = 1) -> ItemAttachment:
    return ItemAttachment(content_type="message/rfc822", is_inline=False, last_modified_date_time=WHEN,
                          name="earlier mail", size=2048, item=message(depth - 1, with_attachments=False))


def extended_properties() -> tuple[list[SingleValueLegacyExtendedProperty], list[MultiValueLegacyExtendedProperty]]:
    single = [SingleValueLegacyExtendedProperty(id=f"String {{{GUID}}} Name Color", value="Green"),
              SingleValueLegacyExtendedProperty(id="String 0x4001", value="x"),
              SingleValueLegacyExtendedProperty(id="Integer {00062008-0000-0000-C000-000000000046} Id 0x8503",
                                                value="1")]
    multi = [MultiValueLegacyExtendedProperty(id=f"StringArray {{{GUID}}} Name Palette", value=["Green", "Yellow"])]
    return single, multi


def message(depth: int = 1, *, with_attachments: bool = True, body: bool = True,
            to: bool = True) -> Message:
    """A message with every settable property (one level of item attachment inside)."""
    single, multi = extended_properties()
    attachments: list[Any] = [file_attachment(), reference_attachment()]
    if depth > 0:
        attachments.append(item_attachment(depth))
    return Message(
        categories=["Blue category"],
        attachments=attachments if with_attachments else [],
        bcc_recipients=[recipient("patti@contoso.com")],
        body=ItemBody(content_type=BodyType.Html, content="<p>Lunch?</p>") if body else None,
        cc_recipients=[recipient("danas@contoso.com", "Dana Swope")],
        extensions=[OpenTypeExtension(extension_name="Com.Contoso.Referral", additional_data={"referralId": 42})],
        flag=FollowupFlag(completed_date_time=zone(3), due_date_time=zone(2), start_date_time=zone(1),
                          flag_status=FollowupFlagStatus.Flagged),
        from_=recipient("alexw@contoso.com", "Alex Wilber"),
        importance=Importance.High,
        inference_classification=InferenceClassificationType.Focused,
        internet_message_headers=[InternetMessageHeader(name="x-custom-header-group-name", value="Nevada"),
                                  InternetMessageHeader(name="x-custom-header-group-id", value="NV001")],
        internet_message_id="<lunch@contoso.com>",
        is_delivery_receipt_requested=True,
        is_read=False,
        is_read_receipt_requested=True,
        multi_value_extended_properties=multi,
        reply_to=[recipient("alexw@contoso.com")],
        sender=recipient("alexw@contoso.com", "Alex Wilber"),
        single_value_extended_properties=single,
        subject="Lunch?",
        to_recipients=[recipient("megan@contoso.com", "Megan Bowen")] if to else None,
    )


def mail_folder() -> MailFolder:
    single, multi = extended_properties()
    return MailFolder(display_name="Reports", is_hidden=False, single_value_extended_properties=single,
                      multi_value_extended_properties=multi)


def _mime(*, to: bool = True, subject: str = "Lunch?", attach: bool = False) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Alex Wilber <alexw@contoso.com>"
    if to:
        msg["To"] = "Megan Bowen <megan@contoso.com>"
        msg["Cc"] = "danas@contoso.com"
    msg["Subject"] = subject
    msg.set_content("Noon at the cafeteria?")
    msg.add_alternative("<p>Noon at the <b>cafeteria</b>?</p>", subtype="html")
    if attach:
        msg.add_attachment(b"\x00\x01binary", maintype="application", subtype="octet-stream", filename="a.bin")
    return base64.encodebytes(msg.as_bytes())


M = "/v1.0/me/messages/AAMkAGI2THVSAAA%3D"
# (id, method, path, a function building the body (bytes) and its content type)
Body = Callable[[], tuple[bytes, str]]


def _json(build: Callable[[], Parsable]) -> Body:
    return lambda: (serialize(build()), "application/json")


def _text(build: Callable[[], bytes]) -> Body:
    return lambda: (build(), "text/plain")


VALID: list[tuple[str, str, str, Body]] = [
    ("sdk-create-message", "POST", "/v1.0/me/messages", _json(message)),
    ("sdk-create-message-beta", "POST", "/beta/me/messages", _json(message)),
    ("sdk-create-in-child-folder", "POST", "/v1.0/me/mailFolders/inbox/childFolders/AAMk%3D/messages",
     _json(message)),
    ("sdk-update-message", "PATCH", M, _json(message)),
    ("sdk-send-mail", "POST", "/v1.0/me/sendMail",
     _json(lambda: SendMailPostRequestBody(message=message(), save_to_sent_items=False))),
    ("sdk-send-mail-user", "POST", "/v1.0/users/alexw%40contoso.com/sendMail",
     _json(lambda: SendMailPostRequestBody(message=message(), save_to_sent_items=True))),
    ("sdk-reply-comment", "POST", f"{M}/reply",
     _json(lambda: ReplyPostRequestBody(comment="Noon works", message=message(body=False)))),
    ("sdk-reply-all-body", "POST", f"{M}/replyAll", _json(lambda: ReplyAllPostRequestBody(message=message()))),
    ("sdk-create-reply", "POST", f"{M}/createReply",
     _json(lambda: CreateReplyPostRequestBody(comment="Noon works", message=message(body=False)))),
    ("sdk-create-reply-all", "POST", f"{M}/createReplyAll",
     _json(lambda: CreateReplyAllPostRequestBody(message=message()))),
    ("sdk-forward", "POST", f"{M}/forward",
     _json(lambda: ForwardPostRequestBody(comment="FYI", to_recipients=[recipient("lynne@contoso.com")],
                                          message=message(body=False, to=False)))),
    ("sdk-create-forward", "POST", f"{M}/createForward",
     _json(lambda: CreateForwardPostRequestBody(comment="FYI", to_recipients=[recipient("lynne@contoso.com")],
                                                message=message(body=False, to=False)))),
    ("sdk-file-attachment", "POST", f"{M}/attachments", _json(file_attachment)),
    ("sdk-item-attachment", "POST", f"{M}/attachments", _json(item_attachment)),
    ("sdk-reference-attachment", "POST", f"{M}/attachments", _json(reference_attachment)),
    ("sdk-upload-session", "POST", f"{M}/attachments/createUploadSession",
     _json(lambda: CreateUploadSessionPostRequestBody(attachment_item=AttachmentItem(
         attachment_type=AttachmentType.File, content_id="big@contoso", content_type="application/zip",
         is_inline=False, name="big.zip", size=5_000_000)))),
    ("sdk-move", "POST", f"{M}/move", _json(lambda: MovePostRequestBody(destination_id="deleteditems"))),
    ("sdk-copy", "POST", f"{M}/copy", _json(lambda: CopyPostRequestBody(destination_id="AAMkFolder="))),
    ("sdk-open-extension", "POST", f"{M}/extensions",
     _json(lambda: OpenTypeExtension(extension_name="Com.Contoso.Referral",
                                     additional_data={"companyName": "Wingtip Toys", "dealValue": 500050}))),
    ("sdk-create-mail-folder", "POST", "/v1.0/me/mailFolders", _json(mail_folder)),
    ("sdk-create-child-folder", "POST", "/v1.0/me/mailFolders/inbox/childFolders", _json(mail_folder)),
    ("sdk-update-mail-folder", "PATCH", "/v1.0/me/mailFolders/AAMkFolder%3D", _json(mail_folder)),
    ("sdk-move-mail-folder", "POST", "/v1.0/me/mailFolders/AAMkFolder%3D/move",
     _json(lambda: FolderMoveBody(destination_id="archive"))),
    ("mime-send-mail", "POST", "/v1.0/me/sendMail", _text(lambda: _mime(attach=True))),
    ("mime-create-draft", "POST", "/v1.0/me/messages", _text(lambda: _mime(to=False))),
    ("mime-reply-without-to", "POST", f"{M}/reply", _text(lambda: _mime(to=False, subject="RE: Lunch?"))),
    ("mime-reply-all-without-to", "POST", f"{M}/replyAll", _text(lambda: _mime(to=False, subject="RE: Lunch?"))),
    ("mime-forward", "POST", f"{M}/forward", _text(lambda: _mime(subject="FW: Lunch?"))),
    ("mime-create-reply", "POST", f"{M}/createReply", _text(lambda: _mime(to=False))),
    ("mime-put-value", "PUT", f"{M}/$value", _text(lambda: _mime(to=False))),
]
