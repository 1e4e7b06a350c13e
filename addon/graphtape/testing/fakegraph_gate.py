"""Scripted throttling for the stand-in: ``Throttle.next(n, retry_after_s)`` makes the next ``n`` calls answer 429
with ``Retry-After`` (Outlook's body: ``ApplicationThrottled``), as Graph answers an app over its limits; the calls
after them are served. (The contract's refusals are the simulator's own: ``graphtape.simulate.gate``.)
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

from graphtape.graph import error_body
from graphtape.model import HttpResponse

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
