"""What the stand-in answers before it serves a call: a scripted throttling, or Graph's refusal of a call that
breaks graphtape's contract.

Throttling is scripted: ``Throttle.next(n, retry_after_s)`` makes the next ``n`` calls answer 429 with
``Retry-After`` (Outlook's body: ``ApplicationThrottled``), as Graph answers an app over its limits; the calls
after them are served. The contract (``graphtape.contract``) is consulted for every call, so a recording made
against the stand-in never holds an answer Graph would not give: a body Graph refuses is answered with the
status, code and message graphtape's enforcement gives it (without graphtape's ``x-graphtape`` mark, since here
it stands for Graph's own answer).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field, replace

from graphtape.contract import enforcement_response, validate_request
from graphtape.contract.responses import MARK_HEADER
from graphtape.graph import error_body
from graphtape.model import Headers, HttpRequest, HttpResponse

GRAPH = "https://graph.microsoft.com"
THROTTLED_BODY = ("ApplicationThrottled", "Application is over its MailboxConcurrency limit.")


@dataclass
class Throttle:
    """How many of the next calls to answer 429, and the Retry-After (seconds) they carry."""

    remaining: int = 0
    retry_after_s: int = 1
    answered: int = 0  # 429s given so far
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next(self, calls: int = 1, retry_after_s: int = 1) -> None:
        with self.lock:
            self.remaining, self.retry_after_s = calls, retry_after_s

    def answer(self) -> HttpResponse | None:
        """A 429 if this call is one of the throttled ones, else None."""
        with self.lock:
            if self.remaining <= 0:
                return None
            self.remaining -= 1
            self.answered += 1
            seconds = self.retry_after_s
        code, message = THROTTLED_BODY
        body = json.dumps(error_body(code, message, "00000000-0000-0000-0000-000000000000")).encode()
        return HttpResponse(429, "Too Many Requests", [("Content-Type", "application/json"),
                                                       ("Retry-After", str(seconds))], body)


def refusal(method: str, raw_path: str, headers: Headers, body: bytes) -> HttpResponse | None:
    """Graph's answer to a call the contract refuses (``raw_path`` as sent, with its query); None to serve it."""
    req = HttpRequest(method, GRAPH + raw_path, headers, body)
    answer = enforcement_response(req, validate_request(req))
    if answer is None:
        return None
    return replace(answer, headers=[h for h in answer.headers if (h[0].lower(), h[1]) != MARK_HEADER])
