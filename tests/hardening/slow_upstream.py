"""An HTTPS upstream that answers every POST with 201 after a delay the request chooses (``X-Delay-Ms``).

For the shutdown tests: a call whose answer is on its way when the recorder is told to stop.
``X-Delay-Ms: never`` holds the request open (no answer) until the server is closed.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from graphtape.testing.tls import serve_tls


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        delay = self.headers.get("X-Delay-Ms", "0")
        self.server.arrived.append(self.path)
        if delay == "never":
            self.server.closing.wait()
            self.close_connection = True
            return
        time.sleep(int(delay) / 1000)
        try:
            subject = json.loads(body).get("subject", "")
        except (ValueError, AttributeError):
            subject = None
        doc = json.dumps({"id": f"AAMk{next(self.server.ids):05d}=", "subject": subject}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(doc)))
        self.end_headers()
        self.wfile.write(doc)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    ids: itertools.count[int]
    arrived: list[str]
    closing: threading.Event


class SlowUpstream:
    def __init__(self, cert_dir: Path):
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.ids, self.server.arrived, self.server.closing = itertools.count(1), [], threading.Event()
        self.cert = serve_tls(self.server, cert_dir)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.server.server_address[1]}"

    @property
    def arrived(self) -> list[str]:
        return self.server.arrived

    def __enter__(self) -> SlowUpstream:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.closing.set()
        self.server.shutdown()
        self.server.server_close()
