"""Attachments of a message: POST (a file, item or reference attachment under 3 MB), list, GET, ``$value`` and
DELETE. A file attachment keeps its bytes (``contentBytes``), so ``$value`` answers them byte for byte.

Sizes, as Graph's docs give them (outlook-large-attachments): a file attachment POSTed directly is under 3 MB
(3 MiB of content: a larger one must go through an upload session, ``uploads.py``). Past it the simulator answers
413 ``ErrorMessageSizeExceeded`` (the code Exchange gives an oversized message; graphtape's pick, as the docs name
none for this case).
"""

from __future__ import annotations

import base64
import binascii
import copy
from typing import Any

from graphtape.model import HttpResponse
from graphtape.simulate.answers import GraphError, bad_request, empty, json_answer, not_found, raw
from graphtape.simulate.call import Call, not_a_draft
from graphtape.simulate.payload import json_object
from graphtape.simulate.store import Stored

DIRECT_MAX_BYTES = 3 * 1024 * 1024
FILE = "#microsoft.graph.fileAttachment"
KINDS = (FILE, "#microsoft.graph.itemAttachment", "#microsoft.graph.referenceAttachment")


def too_big(size: int, limit: int, how: str) -> GraphError:
    return GraphError(413, "ErrorMessageSizeExceeded",
                      f"The message exceeds the maximum supported size: {size} bytes, over the {limit} {how}.")


def content_of(doc: dict[str, Any]) -> bytes:
    """A file attachment's bytes (its ``contentBytes`` decoded; b"" without)."""
    try:
        return base64.b64decode(str(doc.get("contentBytes") or ""), validate=True)
    except (ValueError, binascii.Error):
        return b""


def add_attachment(call: Call, stored: Stored, given: dict[str, Any], *, direct: bool = True) -> dict[str, Any]:
    """Keep an attachment on a message (a new id, size and lastModifiedDateTime); the resource kept.
    ``direct``: POSTed by the client (held to the 3 MB limit), not seeded or copied from another message (a seeded
    one keeps the id and time it names)."""
    kind = str(given.get("@odata.type") or FILE)
    if kind not in KINDS:
        raise bad_request(f"Unknown attachment type {kind!r}: give one of {', '.join(KINDS)}.")
    data = content_of(given)
    if kind == FILE and given.get("contentBytes") is not None and not data and given.get("contentBytes"):
        raise GraphError(400, "RequestBodyRead", "Cannot read contentBytes: it is not base64.")
    if direct and len(data) > DIRECT_MAX_BYTES:
        raise too_big(len(data), DIRECT_MAX_BYTES, "bytes an attachment POSTed directly may hold (use an upload "
                                                   "session from 3 MB to 150 MB)")
    kept = {k: given[k] for k in ("id", "lastModifiedDateTime") if not direct and given.get(k)}  # a seed's own
    doc: dict[str, Any] = {"@odata.type": kind, "@odata.mediaContentType": given.get("contentType"),
                           "id": kept.get("id") or call.state.ids.attachment(),
                           "lastModifiedDateTime": kept.get("lastModifiedDateTime") or call.state.clock.iso(),
                           "name": str(given.get("name") or ""), "contentType": given.get("contentType"),
                           "size": int(given.get("size") or 0) or len(data) + 200,
                           "isInline": bool(given.get("isInline", False))}
    if kind == FILE:
        doc.update(contentId=given.get("contentId"), contentLocation=given.get("contentLocation"),
                   contentBytes=base64.b64encode(data).decode())
    else:
        doc.update({k: copy.deepcopy(v) for k, v in given.items() if k not in doc and not k.startswith("@")})
    if doc["@odata.mediaContentType"] is None:
        del doc["@odata.mediaContentType"]
    stored.attachments[doc["id"]] = doc
    stored.doc["hasAttachments"] = True
    return doc


def post(call: Call, stored: Stored) -> HttpResponse:
    if not stored.doc["isDraft"]:
        raise not_a_draft("Attachments")
    doc = add_attachment(call, stored, json_object(call.req))
    call.box.touched(stored)
    context = call.context(f"messages('{stored.id}')/attachments/$entity")
    return json_answer(201, {"@odata.context": context, **doc})


def answer(call: Call, stored: Stored, rest: list[str]) -> HttpResponse:
    """GET .../attachments, .../attachments/{id}, .../attachments/{id}/$value; DELETE .../attachments/{id}."""
    method = call.req.method.upper()
    if not rest:
        context = call.context(f"messages('{stored.id}')/attachments")
        return json_answer(200, {"@odata.context": context, "value": [copy.deepcopy(a) for a in
                                                                      stored.attachments.values()]})
    found = stored.attachments.get(rest[0])
    if found is None:
        raise not_found(f"no attachment {rest[0]!r} on this message")
    if method == "DELETE":
        del stored.attachments[rest[0]]
        stored.doc["hasAttachments"] = bool(stored.attachments)
        call.box.touched(stored)
        return empty(204)
    if rest[1:] == ["$value"]:
        return raw(200, str(found.get("contentType") or "application/octet-stream"), content_of(found))
    context = call.context(f"messages('{stored.id}')/attachments/$entity")
    return json_answer(200, {"@odata.context": context, **copy.deepcopy(found)})
