"""A mitmproxy addon beside GraphTape in the plugin's proxy: while no cassette is in use, a Microsoft Graph call
is answered 403 ``graphtape.NoCassette`` (naming where the run was) and noted, never sent anywhere.

It answers in ``requestheaders``, before GraphTape's ``request`` (which leaves an answered flow alone); while
a cassette is in use (``where`` is None) it does nothing. Other hosts are left to the proxy's idle replay.
"""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

from mitmproxy import http

from graphtape.graph import error_response, is_graph_host
from graphtape.privacy.redaction import Redactor
from graphtape.proxy.flows import canonical_url, to_mitmproxy_response
from graphtape.pytest.outside import (
    BEFORE_TESTS,
    NO_CASSETTE_CODE,
    NO_CASSETTE_STATUS,
    StrayCall,
    Where,
    no_cassette_message,
)


class NoCassetteGuard:
    """``where``: set by the plugin's thread, read on the proxy's; ``take()`` hands over the calls noted since."""

    def __init__(self) -> None:
        self.where: Where | None = Where(BEFORE_TESTS)
        self._calls: list[StrayCall] = []
        self._lock = threading.Lock()
        self._redact = Redactor().url

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        where = self.where
        if where is None or flow.request.method == "CONNECT" or flow.response is not None:
            return
        url = canonical_url(flow)
        if not is_graph_host(urlsplit(url).hostname or ""):
            return
        call = StrayCall(flow.request.method, self._redact(url), where)
        with self._lock:
            self._calls.append(call)
        flow.request.stream = False  # answered here: a large body is read and dropped, not streamed on
        flow.response = to_mitmproxy_response(error_response(NO_CASSETTE_STATUS, NO_CASSETTE_CODE,
                                                             no_cassette_message(call)))

    def take(self) -> list[StrayCall]:
        with self._lock:
            calls, self._calls = self._calls, []
        return calls
