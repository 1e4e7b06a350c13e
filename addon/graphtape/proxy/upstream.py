"""Where record and inspect send Graph calls (``graphtape_upstream``) instead of the host the client asked for."""

from __future__ import annotations

from urllib.parse import urlsplit

from mitmproxy import http

from graphtape.graph import is_graph_host


class Upstream:
    """A base URL that stands in for Graph: its scheme, host, port and path prefix."""

    def __init__(self, url: str):
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
    """With an upstream, every call to a Graph host goes there (in scope or not); other hosts are untouched."""
    if upstream is not None and is_graph_host(urlsplit(url).hostname or ""):
        upstream.apply(flow.request)
