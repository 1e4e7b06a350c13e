"""Loaded first into every bench ``mitmdump``: print graphtape's start line from mitmproxy's ``running`` hook.

So the bench waits for mitmdump as it waits for graphtape, on the start line (graphtape/proxy/startline.py),
and reads the port from it; nothing polls. It does nothing per request.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mitmproxy import ctx

from graphtape.proxy.startline import format_start_line


class Ready:
    def running(self) -> None:
        host, port = ctx.master.addons.get("proxyserver").listen_addrs()[0][:2]
        ca = Path(ctx.options.confdir).expanduser() / "mitmproxy-ca-cert.pem"
        print(format_start_line("mitmdump", host, port, ca), file=sys.stderr, flush=True)


addons = [Ready()]
