"""The part of OData ``$filter`` the simulator understands (until ``query.py`` answers listings): ``path op
literal`` clauses joined by ``and``.

``op`` is ``eq``, ``ne``, ``gt``, ``ge``, ``lt`` or ``le``; ``path`` a property or a ``/`` path into one
(``from/emailAddress/address``); the literal a quoted string (``''`` for a quote), ``true``/``false``/``null``,
a number, or a bare date-time (``2026-01-01T00:00:00Z``, compared as the ISO text it is). Anything else is
answered as Graph answers a filter it cannot read: 400 ``BadRequest``.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Any

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq, "ne": operator.ne, "gt": operator.gt, "ge": operator.ge, "lt": operator.lt, "le": operator.le,
}
_CLAUSE = re.compile(r"\s*([A-Za-z][\w/]*)\s+(eq|ne|gt|ge|lt|le)\s+('(?:[^']|'')*'|[^\s']+)\s*", re.IGNORECASE)
_AND = re.compile(r"\s+and\s+", re.IGNORECASE)


class BadQuery(ValueError):
    """A query option the simulator answers with Graph's 400."""

    def __init__(self, message: str, code: str = "BadRequest"):
        super().__init__(message)
        self.code = code


def _literal(text: str) -> Any:
    if text.startswith("'"):
        return text[1:-1].replace("''", "'")
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":
        return None
    try:
        return float(text) if "." in text else int(text)
    except ValueError:
        return text  # a date-time


def _value(doc: Any, path: str) -> Any:
    for name in path.split("/"):
        doc = doc.get(name) if isinstance(doc, dict) else None
    return doc


def parse_filter(expression: str) -> Callable[[dict[str, Any]], bool]:
    """A predicate over message resources for a ``$filter`` value ("" keeps all); BadQuery if unreadable."""
    if not expression.strip():
        return lambda doc: True
    clauses = []
    for part in _AND.split(expression.strip()):
        m = _CLAUSE.fullmatch(part)
        if m is None:
            raise BadQuery(f"Invalid filter clause: the simulator cannot read '{part}'.")
        clauses.append((m.group(1), _OPS[m.group(2).lower()], _literal(m.group(3))))

    def keep(doc: dict[str, Any]) -> bool:
        for path, op, literal in clauses:
            value = _value(doc, path)
            if isinstance(value, str) and isinstance(literal, str) and path.lower().endswith("address"):
                value, literal = value.lower(), literal.lower()  # addresses compare without case, as in Exchange
            try:
                if not op(value, literal):
                    return False
            except TypeError:  # ordering None or mixed types: no match, as Graph's store answers
                return False
        return True

    return keep
