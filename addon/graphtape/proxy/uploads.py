"""Upload sessions at the proxy: learning upload URLs from the Graph answers that pass, and routing their calls.

The decisions are the scope's (graphtape/scope.py); this module only reads flows for it.
"""

from __future__ import annotations

from mitmproxy import ctx, http

from graphtape.bodies.limits import BodyTooLarge
from graphtape.model import HttpRequest
from graphtape.proxy.flows import response_of
from graphtape.proxy.upstream import Upstream, route_upstream
from graphtape.scope import Scope


def learn_answer(scope: Scope, req: HttpRequest | None, flow: http.HTTPFlow) -> None:
    """Record/inspect, before the client gets the answer to ``req`` (None: not parsed, its body too large): an
    upload URL it names comes into scope (so the chunk PUTs that follow are recorded), and a chunk's answer says
    where its session stands."""
    if req is None or flow.response is None or not scope.learns_from(req):
        return
    try:
        resp = response_of(flow.response)
    except BodyTooLarge:
        return
    scope.learn(req, resp)


def route(upstream: Upstream | None, scope: Scope, flow: http.HTTPFlow, url: str) -> None:
    """``route_upstream``, and an upload URL's call to the upstream too with ``graphtape_upstream_uploads``."""
    if upstream is not None and ctx.options.graphtape_upstream_uploads and scope.session(url) is not None:
        upstream.apply(flow.request)
        return
    route_upstream(upstream, flow, url)
