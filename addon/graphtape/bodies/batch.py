"""JSON batching's shape: the items of a ``POST /$batch`` body, each read as the request it stands for.

A batch request is ``{"requests": [{id, method, url (relative), headers, body, dependsOn}, ...]}``, its
answer ``{"responses": [{id, status, headers, body}, ...]}`` in any order (json-batching). An item's
body is a JSON value, or a string: a text body as it stands (Graph's base64 MIME), any other media type
base64-encoded.

Every finding and deviation inside a batch names its item by position: ``batch[N]`` is the N-th item
(from 0) of the ``requests`` list the client sent, followed by the path it would have sent alone:
``batch[2].body.message.subject``, ``batch[0].mime.header.Subject``, ``batch[1].url``. Positions, not
ids, because the SDKs make up a uuid4 id per item on every run. This module is the one place that
knows that spelling (``item_path``, ``item_index``).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from graphtape.bodies.kinds import media_type, parse_json
from graphtape.model import Headers, HttpRequest, HttpResponse, header

ROOT = "batch"
_ITEM = re.compile(r"^batch\[(\d+)\]")
WRITES = frozenset({"POST", "PUT", "PATCH"})


def is_batch_resource(resource: str) -> bool:
    """True for ``/$batch`` (a GraphUrl's resource, normalised)."""
    return resource.rstrip("/").lower() in ("/$batch", "/%24batch")


def is_batch(req: HttpRequest) -> bool:
    """A ``POST`` to a Graph ``/$batch``; never raises (a URL that does not parse is no batch)."""
    try:
        parsed = req.graph_url
    except ValueError:  # e.g. a bad IPv6 literal
        return False
    return parsed is not None and req.method.upper() == "POST" and is_batch_resource(parsed.resource)


def item_path(index: int, rest: str = "") -> str:
    """``batch[2]`` + ``.body.subject``: the path of something inside item ``index``."""
    if rest and not rest.startswith((".", "[")):
        rest = "." + rest
    return f"{ROOT}[{index}]{rest}"


def item_index(path: str) -> int | None:
    """The item a ``batch[N]...`` path names; None for any other path."""
    m = _ITEM.match(path)
    return int(m.group(1)) if m else None


def request_items(req: HttpRequest) -> list[Any] | None:
    """The ``requests`` list of a batch request's body; None if the body is not ``{"requests": [...]}``."""
    if not req.json.ok:
        return None
    value = req.json.value
    items = value.get("requests") if isinstance(value, dict) else None
    return items if isinstance(items, list) else None


def response_items(value: Any) -> list[Any] | None:
    """The ``responses`` list of a batch answer's parsed JSON; None if it is not ``{"responses": [...]}``."""
    items = value.get("responses") if isinstance(value, dict) else None
    return items if isinstance(items, list) else None


def answer_items(body: bytes) -> tuple[dict[str, Any], list[Any]] | None:
    """A batch answer's document and its ``responses``; None unless ``body`` is ``{"responses": [...]}``."""
    try:
        value = parse_json(body)
    except (ValueError, RecursionError):
        return None
    items = response_items(value)
    return (value, items) if items is not None else None


def item_id(item: Any) -> str | None:
    """An item's id as a string (ids are compared case-insensitively by Graph, kept as given here)."""
    if not isinstance(item, dict) or item.get("id") is None:
        return None
    return str(item["id"])


def item_headers(item: dict[str, Any]) -> Headers:
    given = item.get("headers")
    return [(str(k), str(v)) for k, v in given.items()] if isinstance(given, dict) else []


def item_body(item: dict[str, Any]) -> bytes:
    """The bytes the item's body stands for: a JSON value written compactly; a string as it is (UTF-8) for a text
    media type (Graph's base64 MIME is ``text/plain``), base64-decoded for any other (json-batching: "a base64
    URL-encoded value"; msgraph-core sends ``{}`` as ``"e30="``) when it decodes."""
    body = item.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    media = media_type(header(item_headers(item), "content-type") or "")
    if not media or media.startswith("text/"):
        return body.encode("utf-8")
    try:
        standard = body.replace("-", "+").replace("_", "/")
        return base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
    except ValueError:
        return body.encode("utf-8")


def item_request(item: Any, batch: HttpRequest) -> HttpRequest | None:
    """The request an item stands for, on the batch's host and version; None for an item without method or url."""
    parsed = batch.graph_url
    if parsed is None or not isinstance(item, dict):
        return None
    method, url = item.get("method"), item.get("url")
    if not isinstance(method, str) or not isinstance(url, str):
        return None
    parts = urlsplit(url)
    target = f"https://{parsed.host}/{parsed.version}/{parts.path.lstrip('/')}"
    if parts.query:
        target += f"?{parts.query}"
    return HttpRequest(method.upper(), target, item_headers(item), item_body(item))


def depends_on(item: Any) -> list[str]:
    deps = item.get("dependsOn") if isinstance(item, dict) else None
    return [str(d) for d in deps] if isinstance(deps, list) else []


def pair_items(recorded: Sequence[Any], actual: Sequence[Any]) -> list[tuple[int | None, int | None]]:
    """(recorded index, actual index) pairs: the same id first, then the rest by position; ``None`` on the side
    that lacks the item. In the actual order, then the recorded items nobody paired."""
    by_id: dict[str, int] = {}
    for i, item in enumerate(recorded):
        key = item_id(item)
        if key is not None:
            by_id.setdefault(key.lower(), i)
    taken: dict[int, int] = {}
    for j, item in enumerate(actual):
        key = item_id(item)
        found = by_id.get(key.lower()) if key is not None else None
        if found is not None and found not in taken.values():
            taken[j] = found
    spare = iter(i for i in range(len(recorded)) if i not in taken.values())
    pairs: list[tuple[int | None, int | None]] = []
    for j in range(len(actual)):
        pairs.append((taken[j] if j in taken else next(spare, None), j))
    pairs.extend((i, None) for i in spare)
    return pairs


def dependency_positions(items: Sequence[Any], item: Any) -> list[int | str]:
    """The positions of the items ``item`` depends on (an id no item has stays as given)."""
    where = {(item_id(x) or "").lower(): i for i, x in enumerate(items) if item_id(x) is not None}
    return [where.get(d.lower(), d) for d in depends_on(item)]


def _without_ids(items: Sequence[Any]) -> list[Any]:
    return [{**{k: v for k, v in item.items() if k != "id"}, "dependsOn": dependency_positions(items, item)}
            if isinstance(item, dict) else item for item in items]


def batch_fingerprint(req: HttpRequest) -> bytes | None:
    """The batch's items as canonical JSON without their ids (dependsOn as positions): equal for the same batch
    sent again with fresh ids (the SDKs make up uuid4 ids every run); None for a body that is not a batch."""
    items = request_items(req)
    if items is None:
        return None
    try:
        return json.dumps(_without_ids(items), sort_keys=True, separators=(",", ":")).encode("utf-8")
    except (ValueError, TypeError, RecursionError):
        return None


def batch_shape(req: HttpRequest) -> str:
    """The method and path of each item, in order: what a batch does, whatever its bodies say ("" if no batch)."""
    items = request_items(req) or []
    out = []
    for item in items:
        sub = item_request(item, req)
        parsed = sub.graph_url if sub is not None else None
        out.append(f"{sub.method} {parsed.resource}" if sub is not None and parsed is not None else "?")
    return "\n".join(out)


def answered_status(req: HttpRequest, resp: HttpResponse, location: str) -> int:
    """The status Graph gave what a finding at ``location`` is about: for ``batch[N]...``, item N's own status in
    the batch's answer (found by its id), else the response's."""
    index = item_index(location)
    items = request_items(req) if index is not None and is_batch(req) else None
    if index is None or items is None or index >= len(items):
        return resp.status
    try:
        answers = response_items(json.loads(resp.body.decode("utf-8")))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return resp.status
    wanted = (item_id(items[index]) or "").lower()
    for answer in answers or []:
        if (item_id(answer) or "").lower() == wanted and isinstance(answer.get("status"), int):
            return int(answer["status"])
    return resp.status
