"""JSON batching: every item of a ``POST /$batch`` is checked as the request it stands for.

The items are ``{id, method, url (relative), headers, body, dependsOn}`` (json-batching): at most 20, ids
unique, and a body needs its Content-Type in ``headers``. A JSON body is an object; a text body (base64 MIME)
is a string. Each item becomes an HttpRequest on the batch's host and version and goes through the same
validation as a request sent alone (every URL spelling, every cross-field rule); its findings are located
under ``/requests/N``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from graphtape.graph import GraphUrl
from graphtape.model import Finding, HttpRequest, header

from .rules import finding

DOC = "https://learn.microsoft.com/graph/json-batching"
MAX_ITEMS = 20
Validate = Callable[[HttpRequest], list[Finding]]


def _item_body(item: Mapping[str, Any]) -> bytes:
    body = item.get("body")
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body).encode("utf-8")


def _relocate(found: Finding, index: int) -> Finding:
    base = f"/requests/{index}"
    loc = found.location
    if loc == "url":
        where = f"{base}/url"
    elif loc.startswith("header:"):
        where = f"{base}/headers/{loc[len('header:'):]}"
    elif loc == "" or loc.startswith("/"):
        where = f"{base}/body{loc}"
    else:
        where = f"{base}/body ({loc})"
    return Finding(rule=found.rule, severity=found.severity, location=where, message=found.message, doc=found.doc)


def _item(item: Any, index: int, batch: GraphUrl, validate: Validate) -> list[Finding]:
    if not isinstance(item, dict) or not isinstance(item.get("method"), str) or not isinstance(item.get("url"), str):
        msg = "each request needs an id, a method and a relative url (json-batching)"
        return [finding("batch.invalid", f"/requests/{index}", msg, DOC)]
    given = item.get("headers")
    pairs = [(str(k), str(v)) for k, v in given.items()] if isinstance(given, dict) else []
    body = _item_body(item)
    if body and body != b"{}" and header(pairs, "content-type") is None:
        msg = "a request with a body needs its Content-Type in headers (json-batching)"
        return [finding("batch.invalid", f"/requests/{index}/headers", msg, DOC)]
    if body == b"{}" and header(pairs, "content-type") is None:
        body = b""  # the docs' own send example passes "body": {} with no Content-Type: no body
    path = urlsplit(item["url"]).path
    if path.strip("/").lower() == "$batch":
        return [finding("batch.invalid", f"/requests/{index}/url", "a batch cannot hold another $batch", DOC)]
    url = f"https://{batch.host}/{batch.version}/{path.lstrip('/')}"
    return [_relocate(f, index) for f in validate(HttpRequest(item["method"].upper(), url, pairs, body))]


def check_batch(req: HttpRequest, batch: GraphUrl, validate: Validate) -> list[Finding]:
    """Findings of a ``$batch`` body: its shape, then every item checked as a request of its own."""
    if not req.json.ok:  # the request's one parse
        return [finding("batch.invalid", "", "the $batch body is not valid JSON", DOC)]
    data = req.json.value
    items = data.get("requests") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return [finding("batch.invalid", "", 'a $batch body is {"requests": [...]}', DOC)]
    found: list[Finding] = []
    if len(items) > MAX_ITEMS:
        msg = f"{len(items)} requests in one batch; Graph takes at most {MAX_ITEMS}"
        found.append(finding("batch.invalid", "/requests", msg, DOC))
    ids = [item.get("id") for item in items if isinstance(item, dict)]
    repeated = sorted({str(i) for i in ids if ids.count(i) > 1})
    if repeated:
        found.append(finding("batch.invalid", "/requests", f"ids {repeated} are used twice; ids must be unique", DOC))
    for index, item in enumerate(items[:MAX_ITEMS]):
        found += _item(item, index, batch, validate)
    return found
