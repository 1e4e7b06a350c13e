"""The shapes of Microsoft Entra's answers: a JSON document, a redirect, and the OAuth error with its AADSTS code.

Every answer says it is graphtape's (``x-graphtape: offline sign-in``), so nobody mistakes it for Entra's.
"""

from __future__ import annotations

import datetime as _dt
import json
import uuid
from dataclasses import dataclass
from typing import Any

from graphtape.model import HttpRequest, HttpResponse, header

SOURCE = "offline sign-in"  # the x-graphtape header of every answer
OFFLINE = "(answered offline by graphtape)"

# The OAuth error codes Entra answers with 401 (the client failed to authenticate); the others get 400.
_UNAUTHORIZED = {"invalid_client"}


class Refusal(Exception):
    """A sign-in request Entra would refuse: its OAuth ``error`` and the AADSTS code and text it gives."""

    def __init__(self, error: str, code: int, text: str):
        super().__init__(f"{error}: AADSTS{code}: {text}")
        self.error, self.code, self.text = error, code, text


def missing(name: str) -> Refusal:
    return Refusal("invalid_request", 900144, f"The request body must contain the following parameter: '{name}'.")


def json_response(doc: dict[str, Any], status: int = 200, reason: str = "OK") -> HttpResponse:
    return HttpResponse(
        status=status,
        reason=reason,
        headers=[
            ("Cache-Control", "no-store, no-cache"),
            ("Pragma", "no-cache"),
            ("Content-Type", "application/json; charset=utf-8"),
            ("x-graphtape", SOURCE),
        ],
        body=json.dumps(doc, separators=(",", ":")).encode("utf-8"),
    )


def redirect(location: str) -> HttpResponse:
    return HttpResponse(status=302, reason="Found", body=b"",
                        headers=[("Location", location), ("Cache-Control", "no-store"), ("x-graphtape", SOURCE)])


@dataclass(frozen=True)
class ErrorIds:
    """What Entra puts beside an error so support can find it: when, a trace id, the client's correlation id."""

    timestamp: str
    trace_id: str
    correlation_id: str

    @classmethod
    def of(cls, req: HttpRequest, now: _dt.datetime) -> ErrorIds:
        correlation = header(req.headers, "client-request-id") or str(uuid.uuid4())
        return cls(now.strftime("%Y-%m-%d %H:%M:%SZ"), str(uuid.uuid4()), correlation)


def error_response(refusal: Refusal, ids: ErrorIds, host: str) -> HttpResponse:
    """Entra's OAuth error: ``error``, ``error_description`` (AADSTS code, text, trace and correlation ids),
    ``error_codes``, ``timestamp``, ``trace_id``, ``correlation_id``, ``error_uri``."""
    description = (f"AADSTS{refusal.code}: {refusal.text} {OFFLINE} Trace ID: {ids.trace_id} "
                   f"Correlation ID: {ids.correlation_id} Timestamp: {ids.timestamp}")
    doc = {
        "error": refusal.error,
        "error_description": description,
        "error_codes": [refusal.code],
        "timestamp": ids.timestamp,
        "trace_id": ids.trace_id,
        "correlation_id": ids.correlation_id,
        "error_uri": f"https://{host}/error?code={refusal.code}",
    }
    if refusal.error in _UNAUTHORIZED:
        return json_response(doc, 401, "Unauthorized")
    return json_response(doc, 400, "Bad Request")
