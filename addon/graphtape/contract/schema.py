"""Checking JSON bodies against mail-schemas.yaml with jsonschema (Draft 2020-12).

jsonschema does the walking; this module adds graphtape's few keywords (see the header of
mail-schemas.yaml), compiles one validator per (version, definition) once, and turns each
validation error into a Finding of the rule registry, with a JSON pointer into the body as sent.
"""

from __future__ import annotations

import binascii
import contextlib
import difflib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators
from jsonschema.protocols import Validator

from graphtape.model import Finding

from .data import schemas
from .rules import RULES, finding, pointer

MAX_FINDINGS = 200  # per body: enough to fix, bounded for hostile input
MAX_UNKNOWN_PER_OBJECT = 20

_SNAKE = re.compile(r"_([a-z0-9])")


# ---- graphtape's keywords --------------------------------------------------------------------


def _enum_any_case(validator: Any, allowed: list[str], instance: Any, schema: Any) -> Iterator[ValidationError]:
    if isinstance(instance, str) and instance.lower() not in {a.lower() for a in allowed}:
        yield ValidationError(f"{instance!r} is not one of {allowed}")


def _read_only(validator: Any, value: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if value is True:
        yield ValidationError("set by the server")


def _beta_only(validator: Any, value: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if value is True:
        yield ValidationError("exists on /beta only")


_FORMATS = FormatChecker(())


@_FORMATS.checks("base64", raises=(binascii.Error, ValueError))
def _is_base64(value: object) -> bool:
    """An Edm.Binary value: standard base64 with padding, no whitespace."""
    if isinstance(value, str):
        binascii.a2b_base64(value.encode("ascii"), strict_mode=True)
    return True


_KEYWORDS = {"x-enumAnyCase": _enum_any_case, "readOnly": _read_only}
_V1 = validators.extend(Draft202012Validator, {**_KEYWORDS, "x-betaOnly": _beta_only})
_BETA = validators.extend(Draft202012Validator, _KEYWORDS)


def definition(name: str) -> Mapping[str, Any]:
    defs: Mapping[str, Any] = schemas()["$defs"]
    return defs[name]


_LOCAL_REF = "#/$defs/"
MAX_INLINE_DEPTH = 32


def inline_refs(node: Any, defs: Mapping[str, Any], depth: int = 0) -> Any:
    """``node`` with every ``{"$ref": "#/$defs/X"}`` replaced by (an inlined copy of) X.

    jsonschema resolves a ``$ref`` on every visit (~15 µs each through ``referencing``): a message
    body has several, and inlined the same validation takes half the time. Only a ``$ref`` standing
    alone to a local definition is inlined (with siblings it would mean more than X). Raises
    ValueError for anything else, and for definitions that refer to themselves.
    """
    if depth > MAX_INLINE_DEPTH:
        raise ValueError("the $defs refer to each other in a cycle")
    if isinstance(node, dict):
        ref = node.get("$ref")
        if ref is not None:
            if len(node) != 1 or not isinstance(ref, str) or not ref.startswith(_LOCAL_REF):
                raise ValueError(f"cannot inline {node!r}")
            return inline_refs(defs[ref[len(_LOCAL_REF):]], defs, depth + 1)
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
    document = {k: v for k, v in schemas().items() if k != "$id"}
    cls = _BETA if version == "beta" else _V1
    root: Any = {**document, "$ref": f"#/$defs/{name}"}
    if inline:
        with contextlib.suppress(ValueError):  # not inlinable: validate through the $ref
            root = inline_refs(document["$defs"][name], document["$defs"])
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


def normalise_parameters(name: str, body: Any, doc: str) -> Parameters:
    schema = definition(name)
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
            message = f"{key!r} repeats the parameter {first!r}; send it once (camelCase or PascalCase)"
            out.findings.append(finding("parameter.duplicate", pointer([key]), message, doc))
            continue
        out.keys[canonical] = key
        out.body[canonical] = value
    return out


# ---- errors -> findings -----------------------------------------------------------------------


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def camel_case(key: str) -> str:
    """``"cc_recipients"`` -> ``"ccRecipients"``."""
    return _SNAKE.sub(lambda m: m.group(1).upper(), key)


def suggest(key: str, known: list[str]) -> str | None:
    """The known property a client probably meant by ``key`` (case, snake_case, typo)."""
    lower = {k.lower(): k for k in known}
    for candidate in (key.lower(), camel_case(key).lower()):
        if candidate in lower:
            return lower[candidate]
    close = difflib.get_close_matches(key.lower(), list(lower), n=1, cutoff=0.7)
    return lower[close[0]] if close else None


def _unknown_properties(error: ValidationError, params: Parameters, doc: str) -> Iterator[Finding]:
    schema: Mapping[str, Any] = error.schema if isinstance(error.schema, dict) else {}
    props: Mapping[str, Any] = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    known = [k for k, v in props.items() if not (isinstance(v, dict) and v.get("readOnly"))]
    base = list(error.absolute_path)
    instance = error.instance if isinstance(error.instance, dict) else {}
    extras = [k for k in instance if k not in props and not any(re.search(p, k) for p in patterns)]
    for key in extras[:MAX_UNKNOWN_PER_OBJECT]:
        where = params.path(*base, key)
        hint = suggest(key, known)
        did_you_mean = f"; did you mean {hint!r}?" if hint else ""
        if not schema.get("x-openType"):
            msg = f"{key!r} is not a property or parameter here{did_you_mean}"
            yield finding("property.undeclared", where, msg, doc)
        elif "_" in key and camel_case(key) in known:
            camel = camel_case(key)
            msg = f"{key!r} is snake_case, which Graph does not read as {camel!r}; did you mean {camel!r}?"
            yield finding("property.snake-case", where, msg, doc)
        else:
            what = f"did you mean {hint!r}?" if hint else "check the spelling against the message resource"
            msg = f"{key!r} is not a message property; Graph stores it as a custom property ({what})"
            yield finding("property.unknown", where, msg, doc)
    if len(extras) > MAX_UNKNOWN_PER_OBJECT:
        more = len(extras) - MAX_UNKNOWN_PER_OBJECT
        rule = "property.unknown" if schema.get("x-openType") else "property.undeclared"
        yield finding(rule, params.path(*base), f"and {more} more unknown properties", doc)


def _to_findings(error: ValidationError, params: Parameters, doc: str) -> Iterator[Finding]:
    keyword = error.validator
    path = list(error.absolute_path)
    where = params.path(*path)
    name = repr(path[-1]) if path and isinstance(path[-1], str) else "the value" if path else "the body"
    schema: Mapping[str, Any] = error.schema if isinstance(error.schema, dict) else {}
    if keyword == "additionalProperties":
        yield from _unknown_properties(error, params, doc)
    elif keyword == "readOnly":
        yield finding("property.read-only", where, f"{name} is set by the server; drop it from the request", doc)
    elif keyword == "x-betaOnly":
        msg = f"{name} exists on /beta only; call the /beta endpoint or drop it"
        yield finding("property.beta-only", where, msg, doc)
    elif keyword == "type":
        expected = error.validator_value
        wanted = " or ".join(expected) if isinstance(expected, list) else str(expected)
        msg = f"{name} is {_json_type(error.instance)} ({_short(error.instance)}), expected {wanted}"
        yield finding("schema.type", where, msg, doc)
    elif isinstance(schema.get("x-rule"), str):
        rule_id = schema["x-rule"]
        yield finding(rule_id, where, f"got {_short(error.instance)}: {RULES[rule_id].description}", doc)
    elif keyword in ("x-enumAnyCase", "enum"):
        allowed = ", ".join(str(v) for v in error.validator_value)
        msg = f"{name} is {_short(error.instance)}; use one of {allowed} (any letter case)"
        yield finding("schema.enum", where, msg, doc)
    elif keyword == "required":
        yield from _missing(error, params, doc)
    elif keyword == "format":
        cause = f" ({error.cause})" if error.cause else ""
        msg = f"{name} is not valid {error.validator_value}{cause}; use standard base64 with padding, no line breaks"
        yield finding("schema.format", where, msg, doc)
    else:
        yield finding("schema.invalid", where, f"{name}: {_short(error.message, 200)}", doc)


def _missing(error: ValidationError, params: Parameters, doc: str) -> Iterator[Finding]:
    instance = error.instance if isinstance(error.instance, dict) else {}
    accepts_pascal = isinstance(error.schema, dict) and error.schema.get("x-acceptPascalCase")
    for key in error.validator_value:
        if key in instance:
            continue
        also = f" (or {key[:1].upper() + key[1:]!r})" if accepts_pascal else ""
        where = params.path(*error.absolute_path, key)
        yield finding("schema.required", where, f"{key!r}{also} is required here and missing", doc)


def check_json(version: str, name: str, params: Parameters, doc: str, *, inline: bool = True) -> list[Finding]:
    """Validate an (already normalised) JSON body against definition ``name`` for an API version."""
    found: list[Finding] = list(params.findings)
    seen: set[tuple[str, str]] = set()
    for error in validator_for(version, name, inline=inline).iter_errors(params.body):
        for item in _to_findings(error, params, doc):
            if (item.rule, item.location) not in seen:
                seen.add((item.rule, item.location))
                found.append(item)
        if len(found) >= MAX_FINDINGS:
            break
    return found
