"""Responses: checking recorded ones against the docs, and building the ones graphtape enforces."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from graphtape.bodies.kinds import parse_json
from graphtape.graph import error_body
from graphtape.model import Finding, HttpRequest, HttpResponse, header

from .endpoints import Endpoint, match_request
from .rules import RULES, Rule, finding

GRAPH_JSON = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
REASONS = {400: "Bad Request", 413: "Request Entity Too Large"}
MARK_HEADER = ("x-graphtape", "contract-error")
_OTHER = Rule(id="other", severity="error", doc="", description="a finding from outside the contract")


def _json_or_none(body: bytes) -> Any:
    try:
        return parse_json(body)
    except (ValueError, RecursionError):
        return None


def _success(endpoint: Endpoint, resp: HttpResponse) -> list[Finding]:
    found: list[Finding] = []
    doc = endpoint.doc
    if resp.status not in endpoint.success:
        expected = " or ".join(str(s) for s in endpoint.success)
        msg = f"{endpoint.name} answered {resp.status}; the docs say {expected} (the cassette drifted from the docs?)"
        found.append(finding("response.status", "response:status", msg, doc))
    has_body = bool(resp.body) and not resp.body.isspace()
    if endpoint.response == "empty" and has_body:
        msg = f"{endpoint.name} answered with a body; the docs say it returns nothing"
        found.append(finding("response.body", "response:body", msg, doc))
    elif endpoint.response == "json" and not isinstance(_json_or_none(resp.body), dict):
        msg = f"{endpoint.name} should return the created or updated entity as a JSON object"
        found.append(finding("response.body", "response:body", msg, doc))
    return found


def _error_shape(resp: HttpResponse) -> list[Finding]:
    data = _json_or_none(resp.body)
    error = data.get("error") if isinstance(data, dict) else None
    found: list[Finding] = []
    shaped = isinstance(error, dict) and all(isinstance(error.get(k), str) for k in ("code", "message"))
    if not shaped:
        msg = f'a {resp.status} whose body is not {{"error": {{"code": ..., "message": ...}}}}; clients branch on code'
        found.append(finding("response.error-shape", "response:body", msg))
    if resp.status == 429 and header(resp.headers, "retry-after") is None:
        msg = "a 429 without Retry-After: clients (msgraph-sdk included) wait for the time it gives"
        found.append(finding("response.retry-after", "response:header:Retry-After", msg))
    return found


def validate_response(req: HttpRequest, resp: HttpResponse) -> list[Finding]:
    """Warnings for a response that drifted from the docs; [] for calls the contract does not know."""
    found = match_request(req.method, req.url)
    if found is None:
        return []
    if 200 <= resp.status < 300:
        return _success(found.endpoint, resp)
    if resp.status >= 400:
        return _error_shape(resp)
    return []


_FIELD = re.compile(r"\\\{\w+\\\}")


def graph_message(rule: Rule, found: Finding) -> str | None:
    """Graph's message for ``found``: the rule's fixed text, or its template as filled in the finding's message."""
    template = rule.graph_message
    if not template or "{" not in template:
        return template
    pattern = _FIELD.sub(lambda _: "(.*?)", re.escape(template))
    match = re.match(pattern, found.message, re.DOTALL)
    return match.group(0) if match else None


def enforcement_response(
    req: HttpRequest,
    findings: Sequence[Finding],
    *,
    request_id: str | None = None,
    now: datetime | None = None,
) -> HttpResponse | None:
    """The response Graph documents for a request with these findings; None if none is an error.

    413 wins (Graph refuses an oversized MIME body before reading it); then the first error whose rule
    carries Graph's message: a fixed one the docs print (bad base64 MIME) is answered exactly as printed;
    a template (OData's reader: "The property 'X' does not exist on type ...") is answered as the finding
    filled it in, with an innerError. Otherwise Graph's error shape with the code of the first error's
    rule, every error's line in the message, and an innerError (date, request-id, client-request-id).
    """
    errors = [f for f in findings if f.severity == "error"]
    if not errors:
        return None
    request_id = request_id or str(uuid.uuid4())
    now = now or datetime.now(UTC)
    client_id = header(req.headers, "client-request-id")
    pairs = [(RULES.get(f.rule, _OTHER), f) for f in errors]
    chosen, first = next((p for p in pairs if p[0].status == 413), None) or next(
        (p for p in pairs if graph_message(*p)), pairs[0])
    text = graph_message(chosen, first)
    if text and "{" not in (chosen.graph_message or ""):
        body: dict[str, Any] = {"error": {"code": chosen.code, "message": text}}  # documented word for word
    elif text:
        body = error_body(chosen.code, text, request_id, client_request_id=client_id, now=now)
    else:
        lines = "\n".join(f.line() for f in errors)
        summary = f"graphtape: the request breaks the Graph mail contract ({len(errors)} error(s)):"
        body = error_body(chosen.code, f"{summary}\n{lines}", request_id, client_request_id=client_id, now=now)
    headers = [("content-type", GRAPH_JSON), ("request-id", request_id), MARK_HEADER]
    if client_id:
        headers.append(("client-request-id", client_id))
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    return HttpResponse(status=chosen.status, reason=REASONS.get(chosen.status, ""), headers=headers, body=data)
