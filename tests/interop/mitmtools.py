"""mitmproxy's own tools (mitmweb, mitmdump) with graphtape loaded as a script, as a user runs them; and Graph
mail traffic to send through them."""

from __future__ import annotations

import base64
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx

from graphtape.proxy.startline import parse_start_line

REPO = Path(__file__).resolve().parents[2]
ENTRY = REPO / "addon" / "graphtape" / "entry.py"
GRAPH = "https://graph.microsoft.com/v1.0"
PDF = b"%PDF-1.4 graphtape test attachment\n" * 40


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def mime_message(subject: str = "Quarterly report") -> bytes:
    """A message with a text part and a PDF attachment, CRLF line ends (as the SDKs' MIME writers send)."""
    pdf = base64.encodebytes(PDF).decode().replace("\n", "\r\n")
    return ("From: Alex <alex@contoso.com>\r\nTo: Megan <megan@contoso.com>\r\n"
            f"Subject: {subject}\r\nDate: Mon, 1 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
            "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe report is attached.\r\n"
            '--b1\r\nContent-Type: application/pdf; name="report.pdf"\r\n'
            'Content-Disposition: attachment; filename="report.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
            f"{pdf}--b1--\r\n").encode()


def batch_body() -> dict[str, Any]:
    mime = base64.b64encode(mime_message("Batched MIME")).decode()
    return {"requests": [
        {"id": "1", "method": "POST", "url": "/me/messages", "headers": {"Content-Type": "application/json"},
         "body": {"subject": "Batched draft", "toRecipients": [{"emailAddress": {"address": "megan@contoso.com"}}]}},
        {"id": "2", "method": "POST", "url": "/me/sendMail", "headers": {"Content-Type": "text/plain"},
         "body": mime}]}


def send_mail_traffic(proxy_url: str, ca: Path, token: str) -> None:
    """A base64 MIME sendMail and a $batch through the proxy, as an HTTP client sends them."""
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(proxy=proxy_url, verify=str(ca), timeout=20) as client:
        sent = client.post(f"{GRAPH}/me/sendMail", content=base64.b64encode(mime_message()),
                           headers={**auth, "Content-Type": "text/plain"})
        assert sent.status_code == 202, sent.text
        batch = client.post(f"{GRAPH}/$batch", content=json.dumps(batch_body()).encode(),
                            headers={**auth, "Content-Type": "application/json"})
        assert batch.status_code == 200, batch.text


class MitmTool:
    """``mitmweb``/``mitmdump -s entry.py`` in a child process; ready when graphtape's start line comes."""

    def __init__(self, tool: str, confdir: Path, sets: dict[str, str], *extra: str) -> None:
        args = [str(Path(sys.executable).parent / tool), "-s", str(ENTRY), "--listen-port", "0",
                *extra, "--set", f"confdir={confdir}"]
        for key, value in sets.items():
            args += ["--set", f"{key}={value}"]
        self.lines: list[str] = []
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.ready = threading.Event()
        self.url = ""
        self.ca = confdir / "mitmproxy-ca-cert.pem"
        threading.Thread(target=self._read, daemon=True).start()
        if not self.ready.wait(30) or not self.url:
            self.stop()
            raise RuntimeError(f"{tool} did not start:\n{self.output}")

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            start = parse_start_line(line)
            if start is not None:
                self.url = start.url
                self.ready.set()
        self.ready.set()

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(2)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def web_password() -> str:
    return secrets.token_hex(12)
