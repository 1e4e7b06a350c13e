"""The start line: what graphtape prints, from mitmproxy's ``running`` hook, once it listens.

It is the readiness contract with whoever started the proxy in another process (``dev/harness.ProxyProcess``,
the benchmark, a shell script): the line appears on stderr when the port takes connections, and names the
address and the CA to trust. In-process, the runtime (runtime.py) gets the same moment as a callback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from graphtape.proxy.standalone import url_host

_START = re.compile(r"graphtape: (\w+) on (http://(?:\[([^\]]+)\]|([^:/]+)):(\d+)), CA certificate: (.+)$")


@dataclass(frozen=True)
class StartLine:
    mode: str
    url: str  # http://HOST:PORT, an IPv6 host in brackets
    host: str
    port: int
    ca: Path


def format_start_line(mode: str, host: str, port: int, ca: Path) -> str:
    return f"graphtape: {mode} on http://{url_host(host)}:{port}, CA certificate: {ca}"


def parse_start_line(line: str) -> StartLine | None:
    """The start line's parts, or None for any other line (a trailing newline is fine)."""
    m = _START.search(line.rstrip("\r\n"))
    if m is None:
        return None
    return StartLine(mode=m.group(1), url=m.group(2), host=m.group(3) or m.group(4), port=int(m.group(5)),
                     ca=Path(m.group(6)))
