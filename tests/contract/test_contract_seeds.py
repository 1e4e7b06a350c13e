"""The examples of the two seed pages (transcribed in data/seeds.yaml) fit the contract."""

from __future__ import annotations

import json

import pytest
from contract_cases import case_request, load

from graphtape.contract import validate_request, validate_response
from graphtape.model import HttpRequest, HttpResponse

SEEDS = load("seeds.yaml")
REQUESTS = SEEDS["requests"]


def _response(spec: dict) -> HttpResponse:
    body = json.dumps(spec["json"]).encode() if "json" in spec else b""
    headers = [("Content-Type", "application/json")] if body else []
    return HttpResponse(status=spec["status"], headers=headers, body=body)


@pytest.mark.parametrize("case", REQUESTS, ids=[c["name"] for c in REQUESTS])
def test_seed_request_has_no_error(case: dict) -> None:
    findings = validate_request(case_request(case))
    assert [f for f in findings if f.severity == "error"] == []
    assert sorted(f.rule for f in findings) == sorted(case.get("warnings", []))


@pytest.mark.parametrize("case", REQUESTS, ids=[c["name"] for c in REQUESTS])
def test_seed_response_findings_are_the_documented_decisions(case: dict) -> None:
    findings = validate_response(case_request(case), _response(case["response"]))
    assert all(f.severity == "warning" for f in findings)
    assert sorted(f.rule for f in findings) == sorted(case.get("response_findings", []))


def test_seed_error_response_has_graph_error_shape() -> None:
    req = HttpRequest("POST", "https://graph.microsoft.com/v1.0/me/messages", [("Content-Type", "text/plain")], b"x")
    assert validate_response(req, _response(SEEDS["error_response"])) == []


def test_truncated_mime_example_is_a_warning_not_an_error() -> None:
    case = next(c for c in REQUESTS if c["name"] == "create-mime-truncated")
    (finding,) = validate_request(case_request(case))
    assert finding.rule == "mime.truncated"
    assert "X-MS-TNEF-Correlato" in finding.message
