"""The schema gate (contract/schemagate.py) skips jsonschema only for bodies jsonschema finds no error in: its verdict
must be jsonschema's, for every definition on both API versions, on the corpus, on mutations of it and on generated
bodies; and check_json's findings must be the same with the gate as without it."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from test_schema_inlined import CORPUS, DEFS_OF, NAMES, VERSIONS, documents, keys

from graphtape.contract import schema
from graphtape.contract.schema import check_json, gate_for, normalise_parameters, validator_for
from graphtape.contract.schemagate import compile_gate


def _jsonschema_valid(version: str, name: str, body: Any) -> bool:
    return next(iter(validator_for(version, name).iter_errors(body)), None) is None


def _same_verdict(version: str, name: str, body: Any) -> bool:
    gate = gate_for(version, name)
    assert gate is not None
    verdict = gate(body)
    assert verdict == _jsonschema_valid(version, name, body), (version, name, json.dumps(body)[:300])
    return verdict


def _findings(version: str, name: str, body: Any) -> list[str]:
    params = normalise_parameters(name, body, "doc", version)
    return [f.line() for f in check_json(version, name, params, "doc")]


WRONG: list[Any] = [None, True, 0, 1.5, "", "x", "2026-13-01", "NOT-AN-ENUM", [], {}, {"unknownProperty": 1}, -1,
                    10**12]


def _mutations(body: Any) -> Iterator[Any]:
    """``body`` with one change at a time: each value replaced by each of WRONG, an unknown key added to each object,
    each key removed, each string upper-cased, each list emptied or doubled."""
    paths: list[tuple[Any, ...]] = []

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        paths.append(path)
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, (*path, k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, (*path, i))

    walk(body, ())

    def at(root: Any, path: tuple[Any, ...]) -> Any:
        for p in path:
            root = root[p]
        return root

    for path in paths:
        value = at(body, path)
        for wrong in WRONG:
            if path:
                out = copy.deepcopy(body)
                at(out, path[:-1])[path[-1]] = copy.deepcopy(wrong)
                yield out
        if isinstance(value, dict):
            out = copy.deepcopy(body)
            at(out, path)["graphtapeUnknown"] = "x"
            yield out
            for k in value:
                out = copy.deepcopy(body)
                del at(out, path)[k]
                yield out
        if isinstance(value, str) and path:
            out = copy.deepcopy(body)
            at(out, path[:-1])[path[-1]] = value.upper()
            yield out
        if isinstance(value, list) and path:
            for changed in ([], value + value):
                out = copy.deepcopy(body)
                at(out, path[:-1])[path[-1]] = copy.deepcopy(changed)
                yield out


def test_every_definition_has_a_gate() -> None:
    """A keyword the gate does not compile leaves a definition without one (jsonschema alone: slower, as before).
    If this fails after a change to contract/build.py, compile the new keyword in schemagate.py."""
    for version in VERSIONS:
        missing = [name for name in DEFS_OF[version] if gate_for(version, name) is None]
        assert missing == [], version


@pytest.mark.parametrize(("name", "body"), CORPUS)
def test_corpus_bodies_and_their_mutations_get_jsonschemas_verdict(name: str, body: Any) -> None:
    verdicts = {True: 0, False: 0}
    for version in VERSIONS:
        verdicts[_same_verdict(version, name, body)] += 1
        for mutated in _mutations(body):
            verdicts[_same_verdict(version, name, mutated)] += 1
    assert verdicts[False] > 0  # the mutations reach errors; the verdicts compared are not all one way


def test_the_corpus_has_valid_bodies_the_gate_passes() -> None:
    passed = sum(gate_for(v, name)(body) for name, body in (p.values for p in CORPUS) for v in VERSIONS)  # type: ignore[misc]
    assert passed >= 20


@pytest.mark.parametrize(("name", "body"), CORPUS)
def test_check_json_gives_the_same_findings_with_the_gate_as_without(
        name: str, body: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    bodies = [body, *list(_mutations(body))[:60]]
    for version in VERSIONS:
        with_gate = [_findings(version, name, b) for b in bodies]
        monkeypatch.setattr(schema, "_passes_gate", lambda *a: False)
        without = [_findings(version, name, b) for b in bodies]
        monkeypatch.undo()
        assert with_gate == without


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(NAMES), version=st.sampled_from(VERSIONS), body=documents)
def test_generated_bodies_get_jsonschemas_verdict(name: str, version: str, body: Any) -> None:
    _same_verdict(version, name, body)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    version=st.sampled_from(VERSIONS),
    message=st.dictionaries(keys, documents, max_size=8),
    attachments=st.lists(st.dictionaries(keys, documents, max_size=6), max_size=3),
)
def test_generated_messages_get_jsonschemas_verdict(version: str, message: dict[str, Any],
                                                    attachments: list[Any]) -> None:
    for i, att in enumerate(attachments):
        att.setdefault("@odata.type", ["#microsoft.graph.fileAttachment", "#microsoft.graph.ItemAttachment",
                                       "#microsoft.graph.referenceattachment"][i % 3])
    message["attachments"] = attachments
    for name, body in (("message", message), ("action.user.sendMail", {"Message": message, "saveToSentItems": 1})):
        _same_verdict(version, name, body)


# Each keyword the gate compiles, on a schema of its own: (schema, instance, jsonschema's verdict).
KEYWORD_CASES = [
    ({"type": "integer"}, 1.0, True), ({"type": "integer"}, True, False), ({"type": "number"}, False, False),
    ({"type": ["string", "null"]}, None, True), ({"type": "object"}, [], False),
    ({"properties": {"a": {"type": "string"}}}, {"a": 1}, False), ({"properties": {"a": False}}, {"b": 1}, True),
    ({"properties": {"a": {}}, "additionalProperties": False}, {"a": 1, "b": 2}, False),
    ({"patternProperties": {"^x-": {"type": "string"}}, "additionalProperties": False}, {"x-a": "s"}, True),
    ({"patternProperties": {"^x-": {"type": "string"}}, "additionalProperties": False}, {"x-a": 1}, False),
    ({"patternProperties": {"^x-": True}, "additionalProperties": {"type": "integer"}}, {"y": "s"}, False),
    ({"required": ["a"]}, {"b": 1}, False), ({"required": ["a"]}, "not an object", True),
    ({"items": {"type": "integer"}}, [1, "2"], False), ({"items": False}, [], True), ({"items": False}, [1], False),
    ({"minItems": 1}, [], False), ({"maxItems": 1}, [1, 2], False), ({"minimum": 1}, 0, False),
    ({"maximum": 1}, True, True), ({"pattern": "^a"}, "ba", False), ({"pattern": "a"}, "ba", True),
    ({"format": "date-time-unknown"}, "whatever", True),
    ({"allOf": [{"type": "string"}, {"pattern": "b"}]}, "abc", True),
    ({"if": {"required": ["a"]}, "then": {"required": ["b"]}}, {"a": 1}, False),
    ({"if": {"required": ["a"]}, "else": {"required": ["b"]}}, {"c": 1}, False),
    ({"if": {"required": ["a"]}, "then": {"required": ["b"]}}, {"c": 1}, True),
    ({"then": {"required": ["b"]}}, {}, True),  # then without if: an annotation
    ({"description": "annotation", "x-edm": "Edm.String"}, 5, True),
]


@pytest.mark.parametrize(("node", "instance", "valid"), KEYWORD_CASES)
def test_each_compiled_keyword_agrees_with_jsonschema(node: dict[str, Any], instance: Any, valid: bool) -> None:
    validator = Draft202012Validator(node)
    assert validator.is_valid(instance) is valid  # the case says what jsonschema says
    gate = compile_gate(validator)
    assert gate is not None and gate(instance) is valid


@pytest.mark.parametrize("node", [{"oneOf": [{"type": "string"}]}, {"$ref": "#/$defs/a", "$defs": {"a": {}}},
                                  {"items": {"enum": [1]}}, {"type": "strange"}, {"prefixItems": [], "items": {}}])
def test_a_schema_with_a_keyword_not_compiled_gets_no_gate(node: dict[str, Any]) -> None:
    assert compile_gate(Draft202012Validator(node)) is None


GRAPHTAPE_KEYWORD_CASES = [
    ({"properties": {"id": {"readOnly": True}}}, {"id": "x"}, False),
    ({"properties": {"id": {"readOnly": False}}}, {"id": "x"}, True),
    ({"x-enumAnyCase": ["low", "High"]}, "HIGH", True), ({"x-enumAnyCase": ["low"]}, "lower", False),
    ({"x-enumAnyCase": ["low"]}, 3, True), ({"x-booleanString": ["true", "false"]}, "True", False),
    ({"properties": {"b": {"x-betaOnly": True}}}, {"b": 1}, False), ({"x-betaOnly": "message"}, 1, False),
    ({"format": "edm-date-time-offset"}, "2026-01-01T10:00:00Z", True),
    ({"format": "edm-date-time-offset"}, "2026-01-01 10:00", False), ({"format": "base64"}, "QUJ", False),
    ({"format": "base64"}, "QUJ=", True),
]


@pytest.mark.parametrize(("node", "instance", "valid"), GRAPHTAPE_KEYWORD_CASES)
def test_graphtapes_own_keywords_agree_with_its_validator(node: dict[str, Any], instance: Any, valid: bool) -> None:
    for cls in (schema._V1, schema._BETA):
        validator = cls(node, format_checker=schema._FORMATS)
        gate = compile_gate(validator)
        assert gate is not None and gate(instance) is validator.is_valid(instance)
    assert schema._V1(node, format_checker=schema._FORMATS).is_valid(instance) is valid
