"""Serving a recorded ``$batch`` answer to the batch a client sends now.

- **Ids.** The SDKs make up a uuid4 id per item on every run, and read the answer by id. The recorded answer's
  items get the ids of the client's items they stand for (items paired as the differ pairs them: the same id,
  then by position), so the client finds each answer under the id it sent.
- **Enforce.** An item the contract refuses is answered with Graph's error for it, in place of its recorded
  answer, and its dependants with 424 (``contract.batch_enforce``); the other items are served as recorded.

A response that is not a batch answer, or needs neither, is served exactly as recorded (not re-serialised).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from graphtape.bodies.batch import answer_items, is_batch, item_id, pair_items, request_items
from graphtape.contract.batch_enforce import refuse_items, splice_answers
from graphtape.model import Finding, HttpRequest, HttpResponse


def _id_map(recorded: HttpRequest, actual: HttpRequest) -> dict[str, str]:
    """Recorded item id (lower case) -> the id of the client's item it stands for, where they differ."""
    old, new = request_items(recorded) or [], request_items(actual) or []
    out: dict[str, str] = {}
    for i, j in pair_items(old, new):
        a = item_id(old[i]) if i is not None else None
        b = item_id(new[j]) if j is not None else None
        if a is not None and b is not None and a != b:
            out[a.lower()] = b
    return out


def _renamed(body: bytes, ids: dict[str, str]) -> bytes | None:
    answer = answer_items(body)
    if answer is None:
        return None
    value, items = answer
    out: list[Any] = []
    for item in items:
        ident = item_id(item)
        fresh = ids.get(ident.lower()) if ident is not None else None
        out.append({**item, "id": fresh} if fresh is not None else item)
    return json.dumps({**value, "responses": out}, ensure_ascii=False).encode("utf-8")


def serve_batch(recorded: HttpRequest, actual: HttpRequest, findings: Sequence[Finding], resp: HttpResponse, *,
                enforce: bool) -> HttpResponse:
    """The recorded answer ``resp`` to ``recorded``, as served to ``actual`` (see the module's docstring)."""
    if not (is_batch(actual) and is_batch(recorded)) or resp.body_as_sent:
        return resp
    body = resp.body
    ids = _id_map(recorded, actual)
    if ids:
        body = _renamed(body, ids) or body
    refusal = refuse_items(actual, findings) if enforce else None
    if refusal is not None:
        body = splice_answers(body, refusal) or body
    return resp if body is resp.body else replace(resp, body=body)
