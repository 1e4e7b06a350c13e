"""Graph's answers for the faults graphtape injects: the status, Graph's error body and its headers.

The body is Graph's error shape (``graph.error_body``: ``code``, ``message``, ``innerError`` with ``date``,
``request-id`` and the request's ``client-request-id`` echoed). The codes: 429 ``TooManyRequests`` (the throttled
answer Graph gives outside Outlook's own limits, whose ``ApplicationThrottled`` bodies come from the limits model);
500 ``ErrorInternalServerError`` (Exchange's, on mail endpoints); 503 ``serviceNotAvailable`` and 504 ``timeout``
(Graph's error-code table); 502 ``BadGateway`` (field reports; Graph does not document one). A rule's ``code``
and ``message`` replace them. The answer carries ``request-id``, ``client-request-id``, ``Retry-After`` when
asked (whole seconds, at least 1, after ``--faults-time-scale``), and ``x-graphtape: fault`` so nobody mistakes
it for Graph's.
"""

from __future__ import annotations

import datetime as _dt
import json
import uuid
from http import HTTPStatus

from graphtape.graph import error_body
from graphtape.model import HttpResponse

DEFAULTS: dict[int, tuple[str, str]] = {
    429: ("TooManyRequests", "Too many requests. Please retry after the time given in Retry-After."),
    500: ("ErrorInternalServerError", "An internal server error occurred. The operation failed."),
    502: ("BadGateway", "The server received an invalid response from an upstream server."),
    503: ("serviceNotAvailable", "The service is temporarily unavailable. Retry the request after a delay."),
    504: ("timeout", "The operation timed out before it could be completed."),
}
SOURCE = "fault"  # the x-graphtape header of an injected answer


def fault_response(status: int, *, retry_after: str | None = None, code: str = "", message: str = "",
                   client_request_id: str | None = None, now: _dt.datetime | None = None) -> HttpResponse:
    default_code, default_message = DEFAULTS.get(status, ("UnknownError", ""))
    request_id = str(uuid.uuid4())
    body = error_body(code or default_code, message or default_message, request_id,
                      client_request_id=client_request_id or request_id, now=now)
    headers = [("Content-Type", "application/json; charset=utf-8"), ("request-id", request_id),
               ("client-request-id", client_request_id or request_id), ("x-graphtape", SOURCE)]
    if retry_after is not None:
        headers.append(("Retry-After", retry_after))  # session.retries.retry_after_value: whole seconds
    return HttpResponse(status=status, reason=HTTPStatus(status).phrase, headers=headers,
                        body=json.dumps(body).encode("utf-8"))
