"""The stand-in's ``POST /$batch``, answered the way Graph does (json-batching).

- The batch itself: 400 for a body that is not ``{"requests": [...]}``, more than 20 requests, an id used twice
  (ids are not case-sensitive), an item without id, method or url, a write (POST, PUT, PATCH) or a body without
  ``Content-Type`` in its headers ("Write request id : X does not contain Content-Type header or body."), a
  ``dependsOn`` naming no earlier item. Otherwise 200, whatever the items' own statuses.
- Each item is run through the stand-in's own handling of its method and URL (the same handler, fed the item
  as a request of its own), in order, so that ``dependsOn`` names items already run; an item that depends on
  one answered with an error status gets 424 instead of running.
- Each answer is ``{"id", "status", "headers", "body"}``: a JSON body as JSON, any other body base64-encoded.
"""

from __future__ import annotations

import base64
import io
import json
from http.client import HTTPMessage
from http.server import BaseHTTPRequestHandler
from typing import Any

from graphtape.bodies.batch import item_body

MAX_ITEMS = 20
WRITES = frozenset({"POST", "PUT", "PATCH"})


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def _batch_error(items: Any) -> str | None:
    """Why Graph refuses the whole batch; None if it runs it."""
    if not isinstance(items, list):
        return "Invalid batch payload format."
    if len(items) > MAX_ITEMS:
        return f"The batch holds {len(items)} requests; at most {MAX_ITEMS} are allowed."
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("id", "method", "url")):
            return "Each request in a batch needs an id, a method and a url."
        ident = item["id"]
        if ident.lower() in seen:
            return f"Batch request id : {ident} is used more than once; ids must be unique."
        given = item.get("headers")
        headers = {str(k).lower() for k in given} if isinstance(given, dict) else set()
        has_body = item.get("body") is not None
        if (has_body or item["method"].upper() in WRITES) and not (has_body and "content-type" in headers):
            return f"Write request id : {ident} does not contain Content-Type header or body."
        deps = item.get("dependsOn", [])
        if not isinstance(deps, list) or any(str(d).lower() not in seen for d in deps):
            return f"Request id : {ident} depends on a request that is not earlier in the batch."
        seen.add(ident.lower())
    return None


def _item_body(item: dict[str, Any]) -> bytes:
    body = item_body(item)  # a string: as it is for text types, base64-decoded for others
    return b"" if body == b"{}" else body  # the docs' bodyless send passes "body": {}


def _parse_answer(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, rest = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip()] = value.strip()
    length = int(headers.pop("Content-Length", len(rest)))
    return status, headers, rest[:length]


def _run(outer: BaseHTTPRequestHandler, version: str, item: dict[str, Any]) -> dict[str, Any]:
    """One item through the stand-in's own handler (a copy of it reading the item and writing to a buffer)."""
    body = _item_body(item)
    method, path = item["method"].upper(), f"/{version}/{item['url'].lstrip('/')}"
    handler = object.__new__(type(outer))
    written = io.BytesIO()
    headers = HTTPMessage()
    for name, value in (item.get("headers") or {}).items():
        headers[str(name)] = str(value)
    headers["Content-Length"] = str(len(body))
    handler.__dict__.update(server=outer.server, client_address=outer.client_address, command=method, path=path,
                            request_version="HTTP/1.1", requestline=f"{method} {path} HTTP/1.1", headers=headers,
                            rfile=io.BytesIO(body), wfile=written, close_connection=False)
    run = getattr(handler, f"do_{method}", None)
    if run is None:
        return {"id": item["id"], "status": 405, "body": _error("BadRequest", f"{method} is not supported")}
    run()
    status, answer_headers, answer = _parse_answer(written.getvalue())
    kept = {k: v for k, v in answer_headers.items() if k.lower() not in ("server", "date")}
    out: dict[str, Any] = {"id": item["id"], "status": status, "headers": kept}
    if answer:
        is_json = "json" in answer_headers.get("Content-Type", "")
        out["body"] = json.loads(answer) if is_json else base64.b64encode(answer).decode("ascii")
    return out


def answer_batch(outer: BaseHTTPRequestHandler, version: str, body: bytes) -> tuple[int, Any]:
    """(status, JSON answer) for a ``$batch`` body, its items run by ``outer``'s own handling."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        return 400, _error("BadRequest", "Invalid batch payload format.")
    items = doc.get("requests") if isinstance(doc, dict) else None
    why = _batch_error(items)
    if why is not None:
        return 400, _error("BadRequest", why)
    assert isinstance(items, list)
    failed: set[str] = set()
    answers = []
    for item in items:
        dead = next((str(d) for d in item.get("dependsOn", []) if str(d).lower() in failed), None)
        if dead is not None:
            answer = {"id": item["id"], "status": 424,
                      "body": _error("FailedDependency", f"Request {dead} that this request depends on failed.")}
        else:
            answer = _run(outer, version, item)
        if answer["status"] >= 400:
            failed.add(item["id"].lower())
        answers.append(answer)
    return 200, {"responses": answers}
