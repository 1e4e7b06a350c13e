"""How a ``$batch`` differs from its recording: item by item, each as the request it stands for.

Items are paired by id, then the rest by position (``bodies.batch.pair_items``): the SDKs make up a uuid4 id
per item on every run, so a batch the same code sends again pairs by position. Each pair is diffed as two
requests sent alone (request line, compared headers, body: JSON by structure, base64 MIME as MIME), under
``batch[N].`` with N the item's position in the batch the client sent (in the recording's, for an item only
the recording has): ``batch[2].body.message.subject``, ``batch[0].mime.header.Subject``,
``batch[1].path``. Besides:

- ``batch[N].dependsOn``: the positions of the items it depends on (ids differ from run to run), e.g.
  ``[0] -> [1]``;
- ``batch[N]``: an item only one side has (``added`` / ``removed``, shown as ``POST /me/sendMail``).

Item ids are not compared. The ignore rules see an item's deviations twice: as the item's own request would
have them (``mime.header.Date``, ``header.client-request-id`` stay ignored inside a batch), then with their
``batch[N].`` path.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, Literal

from graphtape.bodies.batch import dependency_positions, item_path, item_request, pair_items, request_items
from graphtape.model import Deviation, HttpRequest

ItemDiff = Callable[[HttpRequest, HttpRequest], list[Deviation]]


def _summary(item: Any, batch: HttpRequest) -> str:
    req = item_request(item, batch)
    if req is None:
        return repr(item)[:200]
    parsed = req.graph_url
    return f"{req.method} {parsed.resource if parsed is not None else req.url}"


def _prefixed(index: int, found: list[Deviation]) -> list[Deviation]:
    return [dataclasses.replace(d, path=item_path(index, d.path)) for d in found]


def _pair(recorded: HttpRequest, actual: HttpRequest, items: tuple[Sequence[Any], Sequence[Any]],
          pair: tuple[int | None, int | None], item_diff: ItemDiff) -> list[Deviation]:
    old_items, new_items = items
    i, j = pair
    if i is None and j is not None:
        return [Deviation(item_path(j), "added", None, _summary(new_items[j], actual))]
    if j is None and i is not None:
        return [Deviation(item_path(i), "removed", _summary(old_items[i], recorded), None)]
    assert i is not None and j is not None
    old, new = old_items[i], new_items[j]
    a, b = item_request(old, recorded), item_request(new, actual)
    if a is None or b is None:
        return [] if old == new else [Deviation(item_path(j), "changed", old, new)]
    found = _prefixed(j, item_diff(a, b))
    before, after = dependency_positions(old_items, old), dependency_positions(new_items, new)
    if before != after:
        kind: Literal["changed", "added", "removed"] = "added" if not before else "removed" if not after else "changed"
        found.append(Deviation(item_path(j, "dependsOn"), kind, before or None, after or None))
    return found


def diff_batch(recorded: HttpRequest, actual: HttpRequest, item_diff: ItemDiff) -> list[Deviation] | None:
    """Item-by-item deviations of two ``$batch`` requests; None if either body is not ``{"requests": [...]}``
    (then the bodies are compared as any JSON). ``item_diff`` diffs two items' requests (ignore rules applied)."""
    old_items, new_items = request_items(recorded), request_items(actual)
    if old_items is None or new_items is None:
        return None
    found: list[Deviation] = []
    for pair in pair_items(old_items, new_items):
        found += _pair(recorded, actual, (old_items, new_items), pair, item_diff)
    return found
