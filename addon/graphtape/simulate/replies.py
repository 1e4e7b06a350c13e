"""Replies and forwards: ``createReply`` / ``createReplyAll`` / ``createForward`` (201, a new draft in Drafts) and
``reply`` / ``replyAll`` / ``forward`` (202, that draft sent at once).

The draft is in the original's conversation (its ``conversationId``, a longer ``conversationIndex``), its subject
``RE: ...`` or ``FW: ...``, its recipients the original's sender (reply), sender and other recipients less the
mailbox itself (replyAll), or those given (forward: ``toRecipients`` or ``message.toRecipients``); the
``comment`` comes first in its body, above the original's; a forward carries the original's attachments.
Fields of the ``message`` parameter override what the simulator fills in. MIME bodies are accepted too.
"""

from __future__ import annotations

import base64
import copy
import html
from typing import Any

from graphtape.model import HttpResponse
from graphtape.simulate.answers import empty, json_answer
from graphtape.simulate.call import Call, resource_answer
from graphtape.simulate.payload import message_fields, param
from graphtape.simulate.resources import recipient
from graphtape.simulate.store import DRAFTS, Stored
from graphtape.simulate.writes import send_stored, store_draft

KINDS = {"createreply": "reply", "createreplyall": "replyAll", "createforward": "forward",
         "reply": "reply", "replyall": "replyAll", "forward": "forward"}


def _prefix(subject: str, prefix: str) -> str:
    return subject if subject.lower().startswith(prefix.lower()) else f"{prefix} {subject}"


def _reply_to(call: Call, original: dict[str, Any], everyone: bool) -> list[dict[str, Any]]:
    first = original.get("replyTo") or [original.get("from") or original.get("sender")]
    found = [recipient(r) for r in first if isinstance(r, dict)]
    if everyone:
        found += [recipient(r) for r in (original.get("toRecipients") or []) + (original.get("ccRecipients") or [])]
    own = call.box.user_principal_name.lower()
    seen: set[str] = set()
    out = []
    for r in found:
        address = str(r.get("emailAddress", {}).get("address", "")).lower()
        if address and address not in seen and (address != own or not everyone):
            seen.add(address)
            out.append(r)
    return out


def _body(comment: Any, original: dict[str, Any]) -> dict[str, str]:
    quoted = original.get("body") or {}
    content = str(quoted.get("content") or "")
    if str(quoted.get("contentType")) != "html":
        content = html.escape(content).replace("\n", "<br>")
    text = html.escape(str(comment)) if isinstance(comment, str) else ""
    return {"contentType": "html", "content": f"{text}<hr>{content}"}


def _conversation(call: Call, original: dict[str, Any]) -> tuple[str, str]:
    index = str(original.get("conversationIndex") or "")
    try:
        longer = base64.b64encode(base64.b64decode(index) + call.state.ids.hexname("child").encode()[:5]).decode()
    except ValueError:
        longer = call.state.ids.conversation_index()
    return str(original.get("conversationId") or call.state.ids.conversation()), longer


def draft_of(call: Call, original: Stored, kind: str) -> Stored:
    """The reply or forward draft, in Drafts."""
    fields, attachments, params = message_fields(call.req, action=True)
    doc = original.doc
    made: dict[str, Any] = {"subject": _prefix(str(doc.get("subject") or ""), "FW:" if kind == "forward" else "RE:"),
                            "body": _body(param(params, "comment"), doc), "importance": doc.get("importance")}
    if kind == "forward":
        made["toRecipients"] = param(params, "toRecipients") or []
        attachments = [copy.deepcopy(a) for a in original.attachments.values()] + attachments
        for a in attachments:
            a.pop("id", None)
    else:
        made["toRecipients"] = _reply_to(call, doc, everyone=kind == "replyAll")
        if kind == "replyAll":
            made["toRecipients"], made["ccRecipients"] = made["toRecipients"][:1], made["toRecipients"][1:]
    made.update(fields)
    folder = call.box.well_known(DRAFTS)
    return store_draft(call, made, attachments, folder.id, conversation=_conversation(call, doc),
                       direct=kind != "forward")


def answer(call: Call, original: Stored, action: str) -> HttpResponse:
    """createReply & co. (201 with the draft) or reply & co. (202: the draft sent)."""
    kind = KINDS[action.lower()]
    draft = draft_of(call, original, kind)
    if action.lower().startswith("create"):
        return json_answer(201, resource_answer(call, draft))
    send_stored(call, draft)
    return empty(202)
