"""Writing messages: create (JSON or MIME), PATCH, PUT ``$value``, send, sendMail, move, copy, delete; and the
delivery of a sent message to each recipient whose mailbox is simulated.

As Graph does (outlook-immutable-id, message-send): a draft sent moves to Sent Items and gets a new id there
unless it was created with ``Prefer: IdType="ImmutableId"``; the old id then answers 404 ``ErrorItemNotFound``.
Sending a message that is not a draft is that same 404 (as reported from the field: "The specified object was not
found in the store."). A DELETE moves the message to Deleted Items (a new id), one there is deleted for good.
"""

from __future__ import annotations

import copy
from typing import Any

from graphtape.model import HttpResponse
from graphtape.simulate.answers import GraphError, bad_request, empty, json_answer
from graphtape.simulate.attachments import add_attachment
from graphtape.simulate.call import Call, not_a_draft, resource_answer
from graphtape.simulate.mentions import add_mentions
from graphtape.simulate.payload import is_mime, json_object, message_fields, mime_fields, param
from graphtape.simulate.resources import apply_patch, new_message, recipient, touch, web_link
from graphtape.simulate.store import DELETED, DRAFTS, INBOX, SENT, Stored

# What a PATCH may change on a message that is no longer a draft (message-update: the rest "only if isDraft").
ALWAYS_WRITABLE = frozenset({"isRead", "categories", "flag", "importance", "inferenceClassification",
                             "isDeliveryReceiptRequested", "isReadReceiptRequested", "@odata.type"})


def store_draft(call: Call, fields: dict[str, Any], attachments: list[dict[str, Any]], folder_id: str,
                conversation: tuple[str, str] | None = None, immutable: bool | None = None,
                direct: bool = True) -> Stored:
    """A new draft in ``folder_id`` made of the client's fields (and attachments)."""
    state = call.state
    doc, hidden = new_message(fields, ids=state.ids, clock=state.clock, folder_id=folder_id, version=call.version,
                              domain=call.domain, conversation=conversation)
    if call.version == "beta" and isinstance(fields.get("mentions"), list):
        add_mentions(call, doc, fields["mentions"])
    stored = Stored(doc, folder_id, immutable=call.immutable if immutable is None else immutable, hidden=hidden)
    call.box.put(stored)
    for attachment in attachments:
        add_attachment(call, stored, attachment, direct=direct)
    return stored


def create(call: Call) -> HttpResponse:
    """POST /messages or /mailFolders/{id}/messages: 201 with the new draft."""
    fields, attachments, _ = message_fields(call.req, action=False)
    attachments += [a for a in fields.pop("attachments", None) or [] if isinstance(a, dict)]
    folder = call.folder or call.box.well_known(DRAFTS)
    stored = store_draft(call, fields, attachments, folder.id)
    return json_answer(201, resource_answer(call, stored))


def patch(call: Call, stored: Stored) -> HttpResponse:
    fields = json_object(call.req)
    if not stored.doc["isDraft"]:
        refused = sorted(k for k in fields if k not in ALWAYS_WRITABLE)
        if refused:
            raise not_a_draft(", ".join(refused))
    hidden = {k: fields.pop(k) for k in list(fields) if k == "internetMessageHeaders"}
    apply_patch(stored.doc, fields, ids=call.state.ids, clock=call.state.clock)
    stored.hidden.update(hidden)
    call.box.touched(stored)
    return json_answer(200, resource_answer(call, stored))


def put_value(call: Call, stored: Stored) -> HttpResponse:
    """PUT $value: the draft's content replaced by the MIME body's (204)."""
    if not stored.doc["isDraft"]:
        raise not_a_draft("The MIME content")
    fields, attachments = mime_fields(call.req)
    apply_patch(stored.doc, {k: v for k, v in fields.items() if k != "sentDateTime"}, ids=call.state.ids,
                clock=call.state.clock)
    for attachment in attachments:
        add_attachment(call, stored, attachment)
    call.box.touched(stored)
    return empty(204)


def _recipients(doc: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for name in ("toRecipients", "ccRecipients", "bccRecipients"):
        for r in doc.get(name) or []:
            address = str((r.get("emailAddress") or {}).get("address") or "") if isinstance(r, dict) else ""
            if address and address.lower() not in (a.lower() for a in found):
                found.append(address)
    return found


def deliver(call: Call, sent: Stored) -> None:
    """A copy of a sent message in the Inbox of each recipient whose mailbox is simulated (unread, no Bcc)."""
    for address in _recipients(sent.doc):
        box = call.state.store.by_address(address)
        if box is None:
            continue
        doc = copy.deepcopy(sent.doc)
        inbox = box.well_known(INBOX)
        new_id = call.state.ids.message()
        doc.update(id=new_id, isRead=False, isDraft=False, bccRecipients=[], parentFolderId=inbox.id)
        doc["webLink"] = web_link(new_id)
        copy_of = Stored(doc, inbox.id, attachments=copy.deepcopy(sent.attachments))
        box.put(copy_of)


def _mark_sent(call: Call, stored: Stored) -> None:
    now = call.state.clock.iso()
    doc = stored.doc
    doc.update(isDraft=False, sentDateTime=now, receivedDateTime=now)
    if not doc.get("from"):
        doc["from"] = recipient({"emailAddress": call.box.address})
    if not doc.get("sender"):
        doc["sender"] = copy.deepcopy(doc["from"])
    touch(doc, ids=call.state.ids, clock=call.state.clock)


def send_stored(call: Call, stored: Stored) -> None:
    if not stored.doc["isDraft"]:
        raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")
    if not _recipients(stored.doc):
        raise bad_request("At least one recipient isn't valid: the message has no recipients.",
                          "ErrorInvalidRecipients")
    _mark_sent(call, stored)
    deliver(call, stored)
    new_id = None if stored.immutable else call.state.ids.message()
    call.box.move(stored, call.box.well_known(SENT).id, new_id)


def send(call: Call, stored: Stored) -> HttpResponse:
    send_stored(call, stored)
    return empty(202)


def send_mail(call: Call) -> HttpResponse:
    """sendMail (JSON or MIME): 202; a copy in Sent Items unless saveToSentItems is false; delivered."""
    fields, attachments, params = message_fields(call.req, action=True)
    save = True if is_mime(call.req) else param(params, "saveToSentItems", True)
    if isinstance(save, str):
        save = save.lower() != "false"  # OData reads "false" as Edm.Boolean false
    drafts = call.box.well_known(DRAFTS)
    stored = store_draft(call, fields, attachments, drafts.id, immutable=True)
    send_stored(call, stored)
    if save is False:
        call.box.remove(stored)
    return empty(202)


def move(call: Call, stored: Stored, *, keep: bool) -> HttpResponse:
    """move (keep False: the original leaves its folder) or copy: 201 with the message where it is now."""
    destination = param(json_object(call.req), "destinationId")
    if not isinstance(destination, str) or not destination:
        raise bad_request("The destinationId parameter is required.", "ErrorInvalidRequest")
    folder = call.folder_named(destination)
    if keep:
        doc = copy.deepcopy(stored.doc)
        doc["id"] = call.state.ids.message()
        moved = call.box.put(Stored(doc, folder.id, copy.deepcopy(stored.attachments), hidden=dict(stored.hidden)))
    else:
        new_id = None if stored.immutable else call.state.ids.message()
        moved = call.box.move(stored, folder.id, new_id)
    touch(moved.doc, ids=call.state.ids, clock=call.state.clock)
    return json_answer(201, resource_answer(call, moved))


def delete(call: Call, stored: Stored, *, permanent: bool = False) -> HttpResponse:
    deleted = call.box.well_known(DELETED)
    if permanent or stored.folder_id == deleted.id:
        call.box.remove(stored)
    else:
        call.box.move(stored, deleted.id, None if stored.immutable else call.state.ids.message())
    return empty(204)
