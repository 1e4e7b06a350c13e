"""The proxies under test, each a child process on a free loopback port: mitmdump or graphtape.

Start-up is timed the same way for all: from spawning the process to its start line (printed from mitmproxy's
``running`` hook: graphtape's own, ready_addon.py's for mitmdump), which also gives the port.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from graphtape.proxy.startline import parse_start_line

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


class ProxyUnderTest:
    """``with ProxyUnderTest.mitmdump(confdir, "-s", FILE) as p: p.port, p.startup_s``."""

    def __init__(self, name: str, command: list[str], log: Path, timeout: float = 300.0):
        self.name = name
        self.command = command
        self.port = 0  # from the start line
        self.log = log
        self.timeout = timeout
        self.startup_s = 0.0
        self._t0 = 0.0
        self._started = threading.Event()
        self._reader: threading.Thread | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.pythonpath = ""  # set: the process's PYTHONPATH instead of the bench's

    @classmethod
    def mitmdump(cls, name: str, confdir: Path, *args: str) -> ProxyUnderTest:
        command = [str(BIN / "mitmdump"), "-q", "--listen-host", "127.0.0.1", "--listen-port", "0",
                   "--set", f"confdir={confdir}", "--set", "connection_strategy=lazy",
                   "-s", str(HERE / "ready_addon.py"), *args]
        return cls(name, command, confdir / f"{name}.log")

    @classmethod
    def graphtape(cls, name: str, confdir: Path, *args: str, tree: str = "") -> ProxyUnderTest:
        """``graphtape ARGS``; ``tree``: another graphtape source tree's (its addon/ first on PYTHONPATH)."""
        command = [sys.executable, "-m", "graphtape.cli", *args, "--port", "0", "--confdir", str(confdir)]
        proxy = cls(name, command, confdir / f"{name}.log")
        if tree:
            proxy.pythonpath = os.pathsep.join([str(Path(tree) / "addon"), os.environ.get("PYTHONPATH", "")])
        return proxy

    def start(self) -> ProxyUnderTest:
        return self.launch().wait()

    def launch(self) -> ProxyUnderTest:
        """Spawn the process without waiting (start several at once, then ``wait`` for each)."""
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **({"PYTHONPATH": self.pythonpath} if self.pythonpath else {})}
        self._t0 = time.perf_counter()
        self.proc = subprocess.Popen(self.command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                                     bufsize=0)  # unbuffered: nothing read ahead of the start line is held back
        self._reader = threading.Thread(target=self._read, name=f"bench-{self.name}-output", daemon=True)
        self._reader.start()
        return self

    def _read(self) -> None:
        """The process's output into its log file; the start line sets ``port`` and ``startup_s``."""
        assert self.proc is not None and self.proc.stdout is not None
        out = self.proc.stdout
        with self.log.open("wb") as log:
            for line in iter(out.readline, b""):
                log.write(line)
                start = parse_start_line(line.decode("utf-8", "replace"))
                if start is not None:
                    self.startup_s = time.perf_counter() - self._t0
                    self.port = start.port
                    break
            log.flush()
            self._started.set()  # listening, or the process ended without its start line (port still 0)
            for chunk in iter(lambda: out.read(65536), b""):  # the rest in bulk: the bench's own process reads it
                log.write(chunk)

    def wait(self) -> ProxyUnderTest:
        assert self.proc is not None, "launch() first"
        if not self._started.wait(self.timeout) or not self.port:
            self.stop()
            raise RuntimeError(f"graphtape bench: {self.name} did not start: {' '.join(self.command)}\n"
                               + self.log.read_text(errors="replace")[-2000:])
        return self

    def cpu_seconds(self) -> float:
        """CPU time the proxy process has used so far (user + system, /proc on Linux; 0.0 elsewhere)."""
        try:
            assert self.proc is not None
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, AssertionError, IndexError, ValueError):
            return 0.0

    def stop(self) -> str:
        """Stop (SIGINT, as Ctrl-C) and return what the proxy printed."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._reader is not None:
            self._reader.join(30)
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
