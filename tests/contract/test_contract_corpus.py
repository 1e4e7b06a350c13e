"""The corpus of invalid requests (data/invalid.yaml) and valid client shapes (data/valid.yaml)."""

from __future__ import annotations

import pytest
from contract_cases import case_request, load

from graphtape.contract import RULES, validate_request

INVALID = load("invalid.yaml")["cases"]
VALID = load("valid.yaml")["cases"]
# upload.*: a chunk is checked against its upload session (scope.py), not alone: its cases are in
# tests/unit/test_upload_scope.py.
NOT_REQUEST_RULES = {"graphtape.internal-error", "retry.too-soon"} | {r for r in RULES if r.startswith("upload.")}


@pytest.mark.parametrize("case", INVALID, ids=[c["id"] for c in INVALID])
def test_invalid_request_produces_its_rule(case: dict) -> None:
    findings = validate_request(case_request(case))
    matching = [f for f in findings if f.rule == case["rule"]]
    assert matching, f"expected {case['rule']}, got {[f.line() for f in findings]}"
    if "location" in case:
        assert case["location"] in [f.location for f in matching], [f.line() for f in matching]
    for f in findings:
        assert f.severity == RULES[f.rule].severity
        assert f.message
        assert f.doc.startswith("https://learn.microsoft.com/graph/")


@pytest.mark.parametrize("case", VALID, ids=[c["id"] for c in VALID])
def test_valid_request_has_no_finding(case: dict) -> None:
    findings = validate_request(case_request(case))
    assert findings == [], [f.line() for f in findings]


def test_corpus_is_large_and_covers_every_request_rule() -> None:
    assert len(INVALID) >= 40
    request_rules = {r for r in RULES if not r.startswith("response.")} - NOT_REQUEST_RULES
    assert request_rules - {c["rule"] for c in INVALID} == set()


def test_case_ids_are_unique() -> None:
    ids = [c["id"] for c in INVALID + VALID]
    assert len(ids) == len(set(ids))
