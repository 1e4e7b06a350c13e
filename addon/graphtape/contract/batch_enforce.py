"""Enforcing the contract inside a ``$batch``, as Graph does: a bad item is answered alone, the others run.

- A finding of the batch's own rules (``contract.batch``: more than 20 items, ids repeated, an item without
  method or url, a body without Content-Type...) refuses the whole batch: ``enforcement_response`` answers it
  with Graph's 400, as for any request.
- An item whose own request breaks the contract gets, as its item of the answer, the response Graph gives that
  request sent alone (``enforcement_response``: status, Graph's code and message) with its ``id``; an item that
  ``dependsOn`` a refused one gets 424 (Failed Dependency), as Graph answers the dependants of a failed item.
  The other items are sent (record, inspect) or served as recorded (replay), and the refused items' answers are
  spliced into the batch's answer. A batch whose every item is refused is not sent: it is answered 200 with
  the refused items only.

Refused items' answers carry ``x-graphtape: contract-error`` in their headers. The 424's body is graphtape's
(Graph documents the status, not the body).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from graphtape.bodies.batch import (
    answer_items,
    depends_on,
    item_id,
    item_index,
    item_request,
    request_items,
)
from graphtape.bodies.kinds import parse_json
from graphtape.model import Finding, HttpRequest, HttpResponse

from .batch import refuses_whole
from .responses import GRAPH_JSON, MARK_HEADER, enforcement_response

FAILED_DEPENDENCY = 424


@dataclass(frozen=True)
class Refusal:
    """The items of a batch the contract refuses, answered; and the batch to send without them."""

    answers: dict[int, dict[str, Any]]  # item index -> its item of the answer {"id", "status", "headers", "body"}
    forward: bytes | None  # the batch body without the refused items; None when no item is left to send


def _answer(ident: str, resp: HttpResponse) -> dict[str, Any]:
    headers = {k: v for k, v in resp.headers if k.lower() != "request-id"}
    return {"id": ident, "status": resp.status, "headers": headers, "body": parse_json(resp.body)}


def _failed_dependency(ident: str, failed: str) -> dict[str, Any]:
    message = (f"graphtape: request {ident!r} depends on request {failed!r}, which failed (the Graph mail contract "
               "refused it), so it was not run")
    return {"id": ident, "status": FAILED_DEPENDENCY, "headers": {"content-type": GRAPH_JSON, MARK_HEADER[0]:
            MARK_HEADER[1]}, "body": {"error": {"code": "FailedDependency", "message": message}}}


def _by_item(findings: Sequence[Finding]) -> dict[int, list[Finding]] | None:
    """Each refused item's errors; None if any error is not an item's own (the whole batch is refused)."""
    out: dict[int, list[Finding]] = {}
    for found in findings:
        if found.severity != "error":
            continue
        index = item_index(found.location)
        if index is None or refuses_whole(found):
            return None
        out.setdefault(index, []).append(found)
    return out


def refuse_items(req: HttpRequest, findings: Sequence[Finding]) -> Refusal | None:
    """The refusal of a batch's bad items; None unless ``req`` is a batch whose errors are all its items' own."""
    items = request_items(req)
    by_item = _by_item(findings) if items is not None else None
    if items is None or not by_item:
        return None
    answers: dict[int, dict[str, Any]] = {}
    for index, found in sorted(by_item.items()):
        sub = item_request(items[index], req) if index < len(items) else None
        resp = enforcement_response(sub, found) if sub is not None else None
        if resp is None:
            return None
        answers[index] = _answer(item_id(items[index]) or "", resp)
    failed = {(item_id(items[i]) or "").lower(): item_id(items[i]) or "" for i in answers}
    for index, item in enumerate(items):  # dependsOn names earlier items only (contract.batch): one pass
        dead = next((failed[d.lower()] for d in depends_on(item) if d.lower() in failed), None)
        if index not in answers and dead is not None:
            ident = item_id(item) or ""
            answers[index] = _failed_dependency(ident, dead)
            failed[ident.lower()] = ident
    kept = [item for index, item in enumerate(items) if index not in answers]
    value = req.json.value
    forward = json.dumps({**value, "requests": kept}, ensure_ascii=False).encode("utf-8") if kept else None
    return Refusal(answers=answers, forward=forward)


def splice_answers(body: bytes, refusal: Refusal) -> bytes | None:
    """A batch answer with the refused items' answers in place of any answer with their ids, else added; None if
    ``body`` is not ``{"responses": [...]}`` (then nothing can be spliced into it)."""
    answer = answer_items(body)
    if answer is None:
        return None
    value, items = answer
    refused = {str(answer["id"]).lower(): answer for answer in refusal.answers.values()}
    kept = [item for item in items if (item_id(item) or "").lower() not in refused]
    out = {**value, "responses": [*kept, *(refusal.answers[i] for i in sorted(refusal.answers))]}
    return json.dumps(out, ensure_ascii=False).encode("utf-8")


def all_refused_response(refusal: Refusal) -> HttpResponse:
    """The answer to a batch whose every item is refused: 200, each item's answer (Graph parses the batch)."""
    body = json.dumps({"responses": [refusal.answers[i] for i in sorted(refusal.answers)]}, ensure_ascii=False)
    return HttpResponse(status=200, reason="OK", headers=[("content-type", GRAPH_JSON), MARK_HEADER],
                        body=body.encode("utf-8"))


def enforce_request(req: HttpRequest, findings: Sequence[Finding]) -> HttpResponse | None:
    """``enforcement_response``, batch-aware: None for a batch that goes on without its refused items (their answers
    are spliced into its answer afterwards), the 200 of refused items for a batch whose every item is refused."""
    refusal = refuse_items(req, findings)
    if refusal is None:
        return enforcement_response(req, findings)
    return all_refused_response(refusal) if refusal.forward is None else None
