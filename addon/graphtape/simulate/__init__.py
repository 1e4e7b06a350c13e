"""``graphtape simulate``: a stateful Graph mailbox in memory, answering Graph mail calls as Graph does.

``Simulator.answer(HttpRequest) -> HttpResponse`` is the whole interface (the proxy's simulate mode and the
stand-in ``testing.fakegraph`` both call it): the contract is consulted first (``gate``), then the call is routed
(``routes``) to the model (``store``: mailboxes, folders, messages, attachments, the change log; ``uploads``:
upload sessions; ``batch``: ``$batch``). Ids and times come from ``id_seed`` and ``clock`` (``ids``), so the same
calls give the same bytes. Every error is in Graph's shape, with ``innerError`` request-id and date; an endpoint
not simulated answers 501 ``graphtape.NotSimulated``.
"""

from __future__ import annotations

import datetime as _dt
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from graphtape.graph import error_body, is_graph_host
from graphtape.model import HttpRequest, HttpResponse, header
from graphtape.simulate.answers import GraphError, json_answer, not_simulated, reason
from graphtape.simulate.batch import answer_batch
from graphtape.simulate.call import State
from graphtape.simulate.gate import check
from graphtape.simulate.ids import Clock, Ids
from graphtape.simulate.routes import route
from graphtape.simulate.seeding import apply_seed
from graphtape.simulate.store import Store
from graphtape.simulate.uploads import UploadSessions
from graphtape.simulate.view import MailboxView, dump

if TYPE_CHECKING:
    from graphtape.simulate.fixture import SeedData

__all__ = ["MailboxView", "Simulator"]

DEFAULT_USER = ("AdeleV@contoso.com", "Adele Vance")


class Simulator:
    def __init__(self, *, seed: SeedData | None = None, id_seed: int = 0,
                 clock: _dt.datetime | None = None) -> None:
        """``seed``: the mailboxes to start with (``fixture.default_seed()``, one empty /me, without);
        ``id_seed``: ids, change keys and conversation ids derive from it; ``clock``: a fixed "now" that each
        answer moves on by a second (None: the wall clock)."""
        from graphtape.simulate.fixture import default_seed

        self.state = State(Store(), Ids(id_seed), Clock(clock), UploadSessions())
        with self.state.lock:
            apply_seed(self.state, seed if seed is not None else default_seed())

    @property
    def uploads(self) -> UploadSessions:
        return self.state.uploads

    def handles(self, url: str) -> bool:
        """The URL is one the simulator answers: Graph's (any cloud, /v1.0 or /beta) or its upload host's."""
        parts = urlsplit(url)
        if is_graph_host(parts.hostname or ""):
            return parts.path.lstrip("/").split("/", 1)[0] in ("v1.0", "beta")
        return self.state.uploads.handles(url)

    def mailbox(self, who: str) -> MailboxView:
        """A snapshot of a mailbox: ``"me"``, its id or its userPrincipalName; KeyError for another."""
        with self.state.lock:
            box = self.state.store.find(who)
            if box is None:
                known = [b.user_principal_name for b in self.state.store.mailboxes]
                raise KeyError(f"graphtape simulate has no mailbox {who!r}; it has {known} ('me' is "
                               f"{self.state.store.me})")
            return MailboxView.of(box)

    def dump(self) -> dict[str, Any]:
        with self.state.lock:
            return dump(self.state.store)

    def answer(self, req: HttpRequest) -> HttpResponse:
        """Graph's answer to ``req`` (thread-safe: one call at a time changes the mailboxes)."""
        with self.state.lock:
            request_id = self.state.ids.request_id()
            try:
                resp = self._answer(req)
            except GraphError as e:
                resp = self._error(e, req, request_id)
            except Exception as e:  # a simulator bug: still an answer in Graph's shape, never a dropped call
                resp = self._error(GraphError(500, "InternalServerError", f"graphtape simulate failed on this "
                                              f"call ({type(e).__name__}: {e}); please report it"), req, request_id)
            self.state.clock.tick()
        return _with_ids(resp, request_id, header(req.headers, "client-request-id"))

    def _answer(self, req: HttpRequest) -> HttpResponse:
        if self.state.uploads.handles(req.url):
            return self.state.uploads.answer(req, self.state.ids, self.state.clock.iso())
        url = req.graph_url
        if url is None:
            parts = urlsplit(req.url)
            if is_graph_host(parts.hostname or ""):  # Graph's host, but no version Graph serves
                version = parts.path.lstrip("/").split("/", 1)[0]
                raise GraphError(404, "ResourceNotFound", f"Invalid version: {version!r}. Graph serves /v1.0 and "
                                                          "/beta.")
            raise not_simulated(req.method.upper(), parts.path)
        if url.resource.rstrip("/").lower() == "/$batch" and req.method.upper() == "POST":
            base = f"https://{url.host}/{url.version}"
            status, doc = answer_batch(base, req.body, self.answer)
            return json_answer(status, doc)
        check(req)
        return route(self.state, req, url)

    def _error(self, e: GraphError, req: HttpRequest, request_id: str) -> HttpResponse:
        doc = error_body(e.code, e.message, request_id, client_request_id=header(req.headers, "client-request-id"),
                         now=self.state.clock.now())
        body = json.dumps(doc, separators=(",", ":")).encode()
        return HttpResponse(e.status, reason(e.status), [("Content-Type", "application/json"), *e.headers], body)


def _with_ids(resp: HttpResponse, request_id: str, client_request_id: str | None) -> HttpResponse:
    headers = [h for h in resp.headers if h[0].lower() not in ("request-id", "client-request-id")]
    headers.append(("request-id", request_id))
    if client_request_id:
        headers.append(("client-request-id", client_request_id))
    return HttpResponse(resp.status, resp.reason, headers, resp.body)
