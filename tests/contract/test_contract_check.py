"""check_interactions over a recorded cassette's interactions, and the never-raise guard."""

from __future__ import annotations

import json

import pytest

import graphtape.contract.validate as validate_module
from graphtape.contract import check_interactions, validate_request
from graphtape.model import HttpRequest, HttpResponse, Interaction

G = "https://graph.microsoft.com"


def _json(method: str, path: str, body: object) -> HttpRequest:
    return HttpRequest(method, G + path, [("Content-Type", "application/json")], json.dumps(body).encode())


def test_check_interactions_reports_request_and_response_findings_by_index() -> None:
    ok = Interaction(_json("POST", "/v1.0/me/messages", {"subject": "hi"}), HttpResponse(201, body=b'{"id": "1"}'))
    bad_request = Interaction(_json("POST", "/v1.0/me/messages", {"importance": "urgent"}), HttpResponse(400))
    drifted = Interaction(HttpRequest("POST", G + "/v1.0/me/messages/AAMk=/send"), HttpResponse(200))
    unknown = Interaction(HttpRequest("GET", G + "/v1.0/me"), HttpResponse(200, body=b"{}"))
    found = check_interactions([ok, bad_request, drifted, unknown])
    assert [(i, f.rule) for i, f in found] == [
        (1, "schema.enum"),
        (1, "response.error-shape"),
        (2, "response.status"),
    ]
    assert check_interactions([]) == []


def test_a_validator_bug_becomes_a_finding_not_an_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise KeyError("bug")

    monkeypatch.setattr(validate_module, "_check_body", boom)
    (finding,) = validate_request(_json("POST", "/v1.0/me/messages", {}))
    assert finding.rule == "graphtape.internal-error" and finding.severity == "warning"
