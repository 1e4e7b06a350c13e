"""The stand-in's sign-in: a request for a login host's endpoint (its Host header names the login host, as graphtape
keeps it with ``--upstream-signin``) is answered as replay answers it, by ``graphtape.signin``. So a test app
signs in with ``ClientSecretCredential`` (or MSAL) while it records against the stand-in."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler

from graphtape.graph import is_login_host
from graphtape.model import HttpRequest
from graphtape.signin import answer


def signin_request(handler: BaseHTTPRequestHandler, body: bytes) -> HttpRequest | None:
    """The request as the client sent it to the login host, if it is for one; else None (a Graph call)."""
    host = (handler.headers.get("Host") or "").split(":", 1)[0]  # a login host is a name, never an IP literal
    if not is_login_host(host):
        return None
    return HttpRequest(handler.command, f"https://{host}{handler.path}", list(handler.headers.items()), body)


def serve_signin(handler: BaseHTTPRequestHandler, req: HttpRequest) -> None:
    """Answer a sign-in request (a path the sign-in module does not know: Entra's 404)."""
    found = answer(req)
    if found is None:
        status, reason, headers, body = 404, "Not Found", [("Content-Type", "text/plain")], b"no such endpoint\n"
    else:
        resp = found.response
        status, reason, headers, body = resp.status, resp.reason, resp.headers, resp.body
    handler.send_response(status, reason)
    for name, value in headers:
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
