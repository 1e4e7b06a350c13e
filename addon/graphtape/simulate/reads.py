"""Reading mail: list and page messages (a mailbox's, a folder's), get one, its ``$value``, folders, and delta.

- ``GET /me/messages`` and ``/me/mailFolders/{folder}/messages``: newest first, the query options of
  ``query.run_query`` (``$select``, ``$filter``, ``$orderby``, ``$top``, ``$skip``, ``$count``), pages of
  ``Prefer: odata.maxpagesize`` (10 by default); a longer list ends each page with ``@odata.nextLink``: the same
  query with ``$skip`` advanced, as Outlook's.
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
from graphtape.simulate.query import MAX_PAGE, QueryError, QueryPage, run_query
from graphtape.simulate.resources import HIDDEN, mime_of
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
        raise GraphError(400, "BadRequest", "The $skiptoken or $deltatoken is not valid.")
    return numbers


def _link(path: str, query: list[tuple[str, str]]) -> str:
    """A Graph link with its query percent-encoded, as Graph writes its links (``%24skip=``, ``%3D``)."""
    return f"{GRAPH}{path}?" + "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in query)


def _token_link(call: Call, name: str, token: str) -> str:
    kept = [(k, v) for k, v in call.pairs if k not in ("$skiptoken", "$deltatoken")] + [(name, token)]
    return _link(call.path, kept)


def selected(stored_doc: dict[str, Any], select: str | None, hidden: dict[str, Any] | None = None) -> dict[str, Any]:
    """The resource with only the ``$select``ed properties (and id, @odata.etag); hidden ones only if named."""
    doc = {k: v for k, v in stored_doc.items() if k != "@odata.context"}
    if not select or "@removed" in doc:
        return copy.deepcopy(doc)
    wanted = {s.strip() for s in select.split(",")}
    doc.update({k: v for k, v in (hidden or {}).items() if k in wanted})
    return copy.deepcopy({k: v for k, v in doc.items() if k in wanted | {"id", "@odata.etag"}})


def _page_size(call: Call) -> int:
    """``Prefer: odata.maxpagesize=N`` (or ``$top``, for delta), else 10."""
    m = re.search(r"odata\.maxpagesize=(\d+)", call.prefer)
    value = call.query.get("$top") if "delta" in call.path.rsplit("/", 1)[-1] else None
    value = value or (m.group(1) if m else str(DEFAULT_PAGE))
    if not value.isdigit() or not 0 < int(value) <= MAX_PAGE:
        raise GraphError(400, "BadRequest", f"Invalid value '{value}' for the page size: give a number from 1 to "
                                            f"{MAX_PAGE}.")
    return int(value)


def _query(items: list[dict[str, Any]], params: dict[str, str], call: Call, size: int,
           hidden: tuple[str, ...] = HIDDEN) -> QueryPage:
    try:
        return run_query(items, params, page_size=size, version=call.version, hidden=hidden)
    except QueryError as e:
        raise GraphError(e.status, e.code, e.message) from None


def list_messages(call: Call) -> HttpResponse:
    """A page of a mailbox's or a folder's messages (``query.run_query``: $select, $filter, $orderby, $top,
    $skip, $count); ``@odata.nextLink`` carries ``$skip``, as Outlook's does."""
    if "$skiptoken" in call.query:
        raise GraphError(400, "BadRequest", "The $skiptoken is not valid: a message list pages with $skip.")
    stored = call.box.in_folder(call.folder.id if call.folder else None)
    page = _query([{**s.doc, **s.hidden} for s in stored], dict(call.pairs), call, _page_size(call))
    suffix = f"mailFolders('{call.folder.id}')/messages" if call.folder else "messages"
    doc: dict[str, Any] = {"@odata.context": call.context(suffix)}
    if page.count is not None:
        doc["@odata.count"] = page.count
    doc["value"] = page.items
    if page.next_params is not None:
        doc["@odata.nextLink"] = _link(call.path, list(page.next_params.items()))
    return json_answer(200, doc)


def _matching(docs: list[dict[str, Any]], call: Call) -> set[str]:
    """The ids of the messages ``$filter`` keeps (every one without a filter)."""
    text = call.query.get("$filter")
    if not text:
        return {str(d["id"]) for d in docs}
    found: set[str] = set()
    params: dict[str, str] | None = {"$filter": text, "$select": "id"}
    while params is not None:
        page = _query(docs, params, call, MAX_PAGE, hidden=())
        found |= {str(d["id"]) for d in page.items}
        params = page.next_params
    return found


def delta(call: Call) -> HttpResponse:
    if call.folder is None:
        raise GraphError(400, "BadRequest", "Delta of messages is per folder: GET /me/mailFolders/{id}/messages/"
                                            "delta.")
    return _delta(call, call.folder)


def _delta(call: Call, folder: Folder) -> HttpResponse:
    query, size = call.query, _page_size(call)
    if "$skiptoken" in query:
        since, until, start = _untoken(query["$skiptoken"], 3)
    else:
        since = _untoken(query["$deltatoken"], 1)[0] if "$deltatoken" in query else 0
        until, start = call.box.seq, 0
    changed = call.box.delta(folder.id, since, until)
    kept = _matching([d for d in changed if "@removed" not in d], call)
    changed = [d for d in changed if "@removed" in d or d["id"] in kept]
    page = changed[start:start + size]
    doc: dict[str, Any] = {"@odata.context": f"{GRAPH}/{call.version}/$metadata#Collection(message)",
                           "value": [selected(d, query.get("$select")) for d in page]}
    if start + size < len(changed):
        doc["@odata.nextLink"] = _token_link(call, "$skiptoken", _token(since, until, start + size))
    else:
        doc["@odata.deltaLink"] = _token_link(call, "$deltatoken", _token(until))
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
