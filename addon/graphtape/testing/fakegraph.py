"""A local HTTPS stand-in for Graph mail: the simulator (``graphtape.simulate``) behind an HTTPS server.

Used to record cassettes without a tenant (``--upstream https://127.0.0.1:PORT``), by the tests and by
``make cassettes``. Each request becomes an ``HttpRequest`` for ``Simulator.answer``: one model of Graph, the one
``graphtape simulate`` serves. Its /me mailbox starts with the Create Message page's example draft
(``AAMkAGRWAAAFSmKXAAA=``, created with an immutable id), so the docs' calls on it are answered, and every
``/users/{id | upn}`` a call names is a mailbox of its tenant (created empty on first use). The stand-in adds
what tests need around it: what arrived (``state.received``), answers to give first (``state.canned``), scripted
429s (``state.throttle``), a latency, and the sign-in endpoints (``fakelogin``).

    python -m graphtape.testing.fakegraph --port 8443 --cert-dir /tmp/fakegraph
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from graphtape.model import HttpRequest, HttpResponse, header
from graphtape.simulate import Simulator
from graphtape.simulate.answers import with_request_ids
from graphtape.simulate.uploads import SESSION_PATH, UploadSessions
from graphtape.testing.fakegraph_gate import Throttle
from graphtape.testing.fakelogin import serve_signin, signin_request
from graphtape.testing.fakeseed import docs_draft
from graphtape.testing.tls import serve_tls

GRAPH = "https://graph.microsoft.com"
MAX_BODY = 64 * 1024 * 1024  # Graph refuses far smaller requests; the stand-in reads no more than this


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes


class StandIn(Simulator):
    """The simulator, with what the tests script around it: every call noted, canned answers, throttling."""

    def __init__(self, state: FakeGraphState, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fake = state

    def answer(self, req: HttpRequest) -> HttpResponse:
        path = req.url.split("://", 1)[-1]
        path = path[path.find("/"):] if "/" in path else "/"
        upload = self.uploads.handles(req.url)
        self.fake.received.append(Received(req.method, path, {k.lower(): v for k, v in req.headers},
                                           b"" if upload else req.body))
        scripted = None if upload else self._scripted(req, path)
        if scripted is not None:  # a scripted answer, with the ids Graph puts on each
            return with_request_ids(scripted, self.state.ids.request_id(), header(req.headers, "client-request-id"))
        return super().answer(req)

    def _scripted(self, req: HttpRequest, path: str) -> HttpResponse | None:
        """A canned answer (POSTs) or a scripted 429 (not for $batch itself: its items are throttled)."""
        if req.method.upper() == "POST":
            with self.fake.lock:
                canned = self.fake.canned.pop(0) if self.fake.canned else None
            if canned is not None:
                return _canned(*canned)
        return self.fake.throttle.answer() if not path.rstrip("/").endswith("$batch") else None


def _canned(status: int, doc: Any) -> HttpResponse:
    if doc is None:
        return HttpResponse(status, "", [], b"")
    return HttpResponse(status, "", [("Content-Type", "application/json;odata.metadata=minimal;charset=utf-8")],
                        json.dumps(doc, separators=(",", ":")).encode())


@dataclass
class FakeGraphState:
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    canned: list[tuple[int, Any]] = field(default_factory=list)  # answers to POSTs to give first, in order
    latency_s: float = 0.0  # how long each answer takes (the benchmark's stand-in for a distant Graph)
    throttle: Throttle = field(default_factory=Throttle)  # throttle.next(n, retry_after_s): n scripted 429s
    signins: list[Received] = field(default_factory=list)  # sign-in calls (fakelogin.py), not in ``received``
    simulator: StandIn | None = None

    @property
    def sim(self) -> StandIn:
        assert self.simulator is not None
        return self.simulator

    @property
    def uploads(self) -> UploadSessions:
        return self.sim.uploads


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle on, the body waits for the peer's delayed ACK
    # (40 ms on Linux) on every keep-alive request.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, resp: HttpResponse) -> None:
        if self.server.state.latency_s:
            time.sleep(self.server.state.latency_s)
        self.send_response(resp.status, resp.reason or None)
        for name, value in resp.headers:
            if name.lower() != "content-length":  # spelled as Graph does:
                self.send_header("Content-Type" if name.lower() == "content-type" else name, value)
        self.send_header("Content-Length", str(len(resp.body)))
        self.end_headers()
        self.wfile.write(resp.body)

    def _body(self) -> bytes | None:
        """The request body; None (answered 400 already) when its Content-Length is not one to read."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self.close_connection = True  # the body was not read: the connection cannot carry another request
            body = json.dumps({"error": {"code": "BadRequest", "message": "Invalid Content-Length."}}).encode()
            self._send(HttpResponse(400, "Bad Request", [("Content-Type", "application/json")], body))
            return None
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        body = self._body()
        if body is None:
            return
        signin = signin_request(self, body)
        if signin is not None:
            self.server.state.signins.append(Received(self.command, signin.url, {k.lower(): v for k, v in
                                                                                 signin.headers}, body))
            serve_signin(self, signin)
            return
        path = self.path.split("?", 1)[0]
        sim = self.server.state.sim
        base = f"https://{sim.uploads.host}" if SESSION_PATH.match(unquote(path)) else GRAPH
        self._send(sim.answer(HttpRequest(self.command, base + self.path, list(self.headers.items()), body)))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: FakeGraphState


class FakeGraph:
    """Start with ``with FakeGraph(cert_dir) as g: g.url``; ``g.state.received`` lists what arrived,
    ``g.simulator.mailbox("me")`` what the mailbox holds."""

    def __init__(self, cert_dir: Path, port: int = 0, host: str = "127.0.0.1", latency_ms: float = 0.0, *,
                 with_docs_draft: bool = True, **simulator: Any):
        """``simulator``: the Simulator's own arguments (seed, id_seed, clock); ``with_docs_draft``: the mailbox
        starts with the docs' example draft (``fakeseed``)."""
        self.server = _Server((host, port), _Handler)
        self.server.state = FakeGraphState(latency_s=latency_ms / 1000)
        self.server.state.simulator = StandIn(self.server.state, **simulator)
        self.server.state.sim.state.store.open_users = True  # a tenant with every user a test names
        if with_docs_draft:
            docs_draft(self.server.state.simulator)
        self.cert = serve_tls(self.server, cert_dir)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def state(self) -> FakeGraphState:
        return self.server.state

    @property
    def simulator(self) -> Simulator:
        return self.server.state.sim

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"https://{host!s}:{port}"

    def __enter__(self) -> FakeGraph:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m graphtape.testing.fakegraph", description=__doc__)
    parser.add_argument("--port", type=int, default=8443)
    parser.add_argument("--cert-dir", default=".fakegraph")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="answer each call after this long")
    args = parser.parse_args()
    with FakeGraph(Path(args.cert_dir), args.port, latency_ms=args.latency_ms) as g:
        print(f"fake Graph on {g.url}, certificate {g.cert}", flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()
