"""A fast yes/no in front of jsonschema: a schema compiled to Python predicates that say whether a body is valid.

Most request bodies are valid, and for those jsonschema's walk costs ~100 µs (it builds a validator per subschema
it descends into, and an error generator per keyword). ``compile_gate`` turns one of contract/schema.py's
validators into a predicate with the same verdict: ``gate(body)`` is True exactly when
``validator.iter_errors(body)`` yields nothing. Only then is jsonschema skipped (``schema.check_json``); any other
body still goes through jsonschema, which gives the findings. So the gate never decides a finding, it only
proves that there is none.

It is exact, or it is not made: the keywords are those the validator class itself applies (its ``VALIDATORS``;
anything else in a schema is an annotation both ignore), each compiled with jsonschema's own semantics (Draft
2020-12 types, ``re.search`` for patterns, the validator's own format checker, ``if`` as ``is_valid``). A schema
with a keyword not compiled here (``$ref``, ``oneOf``, ...) gets no gate (None), and jsonschema checks every body
of it as before. tests/contract/test_schema_gate.py holds the verdicts side by side with jsonschema's.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable, Mapping
from typing import Any

from jsonschema.protocols import Validator

Check = Callable[[Any], bool]


class Unsupported(Exception):
    """The schema uses a keyword (or a type name) the gate does not compile: no gate for it."""


def _is_type(name: str) -> Check:
    """Draft 2020-12's type checker: bool is no number, 1.0 is an integer."""
    if name == "object":
        return lambda x: isinstance(x, dict)
    if name == "array":
        return lambda x: isinstance(x, list)
    if name == "string":
        return lambda x: isinstance(x, str)
    if name == "boolean":
        return lambda x: isinstance(x, bool)
    if name == "null":
        return lambda x: x is None
    if name == "number":
        return lambda x: isinstance(x, numbers.Number) and not isinstance(x, bool)
    if name == "integer":
        return lambda x: not isinstance(x, bool) and (isinstance(x, int) or (isinstance(x, float) and x.is_integer()))
    raise Unsupported(f"type {name!r}")


_PLAIN_TYPES: dict[str, type] = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


def _type(types: Any) -> Check:
    names = types if isinstance(types, list) else [types]
    checks = [_is_type(t) for t in names]  # Unsupported for a name Draft 2020-12 does not know
    if len(checks) == 1:
        return checks[0]
    plain = tuple(_PLAIN_TYPES[t] for t in names if t in _PLAIN_TYPES)  # isinstance decides these alone
    numeric = [c for t, c in zip(names, checks, strict=True) if t not in _PLAIN_TYPES]
    if not numeric:
        return lambda x: isinstance(x, plain)
    return lambda x: isinstance(x, plain) or any(c(x) for c in numeric)


_OBJECT = ("properties", "patternProperties", "additionalProperties")  # compiled together: one pass over the keys


def _all(checks: list[Check]) -> Check:
    if not checks:
        return lambda x: True
    if len(checks) == 1:
        return checks[0]

    def check(x: Any) -> bool:
        for c in checks:  # noqa: SIM110 (a loop: all() over a generator costs more, on every node of every body)
            if not c(x):
                return False
        return True

    return check


class _Compiler:
    def __init__(self, validator: Validator) -> None:
        self.keywords = frozenset(type(validator).VALIDATORS)
        self.formats = validator.format_checker

    def schema(self, node: Any) -> Check:
        if node is True:
            return lambda x: True
        if node is False:
            return lambda x: False
        if not isinstance(node, Mapping):
            raise Unsupported(f"a schema that is neither an object nor a boolean: {node!r}")
        checks = [self.keyword(node, key, value) for key, value in node.items()
                  if key in self.keywords and key not in _OBJECT]
        if any(key in node for key in _OBJECT):
            checks.append(self._object(node))
        return _all([c for c in checks if c is not None])

    def keyword(self, node: Mapping[str, Any], key: str, value: Any) -> Check | None:
        simple = _SIMPLE.get(key)
        if simple is not None:
            return simple(value)
        if key == "items":
            return self._items(node, value)
        if key == "allOf":
            return _all([self.schema(s) for s in value])
        if key == "if":
            return self._if(node, value)
        if key == "format":
            formats = self.formats
            return None if formats is None else (lambda x: formats.conforms(x, value))
        raise Unsupported(key)

    def _object(self, node: Mapping[str, Any]) -> Check:
        """properties, patternProperties and additionalProperties of one schema, in one pass over the keys."""
        props = {k: self.schema(s) for k, s in node.get("properties", {}).items()}
        patterns = [(re.compile(p), self.schema(s)) for p, s in node.get("patternProperties", {}).items()]
        # what jsonschema's additionalProperties tests: the patterns joined, as find_additional_properties joins them
        joined = re.compile("|".join(node.get("patternProperties", {}))) if node.get("patternProperties") else None
        extra = node.get("additionalProperties", True)
        extra_check = None if extra is True else (self.schema(extra) if isinstance(extra, Mapping) else None)
        no_extras = extra is not True and extra_check is None and not extra  # false: none allowed
        limited = no_extras or extra_check is not None

        def check(x: Any) -> bool:
            if not isinstance(x, dict):
                return True
            for k, v in x.items():
                sub = props.get(k)
                if sub is not None and not sub(v):
                    return False
                for regex, psub in patterns:
                    if regex.search(k) and not psub(v):
                        return False
                if (sub is None and limited and not (joined is not None and joined.search(k))
                        and (extra_check is None or not extra_check(v))):
                    return False
            return True

        return check

    def _items(self, node: Mapping[str, Any], items: Any) -> Check:
        if "prefixItems" in node:
            raise Unsupported("prefixItems")
        sub = self.schema(items)

        def check(x: Any) -> bool:
            if isinstance(x, list):
                for item in x:  # a loop, not all(): see _all
                    if not sub(item):
                        return False
            return True

        return check

    def _if(self, node: Mapping[str, Any], value: Any) -> Check:
        cond = self.schema(value)
        then = self.schema(node["then"]) if "then" in node else None
        other = self.schema(node["else"]) if "else" in node else None

        def check(x: Any) -> bool:
            if cond(x):
                return then is None or then(x)
            return other is None or other(x)

        return check


def _number_bound(bound: Any, above: bool) -> Check:
    is_number = _is_type("number")
    if above:
        return lambda x: not is_number(x) or not x > bound
    return lambda x: not is_number(x) or not x < bound


def _pattern(value: str) -> Check:
    return lambda x: not isinstance(x, str) or re.search(value, x) is not None


def _enum_any_case(allowed: list[str]) -> Check:
    lowered = {a.lower() for a in allowed}
    return lambda x: not isinstance(x, str) or x.lower() in lowered


def _required(names: list[str]) -> Check:
    return lambda x: not isinstance(x, dict) or all(n in x for n in names)


def _length(bound: int, longest: bool) -> Check:
    if longest:
        return lambda x: not isinstance(x, list) or len(x) <= bound
    return lambda x: not isinstance(x, list) or len(x) >= bound


# Keywords whose check reads only their own value; each as contract/schema.py's validator classes apply it.
_SIMPLE: dict[str, Callable[[Any], Check]] = {
    "type": _type,
    "required": _required,
    "pattern": _pattern,
    "minimum": lambda v: _number_bound(v, above=False),
    "maximum": lambda v: _number_bound(v, above=True),
    "minItems": lambda v: _length(v, longest=False),
    "maxItems": lambda v: _length(v, longest=True),
    "x-enumAnyCase": _enum_any_case,
    "x-booleanString": lambda allowed: lambda x: not isinstance(x, str) or x in allowed,
    "readOnly": lambda v: (lambda x: False) if v is True else (lambda x: True),
    "x-betaOnly": lambda v: (lambda x: False) if v else (lambda x: True),
}


def compile_gate(validator: Validator) -> Check | None:
    """``validator``'s verdict as a predicate (True: no error), or None if its schema uses a keyword not
    compiled here."""
    try:
        return _Compiler(validator).schema(validator.schema)
    except Exception:  # Unsupported, a pattern re cannot compile, a keyword value of an unexpected shape
        return None
