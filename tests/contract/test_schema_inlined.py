"""JSON bodies are validated with the schema's $refs inlined (contract/schema.py, for speed): the findings
must be exactly those of validating through the $refs, for every definition, on both API versions."""

from __future__ import annotations

import json
from typing import Any

import pytest
from contract_cases import case_request, load
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphtape.bodies.kinds import is_json_type, parse_json
from graphtape.contract.build import document
from graphtape.contract.endpoints import match_request
from graphtape.contract.schema import check_json, inline_refs, normalise_parameters, validator_for

VERSIONS = ("v1.0", "beta")
DEFS_OF: dict[str, dict[str, Any]] = {v: dict(document(v)["$defs"]) for v in VERSIONS}
DEFS: dict[str, Any] = {**DEFS_OF["beta"], **DEFS_OF["v1.0"]}
NAMES = sorted(set(DEFS_OF["v1.0"]) & set(DEFS_OF["beta"]))


def _words(node: Any, out: set[str]) -> set[str]:
    """Every property name and enum value the schema mentions: the vocabulary of generated bodies."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                out.update(value)
            if key in ("x-enumAnyCase", "enum", "required") and isinstance(value, list):
                out.update(v for v in value if isinstance(v, str))
            _words(value, out)
    elif isinstance(node, list):
        for value in node:
            _words(value, out)
    return out


WORDS = sorted(_words(DEFS, set()))
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-5, max_value=200_000_000)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(WORDS)
    | st.sampled_from(WORDS).map(str.upper)
    | st.sampled_from(["QUJD", "QUJ=", "not base64!", "", "a@b.c"])
    | st.text(max_size=8)
)
keys = st.sampled_from(WORDS) | st.sampled_from(WORDS).map(lambda w: w[:1].upper() + w[1:]) | st.text(max_size=6)
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=6),
    max_leaves=25,
)


def _findings(version: str, name: str, body: Any, *, inline: bool) -> list[str]:
    params = normalise_parameters(name, body, "doc", version)
    return [f.line() for f in check_json(version, name, params, "doc", inline=inline)]


def test_every_definition_inlines_without_a_ref_left() -> None:
    assert sorted(DEFS_OF["v1.0"]) == NAMES  # both versions define the same names
    for version in VERSIONS:
        defs = DEFS_OF[version]
        for name in defs:
            assert "$ref" not in json.dumps(inline_refs(defs[name], defs)), name
            assert "$ref" not in json.dumps(validator_for(version, name).schema)  # the validator in use


def test_refs_that_cannot_be_inlined_are_refused() -> None:
    with pytest.raises(ValueError):
        inline_refs({"$ref": "#/$defs/a"}, {"a": {"items": {"$ref": "#/$defs/a"}}})  # a cycle
    with pytest.raises(ValueError):
        inline_refs({"$ref": "#/$defs/a", "type": "object"}, {"a": {}})  # siblings of $ref
    with pytest.raises(ValueError):
        inline_refs({"$ref": "https://example.com/s.json"}, {})


def _corpus_bodies() -> list[Any]:
    """(id, schema name, parsed body) of every corpus request whose JSON body the contract checks."""
    cases = [*load("valid.yaml")["cases"], *load("invalid.yaml")["cases"], *load("seeds.yaml")["requests"]]
    out = []
    for case in cases:
        req = case_request(case)
        found = match_request(req.method, req.url)
        if found is None or found.endpoint.json_schema is None or not is_json_type(req.content_type):
            continue
        try:
            body = parse_json(req.body)
        except ValueError:  # malformed JSON: reported before any schema check
            continue
        out.append(pytest.param(found.endpoint.json_schema, body, id=case.get("id") or case.get("name")))
    return out


CORPUS = _corpus_bodies()


def test_the_corpus_has_json_bodies_to_compare() -> None:
    assert len(CORPUS) >= 40


@pytest.mark.parametrize(("name", "body"), CORPUS)
def test_corpus_bodies_give_the_same_findings_inlined(name: str, body: Any) -> None:
    for version in VERSIONS:
        assert _findings(version, name, body, inline=True) == _findings(version, name, body, inline=False)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(NAMES), version=st.sampled_from(VERSIONS), body=documents)
def test_generated_bodies_give_the_same_findings_inlined(name: str, version: str, body: Any) -> None:
    assert _findings(version, name, body, inline=True) == _findings(version, name, body, inline=False)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    version=st.sampled_from(VERSIONS),
    message=st.dictionaries(keys, documents, max_size=8),
    attachments=st.lists(st.dictionaries(keys, documents, max_size=6), max_size=3),
)
def test_generated_messages_give_the_same_findings_inlined(
    version: str, message: dict[str, Any], attachments: list[Any]
) -> None:
    """Deeper bodies than random documents reach: a message with attachments of each @odata.type."""
    for i, att in enumerate(attachments):
        att.setdefault("@odata.type", ["#microsoft.graph.fileAttachment", "#microsoft.graph.ItemAttachment",
                                       "#microsoft.graph.referenceattachment"][i % 3])
    message["attachments"] = attachments
    for name, body in (("message", message), ("action.user.sendMail", {"Message": message, "saveToSentItems": 1})):
        assert _findings(version, name, body, inline=True) == _findings(version, name, body, inline=False)
