"""The proxy runtime (runtime.py) on its thread, switched from cassette to cassette: the pytest plugin's proxy.

One per test process, started once; benchmarks and other tools can drive it directly::

    proxy = ProxyThread(confdir=Path("/tmp/gt-conf")).start()
    proxy.switch("replay", "cassettes/seeds/send-draft.yaml")  # returns the session that ended (idle here)
    ...                                                        # clients use proxy.env (HTTPS_PROXY, CA bundle)
    session = proxy.idle()                                     # the cassette's session; the proxy now refuses all
    proxy.stop()

Between cassettes the proxy replays an empty cassette: offline, every request answered 404, nothing sent to the
network. Sessions come back as snapshots, copied on the proxy's loop. Before it switches or stops, the proxy
drains: a recording's calls in flight are answered and recorded first (see runtime.py).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from graphtape.cassette.atomicfile import atomic_write
from graphtape.cassette.format import new_meta, render
from graphtape.model import Mode
from graphtape.proxy.clients import client_env, proxy_url
from graphtape.proxy.confdir import ensure_ca
from graphtape.proxy.runtime import TAPE_DEFAULTS, ProxyFailed, ProxyRuntime
from graphtape.session.exchanges import Session


class ProxyThread(ProxyRuntime):
    """``start()``, ``switch(mode, cassette)``, ``idle()``, ``snapshot()``, ``stop()``; ``url``, ``ca``, ``env()``."""

    def __init__(self, confdir: Path, *, upstream: str = "", upstream_ca: str = "", host: str = "127.0.0.1",
                 port: int = 0, timeout: float = 30.0, stop_wait: float | None = None, client_ca: str = "bundle"):
        super().__init__({}, timeout=timeout, stop_wait=stop_wait)
        self.confdir = Path(confdir).expanduser()
        self.client_ca = client_ca  # clients.CLIENT_CA: what the CA variables of env() name
        self.host = host
        self._env: dict[str, str] = {}
        self._workdir = Path(tempfile.mkdtemp(prefix="graphtape-proxy-"))
        self.idle_cassette = self._workdir / "idle.yaml"
        atomic_write(self.idle_cassette, render(new_meta(), []))
        self.options = {"listen_host": host, "listen_port": port, "confdir": str(self.confdir), "mode": ["regular"],
                        "connection_strategy": "lazy", **self._idle, "graphtape_upstream": upstream}
        if upstream_ca:
            self.options["ssl_verify_upstream_trusted_ca"] = upstream_ca

    @property
    def _idle(self) -> dict[str, Any]:
        return {**TAPE_DEFAULTS, "graphtape_mode": Mode.REPLAY.value, "graphtape_cassette": str(self.idle_cassette)}

    def start(self) -> ProxyThread:
        """Start the proxy and wait until it listens; raises ProxyFailed (with mitmproxy's reason) if it cannot.

        The CA is made first if the confdir has none, under its lock: processes sharing a confdir share one CA."""
        try:
            ensure_ca(self.confdir)
        except OSError as e:
            self._cleanup()
            raise ProxyFailed(str(e)) from None
        try:
            super().start()
        except ProxyFailed:
            self._cleanup()
            raise
        self._env = client_env(self.url, str(self.confdir), self.client_ca)
        return self

    def switch(self, mode: Mode | str, cassette: str | os.PathLike[str], *, fallback: Mapping[str, Any] | None = None,
               **options: Any) -> Session:
        """As ProxyRuntime.switch; a cassette left half set up falls back to the idle one (every request refused)."""
        if fallback is None and os.fspath(cassette) != str(self.idle_cassette):
            fallback = self._idle
        return super().switch(mode, cassette, fallback=fallback, **options)

    def idle(self) -> Session:
        """Back to the empty cassette (every request refused, offline); returns the session that ended."""
        return self.switch(Mode.REPLAY, self.idle_cassette)

    def stop(self, *, summary: bool = False) -> Session:
        """Shut the proxy down; returns the session that was running (no summary for it by default)."""
        try:
            return super().stop(summary=summary)
        finally:
            self._cleanup()

    def _cleanup(self) -> None:
        shutil.rmtree(self._workdir, ignore_errors=True)

    @property
    def port(self) -> int:
        return self.address[1] if self.address is not None else 0

    @property
    def url(self) -> str:
        return proxy_url(self.host, self.port)

    @property
    def ca(self) -> Path:
        return self.confdir / "mitmproxy-ca-cert.pem"

    def env(self) -> dict[str, str]:
        """HTTPS_PROXY, SSL_CERT_FILE and friends: what puts Python, curl and Node clients behind this proxy."""
        return dict(self._env)
