"""Between mitmproxy flows and graphtape's plain data (the only module that knows both)."""

from __future__ import annotations

import time
from pathlib import Path

from mitmproxy import ctx, http
from mitmproxy.net.http import status_codes
from mitmproxy.proxy import mode_specs

from graphtape.bodies.limits import decode_bounded, max_body_bytes, too_large
from graphtape.graph import GraphUrl
from graphtape.model import Headers, HttpRequest, HttpResponse

# Headers that describe one connection's framing, never replayed as recorded.
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer",
     "content-length"}
)


def ca_cert_path() -> Path:
    return Path(ctx.options.confdir).expanduser() / "mitmproxy-ca-cert.pem"


def canonical_url(flow: http.HTTPFlow) -> str:
    """The URL the client asked for; in reverse mode, on the host the proxy stands in for."""
    mode = flow.client_conn.proxy_mode
    if isinstance(mode, mode_specs.ReverseMode):
        host, port = mode.address
        default = 443 if mode.scheme == "https" else 80
        netloc = host if port == default else f"{host}:{port}"
        return f"{mode.scheme}://{netloc}{flow.request.path}"
    return flow.request.url


def _text(value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def headers_of(headers: http.Headers) -> Headers:
    fields = headers.fields
    try:  # the usual headers: all UTF-8, decoded in one go
        return [(k.decode("utf-8"), v.decode("utf-8")) for k, v in fields]
    except UnicodeDecodeError:
        return [(_text(k), _text(v)) for k, v in fields]


def _content(message: http.Message) -> tuple[bytes, bool]:
    """The decoded body, never more than ``limits.max_body_bytes()`` (BodyTooLarge: streamed or inflating), and
    whether it is as it came: a Content-Encoding that did not decode (corrupt gzip, an unknown coding) is kept."""
    limit = max_body_bytes()
    raw = message.raw_content
    if raw is None:  # streamed through (stream_large_bodies): not kept
        raise too_large("the body was streamed through because it", limit)
    encoding = message.headers.get("content-encoding", "")
    body = decode_bounded(raw, encoding, limit)
    return body, body is raw and bool(raw) and encoding.strip().lower() not in ("", "identity", "none")


def request_of(flow: http.HTTPFlow, url: str, graph_url: GraphUrl | None = None) -> HttpRequest:
    """The request's one parsed view; ``graph_url``: ``url`` parsed already (by the scope check), kept as the
    view's ``graph_url`` instead of being parsed again (``HttpRequest.graph_url`` caches in the instance)."""
    req = HttpRequest(
        method=flow.request.method,
        url=url,
        headers=headers_of(flow.request.headers),
        body=_content(flow.request)[0],
    )
    if graph_url is not None:
        req.__dict__["graph_url"] = graph_url
    return req


def response_of(resp: http.Response) -> HttpResponse:
    body, as_sent = _content(resp)
    return HttpResponse(status=resp.status_code, reason=resp.reason, headers=headers_of(resp.headers),
                        body=body, body_as_sent=as_sent)


def reason_bytes(reason: str) -> bytes:
    """A reason phrase as HTTP/1 sends it: Latin-1 as mitmproxy reads it, else (a hand-edited cassette) UTF-8."""
    try:
        return reason.encode("ISO-8859-1")
    except UnicodeEncodeError:
        return reason.encode("utf-8")


def _wire_fields(resp: HttpResponse) -> tuple[tuple[bytes, bytes], ...]:
    """The headers to send (hop-by-hop ones left out), encoded; kept in the response's view, as a recorded answer
    is served again and again (an immutable tuple: every flow's ``http.Headers`` is its own)."""
    fields: tuple[tuple[bytes, bytes], ...] | None = resp.__dict__.get("_wire_fields")
    if fields is None:
        fields = tuple((k.encode("utf-8"), v.encode("utf-8")) for k, v in resp.headers if k.lower() not in HOP_BY_HOP)
        resp.__dict__["_wire_fields"] = fields
    return fields


def to_mitmproxy_response(resp: HttpResponse) -> http.Response:
    """A response to send: headers as recorded (order and repeats kept), framing recomputed.

    The same response ``http.Response.make`` and ``.content = body`` build, without their type checks:
    mitmproxy checks every field of a message it creates (when Python runs without -O), ~50 µs a
    response, and the fields here are built with their types. A body to compress again
    (Content-Encoding) takes mitmproxy's own path.
    """
    fields = _wire_fields(resp)
    if resp.body and not resp.body_as_sent and any(k.lower() == b"content-encoding" for k, _ in fields):
        out = http.Response.make(resp.status, b"", http.Headers(fields))
        out.data.reason = reason_bytes(resp.reason) if resp.reason else out.data.reason
        out.content = resp.body  # re-applies the Content-Encoding and sets Content-Length
        return out
    # the body as it is: not encoded, empty, or kept as it came because its encoding did not decode
    reason = resp.reason or status_codes.RESPONSES.get(resp.status, "")
    now = time.time()
    data = object.__new__(http.ResponseData)
    data.__dict__.update(
        http_version=b"HTTP/1.1",
        headers=http.Headers((*fields, (b"content-length", str(len(resp.body)).encode("ascii")))),
        content=resp.body,
        trailers=None,
        timestamp_start=now,
        timestamp_end=now,
        status_code=resp.status,
        reason=reason_bytes(reason),
    )
    out = object.__new__(http.Response)
    out.data = data
    return out
