"""Bare pass-through for the record comparison: ``mitmdump -s rewrite_addon.py --set bench_upstream=URL``.

Sends each request to the local upstream instead of the host the client asked for, as
``graphtape record --upstream URL`` does, and nothing else.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from mitmproxy import ctx, http


class Rewrite:
    def load(self, loader: Any) -> None:
        loader.add_option("bench_upstream", str, "", "Base URL to send every request to.")

    def request(self, flow: http.HTTPFlow) -> None:
        up = urlsplit(ctx.options.bench_upstream)
        flow.request.scheme = up.scheme
        flow.request.host = up.hostname or "127.0.0.1"
        flow.request.port = up.port or 443


addons = [Rewrite()]
