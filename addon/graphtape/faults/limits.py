"""Outlook's throttling limits as a model: ``Limiter.admit`` answers a request that would go over one as Graph does
(``429`` with ``Retry-After`` and Graph's ``ApplicationThrottled`` body), ``Limiter.release`` frees what an admitted
request held when it ends. The limits and their scaling: ``limitsconfig``; whose call it is: ``who``.

- **Concurrency**: ``cfg.concurrency`` requests at once per app (or per app and mailbox); one more answers
  "Application is over its MailboxConcurrency limit." (seen in the field in many public reports).
- **Requests**: ``cfg.requests`` in any sliding ``requests_window_s`` per app and mailbox; one more answers
  "Application is over its Request limit." (as reported in the field; the docs give no body). Retry-After: until
  the oldest request in the window leaves it.
- **Uploads**: ``cfg.upload_bytes`` of PATCH, POST and PUT bodies (upload-session chunks too) in any sliding
  ``upload_window_s`` per app and mailbox; one more answers "Application is over its IncomingBytes limit."
  (python-o365 issue 500, among others). Retry-After: until enough bytes leave the window.

Only calls that reach a mailbox count (``/me/...``, ``/users/{id}/...``, upload URLs); a refused request is not
counted (Graph says throttled requests still accrue: graphtape keeps Retry-After truthful instead, so a client that
waits it gets in).

``$batch``: its items count one by one; the batch itself reaches no mailbox. json-batching.md ("Batch size
limitations"): "Requests in a batch are evaluated individually against the applicable throttling limits and if any
request exceeds the limits, it fails with a status of 429" -- per item, inside the batch's 200, never the batch
whole. Outlook runs at most 4 items of a batch at once, 1 if they are sequenced with ``dependsOn``
(throttling-limits.md, "Outlook service limits for JSON batching"): a batch holds that many concurrency slots, or
as many as are free; an item whose scope has none free answers MailboxConcurrency; an item that ``dependsOn`` a
refused one answers 424. A batch with some items refused goes on without them (``refused_items``: their answers,
to splice into the batch's answer); a batch with every item refused is answered 200 with their 429s.

Pure: the time comes from the injected ``clock``.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from graphtape.bodies.batch import WRITES, depends_on, is_batch, item_id, item_request, request_items
from graphtape.contract.batch_enforce import FAILED_DEPENDENCY, Refusal
from graphtape.faults.limitsconfig import LimitsConfig, parse_limits, scaled
from graphtape.faults.who import Caller, caller_of
from graphtape.faults.windows import SlidingWindow, Slots
from graphtape.graph import error_body
from graphtape.model import HttpRequest, HttpResponse, header
from graphtape.session.retries import retry_after_value

__all__ = ["Limiter", "LimitsConfig", "parse_limits", "scaled"]

CODE = "ApplicationThrottled"
CONCURRENCY = "MailboxConcurrency"
REQUESTS = "Request"
UPLOADS = "IncomingBytes"
BATCH_PARALLEL = 4  # items of one batch Outlook runs at once
MARK = ("x-graphtape", "throttled")


@dataclass(frozen=True)
class Throttle:
    limit: str  # CONCURRENCY, REQUESTS or UPLOADS
    wait_s: float  # until it would be admitted (already time-scaled)


@dataclass(frozen=True)
class _Held:
    req: HttpRequest  # kept so that its id() is not reused while it is held
    slots: tuple[tuple[str, int], ...]


def throttled_response(throttle: Throttle, req: HttpRequest) -> HttpResponse:
    """Graph's 429 for ``throttle``, echoing the request's ``client-request-id``."""
    request_id = str(uuid.uuid4())
    client_id = header(req.headers, "client-request-id") or request_id
    body = error_body(CODE, f"Application is over its {throttle.limit} limit.", request_id,
                      client_request_id=client_id)
    headers = [("Content-Type", "application/json"), ("Retry-After", retry_after_value(throttle.wait_s)),
               ("request-id", request_id), ("client-request-id", client_id), MARK]
    return HttpResponse(429, "Too Many Requests", headers, json.dumps(body).encode("utf-8"))


def _item_answer(ident: str, resp: HttpResponse) -> dict[str, Any]:
    return {"id": ident, "status": resp.status, "headers": {k: v for k, v in resp.headers if k != "request-id"},
            "body": json.loads(resp.body)}


def _failed_dependency(ident: str, failed: str) -> dict[str, Any]:
    message = f"graphtape: request {ident!r} depends on request {failed!r}, which was throttled, so it was not run"
    return {"id": ident, "status": FAILED_DEPENDENCY, "headers": {"Content-Type": "application/json", MARK[0]:
            MARK[1]}, "body": {"error": {"code": "FailedDependency", "message": message}}}


def upload_size(req: HttpRequest) -> int:
    """The bytes a request uploads: a PATCH, POST or PUT body (its digest's size, for a chunk kept as one)."""
    if req.method.upper() not in WRITES:
        return 0
    return req.body_digest.size if req.body_digest is not None and not req.body else len(req.body)


def _with_token(sub: HttpRequest | None, batch: HttpRequest) -> HttpRequest | None:
    """A batch item as its own request, with the batch's token (Graph runs every item as the batch's caller)."""
    token = header(batch.headers, "authorization")
    if sub is None or token is None or header(sub.headers, "authorization") is not None:
        return sub
    return HttpRequest(sub.method, sub.url, [*sub.headers, ("Authorization", token)], sub.body, sub.body_digest)


class Limiter:
    """The requests admitted so far, in their windows, and the concurrency slots held (see the module)."""

    def __init__(self, cfg: LimitsConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.cfg, self.clock = cfg, clock
        self._requests: dict[tuple[str, str], SlidingWindow] = {}
        self._uploads: dict[tuple[str, str], SlidingWindow] = {}
        self._slots = Slots()
        self._held: dict[int, _Held] = {}
        self._refused: dict[int, Refusal] = {}
        self._aliases: dict[str, str] = {}  # a user's other name (upn) -> the one its mailbox is counted by (oid)
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ the interface

    def admit(self, req: HttpRequest) -> HttpResponse | None:
        """None: ``req`` goes on (and holds its slot until ``release``); else Graph's 429 to answer it with (a
        ``$batch`` whose every item is refused: Graph's 200 with each item's 429)."""
        with self._lock:
            now = self.clock()
            if is_batch(req):
                return self._admit_batch(req, now)
            caller = self._caller(req)
            if not caller.mailbox:
                return None
            size = upload_size(req)
            throttle = self._throttle(caller, size, now, slots=True)
            if throttle is not None:
                return throttled_response(throttle, req)
            self._count(caller, size, now)
            slot = self._slot_key(caller)
            self._slots.take(slot, 1)
            self._held[id(req)] = _Held(req, ((slot, 1),))
            return None

    def release(self, req: HttpRequest) -> None:
        """An admitted request ended (answered, failed or abandoned): its slots are free. Again, or for a request
        never admitted: nothing happens."""
        with self._lock:
            held = self._held.pop(id(req), None)
            self._refused.pop(id(req), None)
            for slot, count in held.slots if held is not None else ():
                self._slots.give(slot, count)

    def refused_items(self, req: HttpRequest) -> Refusal | None:
        """The items of an admitted ``$batch`` that were refused (their answers, and the batch to send without
        them, as ``contract.batch_enforce`` splices them), once; None if every item was admitted."""
        with self._lock:
            return self._refused.pop(id(req), None)

    def in_use(self) -> int:
        """Concurrency slots held now (all scopes)."""
        with self._lock:
            return sum(self._slots.used.values())

    # ------------------------------------------------------------------ one request

    def _caller(self, req: HttpRequest) -> Caller:
        caller = caller_of(req)
        for other in caller.names[1:]:
            self._aliases[other] = caller.names[0]
        mailbox = self._aliases.get(caller.mailbox, caller.mailbox)
        return caller if mailbox == caller.mailbox else Caller(caller.app, mailbox, caller.names)

    def _slot_key(self, caller: Caller) -> str:
        return caller.app if self.cfg.concurrency_scope == "app" else f"{caller.app}|{caller.mailbox}"

    @staticmethod
    def _window(windows: dict[tuple[str, str], SlidingWindow], caller: Caller, length: float) -> SlidingWindow:
        return windows.setdefault((caller.app, caller.mailbox), SlidingWindow(length))

    def _throttle(self, caller: Caller, size: int, now: float, *, slots: bool) -> Throttle | None:
        cfg = self.cfg
        if slots and self._slots.free(self._slot_key(caller), cfg.concurrency) < 1:
            return Throttle(CONCURRENCY, cfg.concurrency_retry_after_s)
        requests = self._window(self._requests, caller, cfg.requests_window_s)
        if not requests.fits(1, cfg.requests, now):
            return Throttle(REQUESTS, requests.wait(1, cfg.requests, now))
        uploads = self._window(self._uploads, caller, cfg.upload_window_s)
        if size and not uploads.fits(size, cfg.upload_bytes, now):
            return Throttle(UPLOADS, uploads.wait(size, cfg.upload_bytes, now))
        return None

    def _count(self, caller: Caller, size: int, now: float) -> None:
        self._window(self._requests, caller, self.cfg.requests_window_s).add(1, now)
        if size:
            self._window(self._uploads, caller, self.cfg.upload_window_s).add(size, now)

    # ------------------------------------------------------------------ a $batch, item by item

    def _admit_batch(self, batch: HttpRequest, now: float) -> HttpResponse | None:
        items = request_items(batch) or []
        subs = [_with_token(item_request(item, batch), batch) for item in items]
        callers = [self._caller(sub) if sub is not None else None for sub in subs]
        slots, granted = self._batch_slots(items, callers)
        answers: dict[int, dict[str, Any]] = {}
        failed: dict[str, str] = {}  # lower-case id -> id, of the items refused (for their dependants)
        for index, (item, sub, caller) in enumerate(zip(items, subs, callers, strict=True)):
            ident = item_id(item) or ""
            dead = next((failed[d.lower()] for d in depends_on(item) if d.lower() in failed), None)
            if dead is not None:
                answers[index], failed[ident.lower()] = _failed_dependency(ident, dead), ident
                continue
            if sub is None or caller is None or not caller.mailbox:
                continue
            size = upload_size(sub)
            throttle = (Throttle(CONCURRENCY, self.cfg.concurrency_retry_after_s)
                        if not granted.get(self._slot_key(caller)) else self._throttle(caller, size, now, slots=False))
            if throttle is not None:
                answers[index], failed[ident.lower()] = _item_answer(ident, throttled_response(throttle, sub)), ident
                continue
            self._count(caller, size, now)
        return self._batch_outcome(batch, items, answers, slots)

    def _batch_slots(self, items: Sequence[Any], callers: Sequence[Caller | None]) -> tuple[list[tuple[str, int]],
                                                                                            dict[str, int]]:
        """The slots a batch takes, by scope key, in the order of the items: as many as it runs at once (4, or 1
        when sequenced with ``dependsOn``; never more than 4 in all), or as many as are free."""
        sequential = any(depends_on(item) for item in items)
        want: dict[str, int] = {}
        for caller in callers:
            if caller is not None and caller.mailbox:
                key = self._slot_key(caller)
                want[key] = 1 if sequential else min(BATCH_PARALLEL, want.get(key, 0) + 1)
        left, granted = BATCH_PARALLEL, {}
        for key, count in want.items():
            granted[key] = min(count, self._slots.free(key, self.cfg.concurrency), left)
            left -= granted[key]
        return [(k, n) for k, n in granted.items() if n > 0], granted

    def _batch_outcome(self, batch: HttpRequest, items: Sequence[Any], answers: dict[int, dict[str, Any]],
                       slots: list[tuple[str, int]]) -> HttpResponse | None:
        kept = [item for index, item in enumerate(items) if index not in answers]
        if answers and not kept:  # nothing runs: Graph's 200 with each item's answer
            body = json.dumps({"responses": [answers[i] for i in sorted(answers)]}).encode("utf-8")
            return HttpResponse(200, "OK", [("Content-Type", "application/json"), MARK], body)
        for slot, count in slots:
            self._slots.take(slot, count)
        self._held[id(batch)] = _Held(batch, tuple(slots))
        if answers:
            value = batch.json.value
            forward = json.dumps({**value, "requests": kept}, ensure_ascii=False).encode("utf-8")
            self._refused[id(batch)] = Refusal(answers=answers, forward=forward)
        return None
