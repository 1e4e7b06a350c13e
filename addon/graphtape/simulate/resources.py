"""Message resources as Graph answers them: the server-set properties, the body as Exchange stores it, and the
fields a MIME body carries (read with the repo's one MIME reader, ``bodies.mime``).

Graph's Create Message examples (the seed pages) show what a new draft looks like: every property present,
``body`` HTML wrapped in ``<html><head>...<body>`` with CRLF line ends, ``contentType`` and ``importance`` in lower
case, each recipient's ``name`` filled with its address when none was given, ``bodyPreview`` the body's text.
"""

from __future__ import annotations

import copy
import html
import re
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any
from urllib.parse import quote

from graphtape.bodies.mime import MimePart, header_text, header_values, leaf_parts, read_message
from graphtape.simulate.ids import Clock, Ids

HTML_HEAD = ('<html>\r\n<head>\r\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\r\n'
             '<meta content="text/html; charset=us-ascii">\r\n</head>\r\n<body>\r\n')
HTML_TAIL = "\r\n</body>\r\n</html>\r\n"
RECIPIENT_LISTS = ("toRecipients", "ccRecipients", "bccRecipients", "replyTo")
ENUMS = ("importance", "inferenceClassification")
HIDDEN = ("internetMessageHeaders", "uniqueBody")  # answered only when $select names them
_TAG = re.compile(r"<[^>]*>")
_HEAD = re.compile(r"<head\b.*?</head>", re.IGNORECASE | re.DOTALL)


def normalise_body(body: Any) -> dict[str, str]:
    """``itemBody`` as Exchange stores it: contentType lower case; HTML wrapped in a full document."""
    body = body if isinstance(body, dict) else {}
    kind = str(body.get("contentType") or "text").lower()
    content = str(body.get("content") or "")
    if kind == "html" and not content.lstrip().lower().startswith("<html"):
        content = HTML_HEAD + content + HTML_TAIL
    return {"contentType": "html" if kind == "html" else "text", "content": content}


def preview(body: dict[str, str]) -> str:
    """``bodyPreview``: the body's text (HTML tags and head dropped), whitespace collapsed, 255 characters."""
    text = body["content"]
    if body["contentType"] == "html":
        text = html.unescape(_TAG.sub("", _HEAD.sub("", text)))
    return " ".join(text.split())[:255]


def recipient(value: Any) -> Any:
    """A recipient with its ``name`` filled in from its address, as Graph answers one."""
    if not isinstance(value, dict) or not isinstance(value.get("emailAddress"), dict):
        return copy.deepcopy(value)
    address = dict(value["emailAddress"])
    address.setdefault("name", address.get("address", ""))
    return {"emailAddress": {"name": address["name"], "address": address.get("address", "")}}


def web_link(message_id: str) -> str:
    return f"https://outlook.office365.com/owa/?ItemID={quote(message_id, safe='')}&exvsurl=1" \
           "&viewmodel=ReadMessageItem"


def new_message(fields: dict[str, Any], *, ids: Ids, clock: Clock, folder_id: str, version: str, domain: str,
                conversation: tuple[str, str] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """A draft made of the client's ``fields``: (the resource, the properties kept but not answered by default)."""
    now, message_id, change_key = clock.iso(), ids.message(), ids.change_key()
    body = normalise_body(fields.get("body"))
    conversation_id, index = conversation or (ids.conversation(), ids.conversation_index())
    doc: dict[str, Any] = {
        "@odata.etag": f'W/"{change_key}"', "id": message_id, "createdDateTime": now, "lastModifiedDateTime": now,
        "changeKey": change_key, "categories": list(fields.get("categories") or []), "receivedDateTime": now,
        "sentDateTime": fields.get("sentDateTime") or now, "hasAttachments": False,
        "internetMessageId": fields.get("internetMessageId") or f"<{ids.hexname('imid')}@{domain}>",
        "subject": str(fields.get("subject") or ""), "bodyPreview": preview(body),
        "importance": str(fields.get("importance") or "normal").lower(), "parentFolderId": folder_id,
        "conversationId": conversation_id, "conversationIndex": index,
        "isDeliveryReceiptRequested": bool(fields.get("isDeliveryReceiptRequested", False)),
        "isReadReceiptRequested": bool(fields.get("isReadReceiptRequested", False)),
        "isRead": bool(fields.get("isRead", True)), "isDraft": True, "webLink": web_link(message_id),
        "inferenceClassification": str(fields.get("inferenceClassification") or "focused").lower(),
    }
    if version == "beta":
        doc.update(unsubscribeData=[], unsubscribeEnabled=False, mentionsPreview=None)
    doc["body"] = body
    for name in ("sender", "from"):  # null on a draft until it is sent, as the docs' example 2 shows
        doc[name] = recipient(fields[name]) if isinstance(fields.get(name), dict) else None
    for name in RECIPIENT_LISTS:
        doc[name] = [recipient(r) for r in fields.get(name) or []]
    doc["flag"] = copy.deepcopy(fields.get("flag")) if isinstance(fields.get("flag"), dict) \
        else {"flagStatus": "notFlagged"}
    hidden = {k: copy.deepcopy(fields[k]) for k in HIDDEN if k in fields}
    return doc, hidden


def apply_patch(doc: dict[str, Any], fields: dict[str, Any], *, ids: Ids, clock: Clock) -> None:
    """A PATCH's properties into the resource (normalised as on create); a new changeKey and lastModified."""
    for name, value in fields.items():
        if name.startswith("@odata"):
            continue
        if name == "body":
            doc["body"] = normalise_body(value)
            doc["bodyPreview"] = preview(doc["body"])
        elif name in RECIPIENT_LISTS:
            doc[name] = [recipient(r) for r in value or []]
        elif name in ("from", "sender"):
            doc[name] = recipient(value) if value is not None else None
        elif name in ENUMS and isinstance(value, str):
            doc[name] = value.lower()
        else:
            doc[name] = copy.deepcopy(value)
    touch(doc, ids=ids, clock=clock)


def touch(doc: dict[str, Any], *, ids: Ids, clock: Clock) -> None:
    change_key = ids.change_key()
    doc.update({"changeKey": change_key, "@odata.etag": f'W/"{change_key}"', "lastModifiedDateTime": clock.iso()})


def _addresses(msg: MimePart, name: str) -> list[dict[str, Any]]:
    values = header_values(msg.headers, name)
    if values is None:  # a header email cannot parse: read it as plain addresses
        raw = [str(v) for k, v in msg.headers.raw_items() if k.lower() == name.lower()]
        pairs = getaddresses(raw)
    else:
        pairs = [(a.display_name, a.addr_spec) for v in values for a in getattr(v, "addresses", ())]
    return [{"emailAddress": {"name": n or a, "address": a}} for n, a in pairs if a]


def _text_body(msg: MimePart) -> tuple[dict[str, str], list[MimePart]]:
    """The message's body (its first text part, HTML preferred in an alternative) and its attachment parts."""
    leaves = leaf_parts(msg)
    attachments = [p for p in leaves if p.headers.get_filename() or
                   str(p.headers.get("content-disposition", "")).lower().startswith("attachment")]
    texts = [p for p in leaves if p not in attachments and p.headers.get_content_maintype() == "text"]
    chosen = next((p for p in texts if p.content_type == "text/html"), texts[0] if texts else None)
    if chosen is None:
        return {"contentType": "text", "content": ""}, attachments
    charset = chosen.headers.get_content_charset() or "utf-8"
    try:
        content = chosen.decoded().decode(charset, "replace")
    except LookupError:
        content = chosen.decoded().decode("utf-8", "replace")
    return {"contentType": "html" if chosen.content_type == "text/html" else "text", "content": content}, attachments


def fields_from_mime(decoded: bytes) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The message fields (From, To, Cc, Bcc, Subject, Date, Message-ID, body) and the file attachments of a
    MIME message, as the draft Graph makes of it."""
    msg = read_message(decoded)
    fields: dict[str, Any] = {"subject": header_text(msg.headers, "Subject") or ""}
    for header, name in (("To", "toRecipients"), ("Cc", "ccRecipients"), ("Bcc", "bccRecipients"),
                         ("Reply-To", "replyTo")):
        fields[name] = _addresses(msg, header)
    sender = _addresses(msg, "From")
    if sender:
        fields["from"] = fields["sender"] = sender[0]
    message_id = " ".join((header_text(msg.headers, "Message-ID") or "").split())
    if message_id:
        fields["internetMessageId"] = message_id
    date = header_text(msg.headers, "Date")
    try:
        if date:
            fields["sentDateTime"] = parsedate_to_datetime(date).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (TypeError, ValueError):
        pass
    fields["body"], parts = _text_body(msg)
    return fields, [_attachment_of(p) for p in parts]


def _attachment_of(part: MimePart) -> dict[str, Any]:
    import base64

    data = part.decoded()
    return {"@odata.type": "#microsoft.graph.fileAttachment", "name": part.headers.get_filename() or "attachment",
            "contentType": part.content_type, "contentBytes": base64.b64encode(data).decode(),
            "isInline": str(part.headers.get("content-disposition", "")).lower().startswith("inline")}


def mime_of(doc: dict[str, Any]) -> bytes:
    """A message as the RFC 5322 text its ``$value`` answers (CRLF line ends, as Exchange writes)."""
    msg = EmailMessage()
    sender = (doc.get("from") or {}).get("emailAddress") if isinstance(doc.get("from"), dict) else None
    if sender:
        msg["From"] = sender.get("address", "")
    msg["Subject"] = str(doc.get("subject", ""))
    for header, name in (("To", "toRecipients"), ("Cc", "ccRecipients")):
        found = [r.get("emailAddress", {}).get("address", "") for r in doc.get(name) or []]
        if any(found):
            msg[header] = ", ".join(a for a in found if a)
    msg["Message-ID"] = str(doc.get("internetMessageId") or f"<{doc['id'].rstrip('=')}@simulate.invalid>")
    body = doc.get("body") or {}
    subtype = "html" if str(body.get("contentType", "")).lower() == "html" else "plain"
    msg.set_content(str(body.get("content", "")), subtype=subtype)
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))
