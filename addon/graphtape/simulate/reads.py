"""Reading mail: list and page messages (a mailbox's, a folder's), get one, its ``$value``, folders, and delta.

- ``GET /me/messages`` and ``/me/mailFolders/{folder}/messages``: newest first, ``$select``, ``$filter``, ``$top``
  (page size, 10 by default), ``$count``; a longer list ends each page with ``@odata.nextLink``: the same query plus
  an opaque ``$skiptoken``.
- ``GET .../messages/{id}`` (``$select``) and ``.../$value`` (the message as MIME, ``text/plain``).
- ``GET /me/mailFolders/{folder}/messages/delta``: pages of ``Prefer: odata.maxpagesize`` (or ``$top``, else 10),
  ``@odata.nextLink`` with ``$skiptoken`` between them, ``@odata.deltaLink`` with ``$deltatoken`` at the end;
  calling that link answers what changed since (``"@removed": {"reason": "deleted"}`` for a message gone).
"""

from __future__ import annotations

import base64
import copy
import re
from typing import Any
from urllib.parse import quote

from graphtape.model import HttpResponse
from graphtape.simulate.answers import GraphError, json_answer, raw
from graphtape.simulate.call import GRAPH, Call
from graphtape.simulate.filter import BadQuery, parse_filter
from graphtape.simulate.resources import mime_of
from graphtape.simulate.store import Folder, Stored

DEFAULT_PAGE = 10


def _token(*numbers: int) -> str:
    """An opaque token: standard base64 padded with "==" (its '+', '/' and '=' travel percent-encoded)."""
    raw_bytes = b"\xfb\xef" + ",".join(map(str, numbers)).encode()
    return base64.b64encode(raw_bytes + b";" * ((1 - len(raw_bytes)) % 3)).decode()


def _untoken(token: str, count: int) -> list[int]:
    try:
        data = base64.b64decode(token, validate=True)
        numbers = [int(n) for n in data[2:].rstrip(b";").decode().split(",")] if data[:2] == b"\xfb\xef" else []
    except ValueError:
        numbers = []
    if len(numbers) != count:
        raise BadQuery("The $skiptoken or $deltatoken is not valid.", code="BadRequest")
    return numbers


def _link(path: str, query: list[tuple[str, str]], name: str, token: str) -> str:
    kept = [(k, v) for k, v in query if k not in ("$skiptoken", "$deltatoken")] + [(name, token)]
    return f"{GRAPH}{path}?" + "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in kept)


def selected(stored_doc: dict[str, Any], select: str | None, hidden: dict[str, Any] | None = None) -> dict[str, Any]:
    """The resource with only the ``$select``ed properties (and id, @odata.etag); hidden ones only if named."""
    doc = {k: v for k, v in stored_doc.items() if k != "@odata.context"}
    if not select or "@removed" in doc:
        return copy.deepcopy(doc)
    wanted = {s.strip() for s in select.split(",")}
    doc.update({k: v for k, v in (hidden or {}).items() if k in wanted})
    return copy.deepcopy({k: v for k, v in doc.items() if k in wanted | {"id", "@odata.etag"}})


def _page_size(query: dict[str, str], prefer: str) -> int:
    m = re.search(r"odata\.maxpagesize=(\d+)", prefer)
    value = query.get("$top") or (m.group(1) if m else str(DEFAULT_PAGE))
    if not value.isdigit() or not 0 < int(value) <= 1000:
        raise BadQuery(f"Invalid value '{value}' for $top: give a number from 1 to 1000.", code="BadRequest")
    return int(value)


def _bad(e: BadQuery) -> GraphError:
    return GraphError(400, e.code, str(e))


def list_messages(call: Call) -> HttpResponse:
    try:
        return _list(call)
    except BadQuery as e:
        raise _bad(e) from None


def _list(call: Call) -> HttpResponse:
    query, size = call.query, _page_size(call.query, call.prefer)
    keep = parse_filter(query.get("$filter", ""))
    found = [s.doc for s in call.box.in_folder(call.folder.id if call.folder else None) if keep(s.doc)]
    start = _untoken(query["$skiptoken"], 1)[0] if "$skiptoken" in query else 0
    page = found[start:start + size]
    suffix = f"mailFolders('{call.folder.id}')/messages" if call.folder else "messages"
    doc: dict[str, Any] = {"@odata.context": call.context(suffix)}
    if query.get("$count", "").lower() == "true":
        doc["@odata.count"] = len(found)
    doc["value"] = [selected(d, query.get("$select")) for d in page]
    if start + size < len(found):
        doc["@odata.nextLink"] = _link(call.path, call.pairs, "$skiptoken", _token(start + size))
    return json_answer(200, doc)


def delta(call: Call) -> HttpResponse:
    if call.folder is None:
        raise GraphError(400, "BadRequest", "Delta of messages is per folder: GET /me/mailFolders/{id}/messages/"
                                            "delta.")
    try:
        return _delta(call, call.folder)
    except BadQuery as e:
        raise _bad(e) from None


def _delta(call: Call, folder: Folder) -> HttpResponse:
    query, size = call.query, _page_size(call.query, call.prefer)
    if "$skiptoken" in query:
        since, until, start = _untoken(query["$skiptoken"], 3)
    else:
        since = _untoken(query["$deltatoken"], 1)[0] if "$deltatoken" in query else 0
        until, start = call.box.seq, 0
    keep = parse_filter(query.get("$filter", ""))
    changed = [d for d in call.box.delta(folder.id, since, until) if "@removed" in d or keep(d)]
    page = changed[start:start + size]
    doc: dict[str, Any] = {"@odata.context": f"{GRAPH}/{call.version}/$metadata#Collection(message)",
                           "value": [selected(d, query.get("$select")) for d in page]}
    if start + size < len(changed):
        doc["@odata.nextLink"] = _link(call.path, call.pairs, "$skiptoken", _token(since, until, start + size))
    else:
        doc["@odata.deltaLink"] = _link(call.path, call.pairs, "$deltatoken", _token(until))
    return json_answer(200, doc)


def get_message(call: Call, stored: Stored) -> HttpResponse:
    doc = selected(stored.doc, call.query.get("$select"), stored.hidden)
    return json_answer(200, {"@odata.context": call.context("messages/$entity"), **doc})


def get_value(stored: Stored) -> HttpResponse:
    return raw(200, "text/plain", mime_of(stored.doc))


def list_folders(call: Call, parent: Folder | None) -> HttpResponse:
    root = next(iter(call.box.folders.values())).parent_id
    wanted = parent.id if parent else root
    value = [f.resource(call.box) for f in call.box.folders.values() if f.parent_id == wanted]
    suffix = f"mailFolders('{parent.id}')/childFolders" if parent else "mailFolders"
    return json_answer(200, {"@odata.context": call.context(suffix), "value": value})


def get_folder(call: Call, folder: Folder) -> HttpResponse:
    return json_answer(200, {"@odata.context": call.context("mailFolders/$entity"), **folder.resource(call.box)})
