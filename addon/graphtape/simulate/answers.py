"""The simulator's answers: JSON in Graph's media type, empty 202/204s, and errors in Graph's shape.

An error the simulator gives is raised as ``GraphError`` anywhere below the routes and turned into Graph's error
body (``graph.error_body``: ``code``, ``message``, ``innerError`` with ``request-id``, ``client-request-id`` and
``date``) by ``Simulator.answer``, which knows the request id and the clock.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from graphtape.model import HttpResponse

JSON_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
NOT_FOUND = "The specified object was not found in the store."
NOT_SIMULATED = "graphtape.NotSimulated"


class GraphError(Exception):
    """An answer in Graph's error shape: raise it where the problem is found."""

    def __init__(self, status: int, code: str, message: str, headers: list[tuple[str, str]] | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or []


def not_found(what: str = "") -> GraphError:
    return GraphError(404, "ErrorItemNotFound", NOT_FOUND if not what else f"{NOT_FOUND} ({what})")


def bad_request(message: str, code: str = "ErrorInvalidRequest") -> GraphError:
    return GraphError(400, code, message)


def not_simulated(method: str, path: str) -> GraphError:
    return GraphError(501, NOT_SIMULATED,
                      f"graphtape simulate does not simulate {method} {path}. It answers Graph mail: messages, "
                      "folders, attachments, upload sessions, send and sendMail, replies and forwards, move, copy, "
                      "delta and $batch. Record this call against a tenant (graphtape record) and replay it, or "
                      "ask for it to be simulated.")


def reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def json_answer(status: int, doc: Any, headers: list[tuple[str, str]] | None = None) -> HttpResponse:
    body = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
    return HttpResponse(status, reason(status), [("Content-Type", JSON_TYPE), *(headers or [])], body)


def empty(status: int = 202, headers: list[tuple[str, str]] | None = None) -> HttpResponse:
    return HttpResponse(status, reason(status), list(headers or []), b"")


def raw(status: int, content_type: str, body: bytes) -> HttpResponse:
    return HttpResponse(status, reason(status), [("Content-Type", content_type)], body)


def with_request_ids(resp: HttpResponse, request_id: str, client_request_id: str | None) -> HttpResponse:
    """The answer with Graph's ``request-id`` header, and the client's ``client-request-id`` echoed."""
    headers = [h for h in resp.headers if h[0].lower() not in ("request-id", "client-request-id")]
    headers.append(("request-id", request_id))
    if client_request_id:
        headers.append(("client-request-id", client_request_id))
    return HttpResponse(resp.status, resp.reason, headers, resp.body)
