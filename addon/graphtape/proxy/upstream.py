"""Where record and inspect send Graph calls (``graphtape_upstream``) instead of the host the client asked for."""

from __future__ import annotations

from urllib.parse import urlsplit

from mitmproxy import http

from graphtape.graph import is_graph_host, is_login_host


class Upstream:
    """A base URL that stands in for Graph: its scheme, host, port and path prefix. ``signin``: it stands in for
    the sign-in hosts too (a stand-in such as graphtape.testing.fakegraph answers both)."""

    def __init__(self, url: str, *, signin: bool = False):
        self.signin = signin
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"--upstream must be an http(s) base URL like https://127.0.0.1:8443, not {url!r}")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.prefix = parts.path.rstrip("/")

    def apply(self, req: http.Request) -> None:
        req.scheme = self.scheme
        req.host = self.host
        req.port = self.port
        if self.prefix:
            req.path = self.prefix + req.path


def route_upstream(upstream: Upstream | None, flow: http.HTTPFlow, url: str) -> None:
    """With an upstream, every call to a Graph host goes there (in scope or not), and with ``signin`` every call
    to a sign-in host, its Host header kept (the stand-in answers for the host asked); other hosts are untouched."""
    if upstream is None:
        return
    host = urlsplit(url).hostname or ""
    if is_graph_host(host):
        upstream.apply(flow.request)
    elif upstream.signin and is_login_host(host):
        upstream.apply(flow.request)
        flow.request.host_header = host
