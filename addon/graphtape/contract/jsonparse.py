"""Parsing a JSON body the way OData reads it: the same key twice in one object is an error, not "the last wins".

The parse itself is ``bodies.kinds.parse_json_body`` (a request's view parses its body once with it).
"""

from __future__ import annotations

from typing import Any

from graphtape.bodies.kinds import JsonPath, parse_json_body

Path = JsonPath


def parse_json_strict(body: bytes) -> tuple[Any, list[tuple[Path, str]]]:
    """(the parsed body, [(path of the object, key given twice), ...]); raises ValueError on bad JSON."""
    parsed = parse_json_body(body)
    if parsed.error is not None:
        raise parsed.error
    return parsed.value, list(parsed.repeated)
