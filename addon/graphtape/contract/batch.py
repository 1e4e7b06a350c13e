"""JSON batching: every item of a ``POST /$batch`` is checked as the request it stands for.

Two kinds of finding (``bodies.batch`` says how items are named):

- the batch's own rules, which make Graph refuse the whole batch with a 400: its shape
  (``{"requests": [...]}``), at most 20 items, unique ids, each item with an id, a method and a relative url
  (``batch.invalid``); a Content-Type in ``headers`` for a body and on every write (``batch.content-type``);
  ``dependsOn`` naming earlier items (``batch.depends-on``). Located at ``batch`` or ``batch[N]``.
- each item's own findings, as for the same request sent alone (every URL spelling, every cross-field rule),
  located inside the item: ``batch[2].body.message.subject``, ``batch[0].mime.header.To``, ``batch[1].url``.
  Graph answers such an item alone, with its error as that item's response.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphtape.bodies.batch import (
    ROOT,
    WRITES,
    depends_on,
    item_headers,
    item_id,
    item_path,
    item_request,
    request_items,
)
from graphtape.diffing.paths import json_path
from graphtape.model import Finding, HttpRequest, header

from .rules import finding, graph_text

DOC = "https://learn.microsoft.com/graph/json-batching"
MAX_ITEMS = 20
BATCH_RULES = frozenset({"batch.invalid", "batch.content-type", "batch.depends-on"})  # refuse the whole batch
Validate = Callable[[HttpRequest], list[Finding]]


def _pointer_keys(pointer: str) -> list[str | int]:
    keys: list[str | int] = []
    for raw in pointer.split("/")[1:]:
        key = raw.replace("~1", "/").replace("~0", "~")
        keys.append(int(key) if key.isdigit() else key)
    return keys


def item_location(index: int, location: str) -> str:
    """A standalone request's finding location, inside item ``index``: ``/subject`` -> ``batch[2].body.subject``."""
    if location == "" or location.startswith("/"):
        return json_path(item_path(index, "body"), _pointer_keys(location))
    if location == "url":
        return item_path(index, "url")
    if location.startswith("header:"):
        return item_path(index, "header." + location[len("header:"):])
    if location.startswith("mime:"):
        kind, _, rest = location[len("mime:"):].partition(":")
        if kind == "part" and rest.isdigit():
            return item_path(index, f"mime.part[{rest}]")
        return item_path(index, ".".join(p for p in ("mime", kind, rest) if p))
    return f"{item_path(index)} ({location})"


def _relocate(found: Finding, index: int) -> Finding:
    return Finding(rule=found.rule, severity=found.severity, location=item_location(index, found.location),
                   message=found.message, doc=found.doc)


def _shape(item: Any, index: int, earlier: set[str]) -> list[Finding]:
    """The batch rules one item can break (each refuses the whole batch)."""
    if (not isinstance(item, dict) or item_id(item) is None or not isinstance(item.get("method"), str)
            or not isinstance(item.get("url"), str)):
        msg = "each request needs an id, a method and a relative url (json-batching)"
        return [finding("batch.invalid", item_path(index), msg, DOC)]
    ident = item_id(item) or ""
    deps = item.get("dependsOn")
    if deps is not None and (not isinstance(deps, list) or any(d.lower() not in earlier for d in depends_on(item))):
        msg = (f"request {ident!r} dependsOn {deps!r}; dependsOn is a list of ids of requests earlier in this "
               "batch")
        return [finding("batch.depends-on", item_path(index, "dependsOn"), msg, DOC)]
    if item.get("url", "").split("?", 1)[0].strip("/").lower() == "$batch":
        return [finding("batch.invalid", item_path(index, "url"), "a batch cannot hold another $batch", DOC)]
    has_body = item.get("body") is not None
    typed = header(item_headers(item), "content-type") is not None
    if (has_body and not typed) or (item["method"].upper() in WRITES and not has_body):
        text = graph_text("batch.content-type", id=ident)
        msg = f"{text} (graphtape: a body needs its Content-Type in headers; a write with no body sends \"body\": {{}})"
        return [finding("batch.content-type", item_path(index, "headers"), msg, DOC)]
    return []


def _item(item: dict[str, Any], index: int, batch: HttpRequest, validate: Validate) -> list[Finding]:
    """The item's own findings, as the request it stands for sent alone."""
    req = item_request(item, batch)
    if req is None:
        return []
    if req.body == b"{}":  # the docs' bodyless send passes "body": {} (with its Content-Type): no body
        req = HttpRequest(req.method, req.url, req.headers, b"")
    return [_relocate(f, index) for f in validate(req)]


def check_batch(req: HttpRequest, validate: Validate) -> list[Finding]:
    """Findings of a ``$batch`` body: the batch's own rules, then every item checked as a request of its own."""
    if not req.json.ok:  # the request's one parse
        return [finding("batch.invalid", ROOT, "the $batch body is not valid JSON", DOC)]
    items = request_items(req)
    if items is None:
        return [finding("batch.invalid", ROOT, 'a $batch body is {"requests": [...]}', DOC)]
    found: list[Finding] = []
    if len(items) > MAX_ITEMS:
        msg = f"{len(items)} requests in one batch; Graph takes at most {MAX_ITEMS}"
        found.append(finding("batch.invalid", ROOT, msg, DOC))
    ids = [i.lower() for i in (item_id(item) for item in items) if i is not None]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        msg = f"ids {repeated} are used twice; ids must be unique (not case-sensitive)"
        found.append(finding("batch.invalid", ROOT, msg, DOC))
    earlier: set[str] = set()
    for index, item in enumerate(items[:MAX_ITEMS]):
        shape = _shape(item, index, earlier)
        found += shape if shape else _item(item, index, req, validate)
        if item_id(item) is not None:
            earlier.add((item_id(item) or "").lower())
    return found


def refuses_whole(found: Finding) -> bool:
    """True for a finding of the batch's own rules: Graph refuses the whole batch for it."""
    return found.rule in BATCH_RULES and found.severity == "error"
