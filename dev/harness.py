"""Run ``graphtape`` as a child process and wait for its start line: for tests, builders and benchmarks.

A real separate process, on the readiness contract of every graphtape proxy (graphtape/proxy/startline.py): it
is ready when its start line, printed from mitmproxy's ``running`` hook, comes on stderr; nothing polls the port.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from graphtape.proxy.startline import parse_start_line


class ProxyProcess:
    """``with ProxyProcess(["replay", "c.yaml"], confdir) as p: p.url, p.ca, p.env()``."""

    def __init__(self, args: Sequence[str], confdir: Path, *, timeout: float = 30.0,
                 extra_env: dict[str, str] | None = None):
        self.args = [*args, "--port", "0", "--confdir", str(confdir)]
        self.confdir = confdir
        self.timeout = timeout
        self.extra_env = extra_env or {}
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self.port = 0
        self.ca = Path()
        self.lines: list[str] = []
        self.err_lines: list[str] = []  # read as they come, so a test can wait for one
        self.returncode: int | None = None

    def start(self) -> ProxyProcess:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.extra_env}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "graphtape.cli", *self.args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        found = threading.Event()

        def started(line: str) -> None:
            start = parse_start_line(line)
            if start is not None and not found.is_set():
                self.url, self.port, self.ca = start.url, start.port, start.ca
                found.set()

        def read_stdout() -> None:
            assert self.proc is not None and self.proc.stdout is not None
            for line in self.proc.stdout:
                self.lines.append(line.rstrip("\n"))

        def read_stderr() -> None:  # the start line is on stderr, with all of graphtape's own lines
            assert self.proc is not None and self.proc.stderr is not None
            for line in self.proc.stderr:
                self.err_lines.append(line)
                started(line)
            found.set()

        self._threads = [threading.Thread(target=read_stdout, daemon=True),
                         threading.Thread(target=read_stderr, daemon=True)]
        for t in self._threads:
            t.start()
        if not found.wait(self.timeout) or not self.url:
            self.stop()
            raise RuntimeError(f"graphtape did not start: {' '.join(self.args)}\n{self.output}")
        return self

    @property
    def stderr(self) -> str:
        return "".join(self.err_lines)

    @property
    def output(self) -> str:
        return "\n".join(self.lines) + "\n" + self.stderr

    def env(self) -> dict[str, str]:
        from graphtape.proxy.clients import client_env

        return client_env(self.url, str(self.confdir))

    @contextmanager
    def behind(self) -> Iterator[None]:
        """This process's environment behind the proxy (HTTPS_PROXY and the CA variables, as `graphtape run`
        sets them) for the ``with`` block, then as it was."""
        saved = dict(os.environ)
        os.environ.update(self.env())
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def stop(self, sig: int = signal.SIGINT) -> int:
        if self.proc is None:
            return -1
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(self.timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for t in self._threads:
            t.join(5)
        self.returncode = self.proc.returncode
        return self.returncode

    def __enter__(self) -> ProxyProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
