"""Building blocks for driving ``graphtape.proxy.addon.GraphTape`` in-process with mitmproxy's ``taddons``/``tflow``.

No network and no proxy process: flows are built with ``tflow.tflow`` and the addon's hooks are called
directly, in the order mitmproxy calls them (requestheaders -> request -> response | error).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mitmproxy import hooks, http
from mitmproxy.addons.proxyserver import Proxyserver
from mitmproxy.test import taddons, tflow

from graphtape.cassette.recorder import Recorder, RecordMode
from graphtape.model import HttpRequest, HttpResponse, Interaction
from graphtape.privacy.redaction import Redactor
from graphtape.proxy.addon import GraphTape

GRAPH = "https://graph.microsoft.com/v1.0"
JSON = {"Content-Type": "application/json"}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


# JWT-shaped, built at run time so no token-looking literal is committed.
JWT = ".".join([_b64url(b'{"typ":"JWT","alg":"RS256"}'), _b64url(b'{"aud":"https://graph.microsoft.com"}'),
                _b64url(b"signature-signature")])


@contextmanager
def running_addon(*, standalone: bool = False, **options: Any) -> Iterator[tuple[GraphTape, taddons.context]]:
    """A fresh GraphTape (as ``mitmdump -s`` loads it, if ``standalone``) in a taddons context, configured with
    ``options``.

    mitmproxy's Proxyserver is loaded too: it declares the options graphtape adjusts (connection_strategy,
    body_size_limit, stream_large_bodies) and answers ``listen_addrs`` as in a real proxy. As at mitmproxy's
    start, the addon is first configured with every option, then ``options`` are set.
    """
    addon = GraphTape(standalone=standalone)
    with taddons.context(Proxyserver(), addon) as tctx:
        try:
            tctx.master.addons.invoke_addon_sync(addon, hooks.ConfigureHook(set(tctx.options.keys())))
            if options:
                tctx.configure(addon, **options)
            yield addon, tctx
        finally:
            # mitmproxy forwards log records to the master's (now closing) loop; a second context in the
            # same test would log into the first one's closed loop.
            tctx.master._legacy_log_events.uninstall()


def graph_flow(method: str, url: str, body: bytes | str | dict[str, Any] = b"",
               headers: dict[str, str] | None = None, resp: http.Response | None = None) -> http.HTTPFlow:
    """A client's flow to ``url`` (absolute, or a path under Graph v1.0), optionally already answered."""
    if isinstance(body, dict):
        body, headers = json.dumps(body), {**JSON, **(headers or {})}
    full = url if "://" in url else GRAPH + url
    req = http.Request.make(method, full, body, _headers(headers or {}))
    return tflow.tflow(req=req, resp=resp or False)


def graph_response(status: int = 200, body: dict[str, Any] | bytes = b"",
                   headers: dict[str, str] | None = None) -> http.Response:
    if isinstance(body, dict):
        return http.Response.make(status, json.dumps(body), _headers({**JSON, **(headers or {})}))
    return http.Response.make(status, body, _headers(headers or {}))


def _headers(headers: dict[str, str]) -> http.Headers:
    return http.Headers([(k.encode(), v.encode()) for k, v in headers.items()])


def send(addon: GraphTape, flow: http.HTTPFlow, upstream: http.Response | None = None) -> http.HTTPFlow:
    """One trip through the addon: request, then (as if the upstream answered ``upstream``) response."""
    addon.requestheaders(flow)
    addon.request(flow)
    if upstream is not None and flow.response is None:
        flow.response = upstream
    if flow.response is not None:
        addon.response(flow)
    return flow


def graph_error_code(flow: http.HTTPFlow) -> str:
    """The ``error.code`` of a Graph-shaped error body graphtape answered with."""
    assert flow.response is not None
    return str(json.loads(flow.response.content or b"{}")["error"]["code"])


def write_cassette(path: Path, *interactions: Interaction) -> Path:
    """A cassette holding ``interactions``, written by graphtape's own recorder."""
    recorder = Recorder(path, RecordMode.NEW, Redactor())
    for interaction in interactions:
        recorder.add(interaction)
    recorder.close()
    return path


def interaction(method: str, path: str, status: int = 200, body: dict[str, Any] | None = None,
                req_body: dict[str, Any] | None = None) -> Interaction:
    req_headers = [("Content-Type", "application/json")] if req_body is not None else []
    return Interaction(
        HttpRequest(method, GRAPH + path, req_headers, json.dumps(req_body).encode() if req_body is not None else b""),
        HttpResponse(status, "", [("Content-Type", "application/json")],
                     json.dumps(body).encode() if body is not None else b""),
        recorded_at="2026-11-22T00:00:00.000Z", duration_ms=1.0,
    )


SEND_MAIL = {"message": {"subject": "hi", "toRecipients": [{"emailAddress": {"address": "a@contoso.com"}}]}}
