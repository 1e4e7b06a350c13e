"""The floor: ``mitmdump -s floor_addon.py`` answers every request at once with one fixed response.

No lookup, no parsing, no logging: what mitmproxy itself costs a request through a TLS tunnel.
"""

from __future__ import annotations

from mitmproxy import http

_BODY = b'{"id":"AAMkAGRWAAAFSmK000000AAA=","subject":"bench"}'
_HEADERS = {"Content-Type": "application/json;odata.metadata=minimal;charset=utf-8"}


class Floor:
    def request(self, flow: http.HTTPFlow) -> None:
        # The status the recording has for this call, so the bench client's check holds.
        status = 201 if flow.request.path.endswith("/messages") else 202
        flow.response = http.Response.make(status, _BODY if status == 201 else b"", _HEADERS)


addons = [Floor()]
