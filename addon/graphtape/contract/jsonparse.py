"""Parsing a JSON body the way OData reads it: the same key twice in one object is an error, not "the last wins"."""

from __future__ import annotations

import json
from typing import Any

Path = tuple[str | int, ...]


class _Object(dict[str, Any]):
    """A JSON object that remembers the keys it was given more than once."""

    repeated: list[str]


def _pairs(pairs: list[tuple[str, Any]]) -> _Object:
    out = _Object()
    out.repeated = []
    for key, value in pairs:
        if key in out and key not in out.repeated:
            out.repeated.append(key)
        out[key] = value
    return out


def parse_json_strict(body: bytes) -> tuple[Any, list[tuple[Path, str]]]:
    """(the parsed body, [(path of the object, key given twice), ...]); raises ValueError on bad JSON.

    Values are those of Python's json (the last of repeated keys); the repeated keys are reported so
    that the contract can refuse them as OData does (DuplicatePropertyNamesNotAllowed).
    """
    data = json.loads(body.decode("utf-8-sig"), object_pairs_hook=_pairs)
    repeated: list[tuple[Path, str]] = []
    todo: list[tuple[Path, Any]] = [((), data)]
    while todo:  # iterative: a deeply nested body must not exhaust the stack here
        path, node = todo.pop()
        if isinstance(node, _Object):
            repeated += [(path, key) for key in node.repeated]
            todo += [((*path, k), v) for k, v in reversed(node.items())]
        elif isinstance(node, list):
            todo += [((*path, i), v) for i, v in reversed(list(enumerate(node)))]
    return data, repeated
