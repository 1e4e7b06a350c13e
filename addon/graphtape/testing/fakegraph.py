"""A local HTTPS stand-in for Graph mail that answers as the Graph docs' examples do.

Used to record cassettes without a tenant (``--upstream https://127.0.0.1:PORT``), by the tests and by
``make cassettes``. It is deliberately small: create draft (JSON or MIME), send, sendMail, reply and
forward actions, attachments, ``$batch`` (``fakebatch``); a malformed MIME body gets Graph's documented 400. It
answers reads of what was created and sent through it (``fakegraph_reads``), scripted 429s, and refuses, with
Graph's error, every call graphtape's contract refuses (``fakegraph_gate``; a ``$batch``'s items one by one).

    python -m graphtape.testing.fakegraph --port 8443 --cert-dir /tmp/fakegraph
"""

from __future__ import annotations

import argparse
import datetime as _dt
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from graphtape.bodies.kinds import decode_base64_mime, is_json_type
from graphtape.bodies.mime import read_message
from graphtape.model import HttpResponse
from graphtape.testing.fakebatch import answer_batch
from graphtape.testing.fakegraph_gate import Throttle, refusal
from graphtape.testing.fakegraph_reads import answer_read, note_write
from graphtape.testing.fakelogin import serve_signin, signin_request
from graphtape.testing.fakeuploads import CREATE_PATH, SESSION_PATH, UploadSessions
from graphtape.testing.mailbox import Mailbox
from graphtape.testing.tls import serve_tls

_USER = r"/(?:v1\.0|beta)/+(?:me|users/[^/]+)"
_MSG = _USER + r"/+(?:mailFolders/[^/]+/+)?messages"
ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("POST", re.compile(_USER + r"/+sendMail$"), "send_mail"),
    ("POST", re.compile(_MSG + r"$"), "create"),
    ("POST", re.compile(_MSG + r"/+[^/]+/+send$"), "send"),
    ("POST", re.compile(_MSG + r"/+[^/]+/+(createReply|createReplyAll|createForward)$"), "create_draft_from"),
    ("POST", re.compile(_MSG + r"/+[^/]+/+(reply|replyAll|forward)$"), "act"),
    ("POST", re.compile(_MSG + r"/+[^/]+/+attachments$"), "attach"),
    ("POST", CREATE_PATH, "upload_session"),  # fakeuploads.py: chunks go to the uploadUrl's host
]

MIME_400 = {"error": {"code": "ErrorMimeContentInvalidBase64String",
                      "message": "Invalid base64 string for MIME content."}}
MAX_BODY = 64 * 1024 * 1024  # Graph refuses far smaller requests; the stand-in reads no more than this


class BadRequest(Exception):
    """A request the stand-in answers with Graph's 400 error shape instead of a result."""

    def __init__(self, message: str, code: str = "RequestBodyRead"):
        super().__init__(message)
        self.doc = {"error": {"code": code, "message": message}}


def _json_fields(body: bytes) -> dict[str, Any]:
    """The message fields of a JSON body (the object itself, or its ``message``); BadRequest otherwise."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError) as e:  # not JSON, not UTF-8/16/32, or nested past the parser
        raise BadRequest(f"Unable to read JSON request payload: {type(e).__name__}.") from None
    if not isinstance(doc, dict):
        raise BadRequest(f"A JSON object was expected as the request body, not {type(doc).__name__}.")
    inner = doc.get("message") or doc.get("Message") or doc
    if not isinstance(inner, dict):
        raise BadRequest(f"The 'message' property must be an object, not {type(inner).__name__}.")
    _check_types(inner)
    return inner


def _check_types(fields: dict[str, Any]) -> None:
    """The fields the stand-in reads have the JSON types Graph's message resource gives them."""
    expected: dict[str, tuple[type, ...]] = {"subject": (str,), "importance": (str,), "body": (dict,),
                                             "toRecipients": (list,), "ccRecipients": (list,),
                                             "bccRecipients": (list,)}
    for name, types in expected.items():
        value = fields.get(name)
        if value is not None and not isinstance(value, types):
            raise BadRequest(f"Cannot convert the literal of type {type(value).__name__} in '{name}'.")
    body = fields.get("body") or {}
    for name in ("contentType", "content"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise BadRequest(f"Cannot convert the literal in 'body.{name}' to a string.")


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes


@dataclass
class FakeGraphState:
    received: list[Received] = field(default_factory=list)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    lock: threading.Lock = field(default_factory=threading.Lock)
    canned: list[tuple[int, Any]] = field(default_factory=list)  # answers to give first, in order
    latency_s: float = 0.0  # how long each answer takes (the benchmark's stand-in for a distant Graph)
    mailbox: Mailbox = field(default_factory=Mailbox)  # what was created and sent: the reads answer from it
    throttle: Throttle = field(default_factory=Throttle)  # throttle.next(n, retry_after_s): n scripted 429s
    signins: list[Received] = field(default_factory=list)  # sign-in calls (fakelogin.py), not in ``received``
    uploads: UploadSessions = field(default_factory=UploadSessions)


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _message(state: FakeGraphState, version: str, fields: dict[str, Any]) -> dict[str, Any]:
    with state.lock:
        n = next(state.ids)
    msg_id = f"AAMkAGRWAAAFSmK{n:04d}AAA="
    now = _now()
    body = fields.get("body") or {"contentType": "text", "content": ""}
    return {
        "@odata.context": f"https://graph.microsoft.com/{version}/$metadata#users('fake-user')/messages/$entity",
        "@odata.etag": 'W/"CQAAABYAAAAmXr9SsE/UR4PcnTZcg7qWAAAFS12t"',
        "id": msg_id,
        "createdDateTime": now,
        "lastModifiedDateTime": now,
        "subject": fields.get("subject", ""),
        "importance": str(fields.get("importance", "normal")).lower(),
        "isDraft": True,
        "body": {"contentType": str(body.get("contentType", "text")).lower(), "content": body.get("content", "")},
        "toRecipients": fields.get("toRecipients", []),
        "ccRecipients": fields.get("ccRecipients", []),
        "bccRecipients": fields.get("bccRecipients", []),
        "flag": {"flagStatus": "notFlagged"},
    }


def _fields_from_mime(decoded: bytes) -> dict[str, Any]:
    msg = read_message(decoded).headers
    to = [{"emailAddress": {"address": a.addr_spec, "name": a.display_name or a.addr_spec}}
          for v in msg.get_all("To", []) or [] for a in getattr(v, "addresses", ())]
    return {"subject": str(msg.get("Subject", "")), "toRecipients": to}


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle on, the body waits for the peer's delayed ACK
    # (40 ms on Linux) on every keep-alive request.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _reply(self, status: int, doc: Any = None, headers: list[tuple[str, str]] | None = None) -> None:
        body = json.dumps(doc, separators=(",", ":")).encode() if doc is not None else b""
        ctype = [("Content-Type", "application/json;odata.metadata=minimal;charset=utf-8")] if doc is not None else []
        self._send(HttpResponse(status, "", [*ctype, *(headers or [])], body))

    def _send(self, resp: HttpResponse) -> None:
        """An answer (built here, or by the reads, the throttling, the contract): status, headers and body."""
        if self.server.state.latency_s:
            time.sleep(self.server.state.latency_s)
        self.send_response(resp.status)
        self.send_header("request-id", "00000000-0000-0000-0000-000000000000")
        client_request_id = self.headers.get("client-request-id")
        if client_request_id:
            self.send_header("client-request-id", client_request_id)
        for name, value in resp.headers:
            if name.lower() not in ("request-id", "client-request-id", "content-length"):  # spelled as Graph does:
                self.send_header("Content-Type" if name.lower() == "content-type" else name, value)
        self.send_header("Content-Length", str(len(resp.body)))
        self.end_headers()
        self.wfile.write(resp.body)

    def _gated(self, body: bytes) -> bool:
        """True when the call was answered already: throttled as scripted, or refused as Graph refuses it."""
        answer = self.server.state.throttle.answer() or refusal(self.command, self.path, list(self.headers.items()),
                                                                body)
        if answer is not None:
            self._send(answer)
        return answer is not None

    def do_GET(self) -> None:
        if self._signin(b""):
            return
        self.server.state.received.append(Received("GET", self.path, {k.lower(): v for k, v in self.headers.items()},
                                                   b""))
        if self._gated(b""):
            return
        answer = answer_read(self.server.state.mailbox, self.path, self.headers.get("Prefer", ""))
        self._send(answer) if answer is not None else self._refuse_method()

    def _body(self) -> bytes | None:
        """The request body; None (answered 400 already) when its Content-Length is not one to read."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self.close_connection = True  # the body was not read: the connection cannot carry another request
            self._reply(400, {"error": {"code": "BadRequest", "message": "Invalid Content-Length."}})
            return None
        return self.rfile.read(length) if length else b""

    def _upload(self) -> None:
        """PUT and DELETE: an upload session's chunks and cancel (fakeuploads.py); nothing else."""
        path, _, query = self.path.partition("?")
        if not SESSION_PATH.match(unquote(path)):
            self._refuse_method()
            return
        body = self._body()
        if body is None:
            return
        uploads = self.server.state.uploads
        self.server.state.received.append(Received(self.command, self.path, {k.lower(): v for k, v in
                                                                             self.headers.items()}, b""))
        if self.command == "PUT":
            self._reply(*uploads.put(path, query, list(self.headers.items()), body))
        else:
            self._reply(*uploads.delete(path, query))

    do_PUT = do_DELETE = _upload

    def do_POST(self) -> None:
        body = self._body()
        if body is None:
            return
        if self._signin(body):
            return
        try:
            self._post(body)
        except BadRequest as e:
            self._reply(400, e.doc)
        except Exception as e:  # a stand-in bug: still an answer in Graph's shape, never a dropped connection
            self._reply(500, {"error": {"code": "InternalServerError", "message": f"fake Graph failed: {e!r}"}})

    def _refuse_method(self) -> None:
        path = self.path.split("?", 1)[0]
        self._reply(404, {"error": {"code": "ResourceNotFound",
                                    "message": f"The stand-in serves no {self.command} {path}"}})

    do_PATCH = _refuse_method

    def _signin(self, body: bytes) -> bool:
        """A login host's call (Host says which): answered by the sign-in module; True when it was one."""
        req = signin_request(self, body)
        if req is None:
            return False
        self.server.state.signins.append(Received(self.command, req.url, {k.lower(): v for k, v in req.headers},
                                                  body))
        serve_signin(self, req)
        return True

    def _post(self, body: bytes) -> None:
        state = self.server.state
        headers = {k.lower(): v for k, v in self.headers.items()}
        state.received.append(Received("POST", self.path, headers, body))
        path = self.path.split("?", 1)[0]
        version = "beta" if "/beta/" in path else "v1.0"
        with state.lock:
            canned = state.canned.pop(0) if state.canned else None
        if canned is not None:
            self._reply(*canned)
            return
        if re.search(r"/(?:v1\.0|beta)/+\$batch$", path):  # each item run through this same handling (and gate)
            self._reply(*answer_batch(self, version, body))
            return
        if self._gated(body):
            return
        for method, pattern, action in ROUTES:
            if method == "POST" and pattern.search(path):
                self._dispatch(action, version, body)
                return
        self._reply(404, {"error": {"code": "ResourceNotFound", "message": f"No route for {path}"}})

    def _parse(self, body: bytes) -> dict[str, Any]:
        """The message fields a body carries (JSON or MIME); BadRequest for one Graph would refuse."""
        ctype = self.headers.get("Content-Type", "")
        if not body:
            return {}
        if is_json_type(ctype):
            return _json_fields(body)
        decoded = decode_base64_mime(body)
        if decoded is None:
            raise BadRequest(MIME_400["error"]["message"], MIME_400["error"]["code"])
        return _fields_from_mime(decoded)

    def _dispatch(self, action: str, version: str, body: bytes) -> None:
        fields = self._parse(body)
        if action == "upload_session":
            self._reply(*self.server.state.uploads.create(self.path.split("?", 1)[0], fields))
            return
        doc: dict[str, Any] | None = None
        if action in ("create", "create_draft_from"):
            doc = _message(self.server.state, version, fields)
        elif action == "attach":
            doc = dict(fields)
            doc.setdefault("id", "AAMkAGI2THVSAAABEgAQAH5Ry8SCXgZImSTaukO5HCA=")
        note_write(self.server.state.mailbox, action, self.path, fields, doc)  # the reads answer from it
        self._reply(202) if doc is None else self._reply(201, doc)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: FakeGraphState


class FakeGraph:
    """Start with ``with FakeGraph(cert_dir) as g: g.url``; ``g.state.received`` lists what arrived."""

    def __init__(self, cert_dir: Path, port: int = 0, host: str = "127.0.0.1", latency_ms: float = 0.0):
        self.server = _Server((host, port), _Handler)
        self.server.state = FakeGraphState(latency_s=latency_ms / 1000)
        self.cert = serve_tls(self.server, cert_dir)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def state(self) -> FakeGraphState:
        return self.server.state

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
