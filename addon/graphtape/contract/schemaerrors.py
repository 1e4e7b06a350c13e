"""Turning jsonschema's validation errors into findings of the rule registry.

Where Graph's answer is known word for word (OData's reader, under RequestBodyRead), the finding's
message starts with that sentence (rules.graph_text), and graphtape's hint follows in parentheses;
enforce mode answers with the sentence alone (contract/responses.py).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from jsonschema import ValidationError

from graphtape.model import Finding

from .rules import RULES, finding, graph_text

MAX_UNKNOWN_PER_OBJECT = 20
_SNAKE = re.compile(r"_([a-z0-9])")


class Located(Protocol):
    def path(self, *parts: str | int) -> str: ...


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


def _schema(error: ValidationError) -> Mapping[str, Any]:
    return error.schema if isinstance(error.schema, dict) else {}


def _unknown_properties(error: ValidationError, params: Located, doc: str) -> Iterator[Finding]:
    schema = _schema(error)
    props: Mapping[str, Any] = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    known = [k for k, v in props.items() if not (isinstance(v, dict) and v.get("readOnly"))]
    base = list(error.absolute_path)
    instance = error.instance if isinstance(error.instance, dict) else {}
    extras = [k for k in instance if k not in props and not any(re.search(p, k) for p in patterns)]
    operation = schema.get("x-operation")
    for key in extras[:MAX_UNKNOWN_PER_OBJECT]:
        hint = suggest(key, known)
        did_you_mean = f" (graphtape: did you mean {hint!r}?)" if hint else ""
        if operation:
            text = graph_text("parameter.undeclared", parameter=key, operation=operation)
            yield finding("parameter.undeclared", params.path(*base, key), text + did_you_mean, doc)
        else:
            text = graph_text("property.undeclared", property=key, type=schema.get("x-typeName", "?"))
            yield finding("property.undeclared", params.path(*base, key), text + did_you_mean, doc)
    if len(extras) > MAX_UNKNOWN_PER_OBJECT:
        more = len(extras) - MAX_UNKNOWN_PER_OBJECT
        rule = "parameter.undeclared" if operation else "property.undeclared"
        yield finding(rule, params.path(*base), f"and {more} more undeclared properties", doc)


def _missing(error: ValidationError, params: Located, doc: str) -> Iterator[Finding]:
    schema = _schema(error)
    instance = error.instance if isinstance(error.instance, dict) else {}
    missing = [k for k in error.validator_value if k not in instance]
    operation = schema.get("x-operation")
    if operation:
        names = schema.get("x-parameterNames", {})
        text = graph_text("parameter.missing", operation=operation,
                          parameters=", ".join(names.get(k, k) for k in missing))
        also = " or ".join(f"{k!r} (or {names.get(k, k)!r})" for k in missing)
        where = params.path(*error.absolute_path, missing[0]) if missing else params.path(*error.absolute_path)
        yield finding("parameter.missing", where, f"{text} (graphtape: add {also})", doc)
        return
    for key in missing:
        where = params.path(*error.absolute_path, key)
        yield finding("schema.required", where, f"{key!r} is required here and missing", doc)


def _type(error: ValidationError, name: str, where: str, doc: str) -> Iterator[Finding]:
    schema = _schema(error)
    edm = schema.get("x-edm") or schema.get("x-typeName")  # a def names its own type (same inlined or not)
    if error.instance is None and error.absolute_path:
        prop = str(error.absolute_path[-1])
        text = graph_text("schema.null", property=prop, type=edm or "?")
        yield finding("schema.null", where, f"{text} (graphtape: drop {prop!r} or give it a value)", doc)
        return
    expected = error.validator_value
    wanted = edm or (" or ".join(expected) if isinstance(expected, list) else str(expected))
    msg = f"{name} is {_json_type(error.instance)} ({_short(error.instance)}), expected {wanted}"
    yield finding("schema.type", where, msg, doc)


def _ruled(error: ValidationError, rule_id: str, where: str, doc: str) -> Finding:
    rule = RULES[rule_id]
    if rule_id == "odata-type.unknown" and isinstance(error.instance, str):
        text = graph_text(rule_id, type=error.instance.lstrip("#"))
        return finding(rule_id, where, f"{text} (graphtape: {rule.description})", doc)
    if rule.graph_message and "{" not in rule.graph_message:
        return finding(rule_id, where, f"{rule.graph_message} (graphtape: got {_short(error.instance)})", doc)
    return finding(rule_id, where, f"got {_short(error.instance)}: {rule.description}", doc)


def to_findings(error: ValidationError, params: Located, doc: str) -> Iterator[Finding]:
    keyword = error.validator
    path = list(error.absolute_path)
    where = params.path(*path)
    name = repr(path[-1]) if path and isinstance(path[-1], str) else "the value" if path else "the body"
    schema = _schema(error)
    if keyword == "additionalProperties":
        yield from _unknown_properties(error, params, doc)
    elif keyword == "readOnly":
        yield finding("property.read-only", where, f"{name} is set by the server; drop it from the request", doc)
    elif keyword == "x-betaOnly":
        owner = error.validator_value if isinstance(error.validator_value, str) else "?"
        text = graph_text("property.beta-only", property=str(path[-1]) if path else "?", type=owner)
        msg = f"{text} (graphtape: {name} exists on /beta only; call the /beta endpoint or drop it)"
        yield finding("property.beta-only", where, msg, doc)
    elif keyword == "type":
        yield from _type(error, name, where, doc)
    elif keyword == "x-booleanString":
        msg = f"{name} is the string {_short(error.instance)}; Edm.Boolean takes true or false (or \"true\"/\"false\")"
        yield finding("schema.type", where, msg, doc)
    elif isinstance(schema.get("x-rule"), str):
        yield _ruled(error, schema["x-rule"], where, doc)
    elif keyword in ("x-enumAnyCase", "enum"):
        allowed = ", ".join(str(v) for v in error.validator_value)
        msg = f"{name} is {_short(error.instance)}; use one of {allowed} (any letter case)"
        yield finding("schema.enum", where, msg, doc)
    elif keyword == "required":
        yield from _missing(error, params, doc)
    elif keyword == "format":
        cause = f" ({error.cause})" if error.cause else ""
        edm = schema.get("x-edm", error.validator_value)
        msg = f"{name} is not a valid {edm} value{cause}"
        if error.validator_value == "base64":
            msg += "; use standard base64 with padding, no line breaks"
        yield finding("schema.format", where, msg, doc)
    else:
        yield finding("schema.invalid", where, f"{name}: {_short(error.message, 200)}", doc)
