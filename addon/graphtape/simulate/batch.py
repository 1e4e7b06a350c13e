"""``POST /$batch``, answered the way Graph does (json-batching).

- The batch itself: 400 for a body that is not ``{"requests": [...]}``, more than 20 requests, an id used twice
  (ids are not case-sensitive), an item without id, method or url, a write (POST, PUT, PATCH) or a body without
  ``Content-Type`` in its headers ("Write request id : X does not contain Content-Type header or body."), a
  ``dependsOn`` naming no earlier item. Otherwise 200, whatever the items' own statuses.
- Each item is run as a request of its own (``run``: the simulator's own ``answer``), in order, so that
  ``dependsOn`` names items already run; an item that depends on one answered with an error status gets 424
  instead of running.
- Each answer is ``{"id", "status", "headers", "body"}``: a JSON body as JSON, any other body base64-encoded.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from graphtape.bodies.batch import item_body
from graphtape.model import HttpRequest, HttpResponse

MAX_ITEMS = 20
WRITES = frozenset({"POST", "PUT", "PATCH"})
Run = Callable[[HttpRequest], HttpResponse]


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def _item_error(item: Any, seen: set[str]) -> str | None:
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
    return None


def batch_error(items: Any) -> str | None:
    """Why Graph refuses the whole batch; None if it runs it."""
    if not isinstance(items, list):
        return "Invalid batch payload format."
    if len(items) > MAX_ITEMS:
        return f"The batch holds {len(items)} requests; at most {MAX_ITEMS} are allowed."
    seen: set[str] = set()
    for item in items:
        why = _item_error(item, seen)
        if why is not None:
            return why
        seen.add(item["id"].lower())
    return None


def item_request(base: str, item: dict[str, Any]) -> HttpRequest:
    """A batch item as the request it stands for (``base``: ``https://graph.microsoft.com/v1.0``)."""
    body = item_body(item)  # a string: as it is for text types, base64-decoded for others
    body = b"" if body == b"{}" else body  # the docs' bodyless send passes "body": {}
    headers = [(str(k), str(v)) for k, v in (item.get("headers") or {}).items()]
    url = item["url"]
    if not url.lower().startswith(("https://", "http://")):  # msgraph-core sends an absolute URL when the base
        url = f"{base}/{url.lstrip('/')}"                     # URL it strips is spelled /v1.0// (the SDK's)
    return HttpRequest(item["method"].upper(), url, headers, body)


def _answer(item: dict[str, Any], resp: HttpResponse) -> dict[str, Any]:
    kept = {k: v for k, v in resp.headers if k.lower() not in ("server", "date", "content-length")}
    out: dict[str, Any] = {"id": item["id"], "status": resp.status, "headers": kept}
    if resp.body:
        is_json = "json" in resp.content_type
        out["body"] = json.loads(resp.body) if is_json else base64.b64encode(resp.body).decode("ascii")
    return out


def answer_batch(base: str, body: bytes, run: Run) -> tuple[int, Any]:
    """(status, JSON answer) for a ``$batch`` body, each item answered by ``run``."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        return 400, _error("BadRequest", "Invalid batch payload format.")
    items = doc.get("requests") if isinstance(doc, dict) else None
    why = batch_error(items)
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
            answer = _answer(item, run(item_request(base, item)))
        if answer["status"] >= 400:
            failed.add(item["id"].lower())
        answers.append(answer)
    return 200, {"responses": answers}
