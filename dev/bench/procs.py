"""The proxies under test, each a child process on a free loopback port: mitmdump or graphtape.

Start-up is timed the same way for all: from spawning the process to the port accepting a TCP connection.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


class ProxyUnderTest:
    """``with ProxyUnderTest.mitmdump(confdir, "-s", FILE) as p: p.port, p.startup_s``."""

    def __init__(self, name: str, command: list[str], port: int, log: Path, timeout: float = 300.0):
        self.name = name
        self.command = command
        self.port = port
        self.log = log
        self.timeout = timeout
        self.startup_s = 0.0
        self._t0 = 0.0
        self.proc: subprocess.Popen[bytes] | None = None

    @classmethod
    def mitmdump(cls, name: str, confdir: Path, *args: str) -> ProxyUnderTest:
        port = free_port()
        command = [str(BIN / "mitmdump"), "-q", "--listen-host", "127.0.0.1", "--listen-port", str(port),
                   "--set", f"confdir={confdir}", "--set", "connection_strategy=lazy", *args]
        return cls(name, command, port, confdir / f"{name}.log")

    @classmethod
    def graphtape(cls, name: str, confdir: Path, *args: str) -> ProxyUnderTest:
        port = free_port()
        command = [sys.executable, "-m", "graphtape.cli", *args, "--port", str(port), "--confdir", str(confdir)]
        return cls(name, command, port, confdir / f"{name}.log")

    def start(self) -> ProxyUnderTest:
        return self.launch().wait()

    def launch(self) -> ProxyUnderTest:
        """Spawn the process without waiting (start several at once, then ``wait`` for each)."""
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self._t0 = time.perf_counter()
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT, env=env)
        return self

    def wait(self) -> ProxyUnderTest:
        assert self.proc is not None, "launch() first"
        t0 = self._t0
        while not _listening(self.port):
            if self.proc.poll() is not None or time.perf_counter() - t0 > self.timeout:
                self.stop()
                raise RuntimeError(f"graphtape bench: {self.name} did not start: {' '.join(self.command)}\n"
                                   + self.log.read_text(errors="replace")[-2000:])
            time.sleep(0.005)
        self.startup_s = time.perf_counter() - t0
        return self

    def stop(self) -> str:
        """Stop (SIGINT, as Ctrl-C) and return what the proxy printed."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def __enter__(self) -> ProxyUnderTest:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def ensure_ca(confdir: Path) -> Path:
    """mitmproxy's CA in ``confdir`` (created on first use), for the clients to trust."""
    from mitmproxy.certs import CertStore

    CertStore.from_store(confdir, "mitmproxy", 2048)
    return confdir / "mitmproxy-ca-cert.pem"
