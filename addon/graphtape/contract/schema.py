"""Checking JSON bodies against the schemas contract/build.py makes, with jsonschema (Draft 2020-12).

jsonschema does the walking; this module adds graphtape's few keywords (see contract/build.py),
compiles one validator per (version, definition) once, and turns each validation error into a
Finding of the rule registry (contract/schemaerrors.py), with a JSON pointer into the body as sent.
"""

from __future__ import annotations

import binascii
import contextlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators
from jsonschema.protocols import Validator

from graphtape.model import Finding

from .build import document
from .rules import finding, graph_text, pointer
from .schemaerrors import to_findings
from .schemagate import Check, compile_gate

MAX_FINDINGS = 200  # per body: enough to fix, bounded for hostile input


# ---- graphtape's keywords --------------------------------------------------------------------


def _enum_any_case(validator: Any, allowed: list[str], instance: Any, schema: Any) -> Iterator[ValidationError]:
    if isinstance(instance, str) and instance.lower() not in {a.lower() for a in allowed}:
        yield ValidationError(f"{instance!r} is not one of {allowed}")


def _boolean_string(validator: Any, allowed: list[str], instance: Any, schema: Any) -> Iterator[ValidationError]:
    if isinstance(instance, str) and instance not in allowed:
        yield ValidationError(f"{instance!r} is not a boolean")


def _read_only(validator: Any, value: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if value is True:
        yield ValidationError("set by the server")


def _beta_only(validator: Any, value: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if value:  # True, or the name of the type the property is on
        yield ValidationError("exists on /beta only")


_FORMATS = FormatChecker(())
_DATE = r"-?\d{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
_TIME = r"([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,12})?)?"
_PATTERNS = {
    # Edm.DateTimeOffset as OData JSON writes it; an offset-less value is taken as UTC, as the Outlook API does
    "edm-date-time-offset": re.compile(f"{_DATE}T{_TIME}(Z|z|[+-]([01]\\d|2[0-3]):[0-5]\\d)?"),
    "edm-date": re.compile(_DATE),
    "edm-time-of-day": re.compile(_TIME),
    "edm-duration": re.compile(r"-?P(\d+D)?(T(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?"),
    "edm-guid": re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"),
}


def _format_check(name: str, pattern: re.Pattern[str]) -> None:
    @_FORMATS.checks(name)
    def check(value: object) -> bool:
        return not isinstance(value, str) or pattern.fullmatch(value) is not None


for _name, _pattern in _PATTERNS.items():
    _format_check(_name, _pattern)


@_FORMATS.checks("base64", raises=(binascii.Error, ValueError))
def _is_base64(value: object) -> bool:
    """An Edm.Binary value: standard base64 with padding, no whitespace."""
    if isinstance(value, str):
        binascii.a2b_base64(value.encode("ascii"), strict_mode=True)
    return True


_KEYWORDS = {"x-enumAnyCase": _enum_any_case, "x-booleanString": _boolean_string, "readOnly": _read_only}
_V1 = validators.extend(Draft202012Validator, {**_KEYWORDS, "x-betaOnly": _beta_only})
_BETA = validators.extend(Draft202012Validator, _KEYWORDS)


def definition(name: str, version: str = "v1.0") -> Mapping[str, Any]:
    defs: Mapping[str, Any] = document(version)["$defs"]
    return defs[name]


_LOCAL_REF = "#/$defs/"
MAX_INLINE_DEPTH = 64


def inline_refs(node: Any, defs: Mapping[str, Any], depth: int = 0) -> Any:
    """``node`` with every ``{"$ref": "#/$defs/X"}`` replaced by (an inlined copy of) X.

    jsonschema resolves a ``$ref`` on every visit (~15 µs each through ``referencing``): a message
    body has several, and inlined the same validation takes half the time. A ``$ref`` to a local
    definition is inlined when it stands alone or beside graphtape's own ``x-`` keywords (which then
    apply to the inlined copy, as they would beside the ``$ref``). Raises ValueError for anything
    else, and for definitions that refer to themselves.
    """
    if depth > MAX_INLINE_DEPTH:
        raise ValueError("the $defs refer to each other in a cycle")
    if isinstance(node, dict):
        ref = node.get("$ref")
        if ref is not None:
            extra = {k: v for k, v in node.items() if k != "$ref"}
            if any(not k.startswith("x-") for k in extra) or not isinstance(ref, str) or not ref.startswith(_LOCAL_REF):
                raise ValueError(f"cannot inline {node!r}")
            target = inline_refs(defs[ref[len(_LOCAL_REF):]], defs, depth + 1)
            return {**target, **extra} if extra else target
        return {k: inline_refs(v, defs, depth + 1) for k, v in node.items()}
    if isinstance(node, list):
        return [inline_refs(v, defs, depth + 1) for v in node]
    return node


@cache
def validator_for(version: str, name: str, *, inline: bool = True) -> Validator:
    """The compiled validator of one $defs entry; /v1.0 refuses x-betaOnly properties, /beta takes them.

    The definition is validated with its ``$ref``s inlined (same errors, half the time; see
    ``inline_refs``), or as a ``$ref`` into the whole document when ``inline`` is False or it cannot be.
    """
    whole = {k: v for k, v in document(version).items() if k != "$id"}
    cls = _BETA if version == "beta" else _V1
    root: Any = {**whole, "type": "object", "$ref": f"#/$defs/{name}"}  # a body is an object, never null
    if inline:
        with contextlib.suppress(ValueError):  # not inlinable: validate through the $ref
            root = {"type": "object", "allOf": [inline_refs(whole["$defs"][name], whole["$defs"])]}
    validator: Validator = cls(root, format_checker=_FORMATS)
    return validator


# ---- action parameters: camelCase and PascalCase ---------------------------------------------


@dataclass
class Parameters:
    """A JSON body with action parameters renamed to their camelCase names (decision parameter-casing)."""

    body: Any
    keys: dict[str, str] = field(default_factory=dict)  # camelCase name -> the key as sent
    findings: list[Finding] = field(default_factory=list)

    def path(self, *parts: str | int) -> str:
        """The JSON pointer, in the body as sent, of a path given with camelCase parameter names."""
        if parts and isinstance(parts[0], str):
            parts = (self.keys.get(parts[0], parts[0]), *parts[1:])
        return pointer(parts)


def normalise_parameters(name: str, body: Any, doc: str, version: str = "v1.0") -> Parameters:
    schema = definition(name, version)
    if not schema.get("x-acceptPascalCase") or not isinstance(body, dict):
        return Parameters(body)
    names = set(schema.get("properties", {}))
    out = Parameters({})
    for key, value in body.items():
        canonical = key if key in names else key[:1].lower() + key[1:]
        if canonical not in names:
            canonical = key
        if canonical in out.keys:
            first = out.keys[canonical]
            text = graph_text("parameter.duplicate", parameter=schema.get("x-parameterNames", {}).get(canonical, key))
            message = f"{text} (graphtape: {key!r} repeats {first!r}; send it once, camelCase or PascalCase)"
            out.findings.append(finding("parameter.duplicate", pointer([key]), message, doc))
            continue
        out.keys[canonical] = key
        out.body[canonical] = value
    return out


@cache
def gate_for(version: str, name: str, *, inline: bool = True) -> Check | None:
    """``validator_for``'s verdict as a fast predicate (contract/schemagate.py), None where it cannot be made."""
    return compile_gate(validator_for(version, name, inline=inline))


def _passes_gate(version: str, name: str, body: Any, inline: bool) -> bool:
    """The body is valid, proven without jsonschema's walk; False: jsonschema decides (and names the errors)."""
    gate = gate_for(version, name, inline=inline)
    try:
        return gate is not None and gate(body)
    except RecursionError:  # nested deeper than the stack: jsonschema reports what it finds
        return False


def check_json(version: str, name: str, params: Parameters, doc: str, *, inline: bool = True) -> list[Finding]:
    """Validate an (already normalised) JSON body against definition ``name`` for an API version."""
    found: list[Finding] = list(params.findings)
    if _passes_gate(version, name, params.body, inline):
        return found  # what jsonschema's walk would give: it yields no error for a body the gate passes
    seen: set[tuple[str, str]] = set()
    for error in validator_for(version, name, inline=inline).iter_errors(params.body):
        for item in to_findings(error, params, doc):
            if (item.rule, item.location) not in seen:
                seen.add((item.rule, item.location))
                found.append(item)
        if len(found) >= MAX_FINDINGS:
            break
    return found
