"""A misbehaving HTTPS upstream for the hardening tests: answers, echoes, fails with 5xx, resets, hangs.

The test chooses the behaviour per request with the ``X-Upstream`` header:

- ``echo`` (default): 201 with ``{"id": ..., "subject": <the request's subject>, "size": <body bytes>}``
- ``503``: Graph's throttling answer (``Retry-After`` and an error body)
- ``reset``: reads the request, then closes the connection with a TCP reset, no answer
- ``hang``: reads the request and answers nothing for ``HANG_SECONDS``
- ``empty``: 202 with no body
"""

from __future__ import annotations

import itertools
import json
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from graphtape.testing.tls import serve_tls

HANG_SECONDS = 4.0


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _read_body(self) -> tuple[bytes, int]:
        """(the body, or b"" past 8 MB, which is only counted; its size)."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return data, len(data)
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        remaining, chunks = length, []
        while remaining > 0:  # in pieces: a 150 MB body is counted, not held at once
            chunk = self.rfile.read(min(remaining, 1 << 20))
            if not chunk:
                break
            remaining -= len(chunk)
            if length <= 8 << 20:
                chunks.append(chunk)
            self.server.received_bytes += len(chunk)
        return b"".join(chunks), length - remaining

    def _send(self, status: int, doc: Any = None, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(doc).encode() if doc is not None else b""
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if doc is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        body, size = self._read_body()
        behave = self.headers.get("X-Upstream", "echo")
        self.server.log.append((behave, self.path))
        if behave == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        if behave == "hang":
            time.sleep(HANG_SECONDS)
            self.close_connection = True
            return
        if behave == "503":
            self._send(503, {"error": {"code": "ServiceUnavailable", "message": "Try again later."}},
                       {"Retry-After": "7"})
            return
        if behave == "empty":
            self._send(202)
            return
        try:
            subject = json.loads(body).get("subject", "")
        except (ValueError, AttributeError):
            subject = None
        self._send(201, {"id": f"AAMk{next(self.server.ids):05d}=", "subject": subject, "size": size})

    do_PUT = do_POST


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    log: list[tuple[str, str]]
    ids: itertools.count[int]
    received_bytes: int


class Upstream:
    def __init__(self, cert_dir: Path):
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.log, self.server.ids, self.server.received_bytes = [], itertools.count(1), 0
        self.cert = serve_tls(self.server, cert_dir)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.server.server_address[1]}"

    @property
    def log(self) -> list[tuple[str, str]]:
        return self.server.log

    def __enter__(self) -> Upstream:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def peak_rss_mb(pid: int) -> float:
    """The high-water mark of a process's resident memory (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")
