"""The contract, consulted for every simulated call: what graphtape's contract refuses, the simulator refuses with
the status, code and message graphtape's enforcement gives it (``contract.enforcement_response``), so that no
answer it gives is one Graph would not give. The sizes are the contract's too: a JSON body over 4 MB (400), a MIME
body over 4 MB (413)."""

from __future__ import annotations

import json

from graphtape.contract import enforcement_response, validate_request
from graphtape.model import HttpRequest
from graphtape.simulate.answers import GraphError

_DROPPED = ("content-type", "content-length", "request-id", "client-request-id", "x-graphtape")


def check(req: HttpRequest) -> None:
    """Raise Graph's error for a request the contract refuses; return for one it lets through."""
    answer = enforcement_response(req, validate_request(req))
    if answer is None:
        return
    try:
        error = json.loads(answer.body)["error"]
        code, message = str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        code, message = "ErrorInvalidRequest", answer.body.decode("utf-8", "replace")
    headers = [(k, v) for k, v in answer.headers if k.lower() not in _DROPPED]
    raise GraphError(answer.status, code, message, headers)
