"""The stand-in's reads: list and page messages, get one, its ``$value``, its attachments and theirs, and delta.

Answered from ``mailbox.Mailbox`` (the messages created and sent through the stand-in) as Graph answers:

- ``GET /me/messages`` and ``/me/mailFolders/{folder}/messages``: newest first, ``$select``, ``$filter`` (``eq``,
  ``ne``, ``ge``, ``gt``, ``le``, ``lt`` joined by ``and``), ``$top`` (page size, 10 by default); a longer list ends
  each page with ``@odata.nextLink``: the same query plus an opaque ``$skiptoken``.
- ``GET .../messages/{id}``, ``.../$value`` (the message as MIME, ``text/plain``), ``.../attachments``,
  ``.../attachments/{id}`` and ``.../attachments/{id}/$value`` (the file's bytes, its own content type).
- ``GET /me/mailFolders/{folder}/messages/delta``: pages of ``Prefer: odata.maxpagesize`` (or ``$top``, else 10),
  ``@odata.nextLink`` with ``$skiptoken`` between them, ``@odata.deltaLink`` with ``$deltatoken`` at the end;
  calling that link answers what changed since (``"@removed": {"reason": "deleted"}`` for a message gone).
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import re
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from graphtape.graph import error_body, normalise_path
from graphtape.model import HttpResponse
from graphtape.testing.fakegraph_filter import BadQuery, parse_filter
from graphtape.testing.mailbox import DRAFTS, SENT, Mailbox, attachment_bytes

GRAPH = "https://graph.microsoft.com"
JSON_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
DEFAULT_PAGE = 10
_PATH = re.compile(r"^/(v1\.0|beta)/(?:me|users/[^/]+)(?:/mailFolders/([^/]+))?/messages(?:/([^/]+))?(?:/(.+))?$")
_ATTACHMENT = re.compile(r"^attachments(?:/([^/]+))?(/\$value)?$")


def _json(status: int, doc: Any) -> HttpResponse:
    return HttpResponse(status, "", [("Content-Type", JSON_TYPE)], json.dumps(doc, separators=(",", ":")).encode())


def _error(status: int, code: str, message: str) -> HttpResponse:
    return _json(status, error_body(code, message, "00000000-0000-0000-0000-000000000000"))


def _token(*numbers: int) -> str:
    """An opaque token: standard base64 padded with "==" (its '+', '/' and '=' travel percent-encoded)."""
    raw = b"\xfb\xef" + ",".join(map(str, numbers)).encode()
    return base64.b64encode(raw + b";" * ((1 - len(raw)) % 3)).decode()


def _untoken(token: str, count: int) -> list[int]:
    try:
        raw = base64.b64decode(token, validate=True)
        numbers = [int(n) for n in raw[2:].rstrip(b";").decode().split(",")] if raw[:2] == b"\xfb\xef" else []
    except ValueError:
        numbers = []
    if len(numbers) != count:
        raise BadQuery("The $skiptoken or $deltatoken is not valid.", code="BadRequest")
    return numbers


def _link(path: str, query: list[tuple[str, str]], name: str, token: str) -> str:
    kept = [(k, v) for k, v in query if k not in ("$skiptoken", "$deltatoken")] + [(name, token)]
    return f"{GRAPH}{path}?" + "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in kept)


def _selected(doc: dict[str, Any], select: str | None) -> dict[str, Any]:
    doc = {k: v for k, v in doc.items() if k != "@odata.context"}
    if not select or "@removed" in doc:
        return doc
    wanted = {s.strip() for s in select.split(",")} | {"id", "@odata.etag"}
    return {k: v for k, v in doc.items() if k in wanted}


def _page_size(query: dict[str, str], prefer: str) -> int:
    m = re.search(r"odata\.maxpagesize=(\d+)", prefer)
    raw = query.get("$top") or (m.group(1) if m else str(DEFAULT_PAGE))
    if not raw.isdigit() or not 0 < int(raw) <= 1000:
        raise BadQuery(f"Invalid value '{raw}' for $top: give a number from 1 to 1000.", code="BadRequest")
    return int(raw)


def answer_read(mailbox: Mailbox, raw_path: str, prefer: str = "") -> HttpResponse | None:
    """The stand-in's answer to ``GET raw_path`` (path and query as sent); None if it is no read it serves."""
    parts = urlsplit(raw_path)
    m = _PATH.match(normalise_path(parts.path))
    if m is None:
        return None
    version, folder, message_id, rest = m.groups()
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    path = normalise_path(parts.path)
    try:
        if message_id in ("delta", "delta()") and folder and not rest:  # the SDK calls the function as delta()
            return _delta(mailbox, path, folder, pairs, prefer)
        if message_id is None:
            return _list(mailbox, path, folder, pairs, prefer)
        return _item(mailbox, version, message_id, rest, dict(pairs))
    except BadQuery as e:
        return _error(400, e.code, str(e))


def _list(mailbox: Mailbox, path: str, folder: str | None, pairs: list[tuple[str, str]],
          prefer: str) -> HttpResponse:
    query = dict(pairs)
    size = _page_size(query, prefer)
    keep = parse_filter(query.get("$filter", ""))
    found = [doc for doc in mailbox.in_folder(folder) if keep(doc)]
    start = _untoken(query["$skiptoken"], 1)[0] if "$skiptoken" in query else 0
    page = found[start:start + size]
    doc: dict[str, Any] = {"@odata.context": f"{GRAPH}/{path.split('/')[1]}/$metadata#users('fake-user')/messages",
                           "value": [_selected(d, query.get("$select")) for d in page]}
    if start + size < len(found):
        doc["@odata.nextLink"] = _link(path, pairs, "$skiptoken", _token(start + size))
    return _json(200, doc)


def _delta(mailbox: Mailbox, path: str, folder: str, pairs: list[tuple[str, str]], prefer: str) -> HttpResponse:
    query = dict(pairs)
    size = _page_size(query, prefer)
    if "$skiptoken" in query:
        since, until, start = _untoken(query["$skiptoken"], 3)
    else:
        since, until, start = (_untoken(query["$deltatoken"], 1)[0] if "$deltatoken" in query else 0), mailbox.seq, 0
    keep = parse_filter(query.get("$filter", ""))
    changed = [d for d in mailbox.delta(folder, since, until) if "@removed" in d or keep(d)]
    page = changed[start:start + size]
    doc: dict[str, Any] = {"@odata.context": f"{GRAPH}/{path.split('/')[1]}/$metadata#Collection(message)",
                           "value": [_selected(d, query.get("$select")) for d in page]}
    if start + size < len(changed):
        doc["@odata.nextLink"] = _link(path, pairs, "$skiptoken", _token(since, until, start + size))
    else:
        doc["@odata.deltaLink"] = _link(path, pairs, "$deltatoken", _token(until))
    return _json(200, doc)


def _item(mailbox: Mailbox, version: str, message_id: str, rest: str | None, query: dict[str, str]) -> HttpResponse:
    stored = mailbox.get(message_id)
    if stored is None:
        return _error(404, "ErrorItemNotFound", "The specified object was not found in the store.")
    if rest is None:
        return _json(200, _selected(stored.doc, query.get("$select")))
    if rest == "$value":
        return HttpResponse(200, "", [("Content-Type", "text/plain")], mime_of(stored.doc))
    m = _ATTACHMENT.match(rest)
    if m is None:
        return _error(400, "BadRequest", f"Resource not found for the segment '{rest.split('/')[0]}'.")
    attachment_id, value = m.groups()
    if attachment_id is None:
        context = f"{GRAPH}/{version}/$metadata#users('fake-user')/messages('{message_id}')/attachments"
        return _json(200, {"@odata.context": context, "value": list(stored.attachments.values())})
    attachment = stored.attachments.get(attachment_id)
    if attachment is None:
        return _error(404, "ErrorItemNotFound", "The specified object was not found in the store.")
    if value:
        content_type = str(attachment.get("contentType") or "application/octet-stream")
        return HttpResponse(200, "", [("Content-Type", content_type)], attachment_bytes(attachment))
    return _json(200, attachment)


def mime_of(doc: dict[str, Any]) -> bytes:
    """A message as the RFC 5322 text its ``$value`` answers (CRLF line ends, as Exchange writes)."""
    msg = EmailMessage()
    msg["Subject"] = str(doc.get("subject", ""))
    to = [r.get("emailAddress", {}).get("address", "") for r in doc.get("toRecipients") or []]
    if to:
        msg["To"] = ", ".join(a for a in to if a)
    msg["Message-ID"] = f"<{doc['id'].rstrip('=')}@fakegraph.invalid>"
    body = doc.get("body") or {}
    subtype = "html" if str(body.get("contentType", "")).lower() == "html" else "plain"
    msg.set_content(str(body.get("content", "")), subtype=subtype)
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


def note_write(mailbox: Mailbox, action: str, raw_path: str, fields: dict[str, Any], doc: Any) -> None:
    """Keep what a write made: a draft (``doc``, the answer), a draft sent, a message sent, an attachment."""
    if action == "send_mail":
        mailbox.add(_sent(mailbox, fields), SENT)
        return
    m = _PATH.match(normalise_path(urlsplit(raw_path).path))
    if m is None:
        return
    _, folder, message_id, _ = m.groups()
    if action in ("create", "create_draft_from") and isinstance(doc, dict):
        stored = dict(doc, receivedDateTime=doc.get("createdDateTime"), hasAttachments=False)
        mailbox.add(stored, folder if action == "create" and folder else DRAFTS)
    elif action == "send" and message_id:
        mailbox.send(message_id)
    elif action == "attach" and message_id and isinstance(doc, dict):
        mailbox.attach(message_id, doc)


def _sent(mailbox: Mailbox, fields: dict[str, Any]) -> dict[str, Any]:
    now = _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    body = fields.get("body") or {"contentType": "text", "content": ""}
    return {"id": f"AAMkAGRWAAAFSmKS{mailbox.seq + 1:04d}AAA=", "@odata.etag": 'W/"CQAAABYAAAAmXr9SsE/UR4Pc"',
            "createdDateTime": now, "receivedDateTime": now, "sentDateTime": now,
            "subject": fields.get("subject", ""), "isDraft": False, "isRead": True, "hasAttachments": False,
            "importance": str(fields.get("importance", "normal")).lower(),
            "body": {"contentType": str(body.get("contentType", "text")).lower(), "content": body.get("content", "")},
            "toRecipients": fields.get("toRecipients", []), "ccRecipients": fields.get("ccRecipients", []),
            "bccRecipients": fields.get("bccRecipients", [])}
