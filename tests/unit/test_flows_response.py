"""to_mitmproxy_response builds its responses without mitmproxy's per-field checks: they must be the
responses ``http.Response.make`` and ``.content =`` build, field for field."""

from __future__ import annotations

import gzip
from typing import Any

import pytest
from mitmproxy import http

from graphtape.graph import error_response
from graphtape.model import HttpResponse
from graphtape.proxy.flows import HOP_BY_HOP, to_mitmproxy_response


def _the_long_way(resp: HttpResponse) -> http.Response:
    fields = tuple((k.encode(), v.encode()) for k, v in resp.headers if k.lower() not in HOP_BY_HOP)
    out = http.Response.make(resp.status, b"", http.Headers(fields))
    out.reason = resp.reason or out.reason
    out.content = resp.body
    return out


def _state(resp: http.Response) -> dict[str, Any]:
    state = resp.get_state()
    assert state.pop("timestamp_start") <= state.pop("timestamp_end")
    return state


RESPONSES = [
    pytest.param(HttpResponse(201, "Created", [("Content-Type", "application/json"), ("request-id", "r1")],
                              b'{"id":"AAMk="}'), id="json"),
    pytest.param(HttpResponse(202, "", [("Content-Length", "0"), ("Date", "x")]), id="empty-no-reason"),
    pytest.param(HttpResponse(299, "", [("X-A", "1"), ("x-a", "2")], b"zz"), id="unknown-status-repeated-header"),
    pytest.param(HttpResponse(200, "Fine", [("Transfer-Encoding", "chunked"), ("Connection", "close"),
                                           ("Keep-Alive", "5")], b"body"), id="hop-by-hop-dropped"),
    pytest.param(HttpResponse(200, "OK", [("Content-Encoding", "gzip")], b"hello " * 50), id="gzip-re-encoded"),
    pytest.param(HttpResponse(200, "OK", [("content-encoding", "bogus")], b"as is"), id="unknown-encoding"),
    pytest.param(HttpResponse(200, "Caf\u00e9", [("X-Name", "Zo\u00eb")], "\u00e9t\u00e9".encode()), id="non-ascii"),
    pytest.param(error_response(404, "graphtape.UnmatchedRequest", "no match"), id="graphtape-error"),
]


@pytest.mark.parametrize("resp", RESPONSES)
def test_response_equals_the_one_make_builds(resp: HttpResponse) -> None:
    fast, slow = to_mitmproxy_response(resp), _the_long_way(resp)
    assert _state(fast) == _state(slow)
    assert fast.content == slow.content == resp.body
    assert isinstance(fast, http.Response) and fast.reason == slow.reason


def test_gzip_body_is_sent_compressed() -> None:
    out = to_mitmproxy_response(HttpResponse(200, "OK", [("Content-Encoding", "gzip")], b"x" * 1000))
    assert out.raw_content is not None and gzip.decompress(out.raw_content) == b"x" * 1000
    assert out.headers["content-length"] == str(len(out.raw_content))


def test_each_response_is_its_own_object() -> None:
    resp = HttpResponse(200, "OK", [("X-A", "1")], b"same")
    a, b = to_mitmproxy_response(resp), to_mitmproxy_response(resp)
    a.headers["X-A"] = "changed"
    assert b.headers["X-A"] == "1"
