"""Fixtures for tests that drive the real proxy over loopback with real TLS interception."""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import socket
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dev.harness import ProxyProcess

from graphtape.cassette.cache import DIR_ENV as CACHE_DIR_ENV
from graphtape.testing.fakegraph import FakeGraph

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "cassettes" / "seeds"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


# A JWT-shaped test token, built at run time so no token-looking literal is committed.
TOKEN = ".".join([_b64url(b'{"typ":"JWT","alg":"RS256"}'),
                  _b64url(b'{"aud":"https://graph.microsoft.com","sub":"graphtape-test"}'),
                  _b64url(b"signature-signature")])


def pytest_configure(config: pytest.Config) -> None:
    """Hermetic: graphtape's parse cache goes to a folder of this test process (each xdist worker has its own),
    never ~/.cache; set in os.environ before any test runs, so proxies started as child processes inherit it."""
    # dev/ (harness, scenario) for the processes tests start too: pytester's inner runs, proxies, SDK clients
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    folder = tempfile.mkdtemp(prefix="graphtape-cache-")
    saved = os.environ.get(CACHE_DIR_ENV)
    os.environ[CACHE_DIR_ENV] = folder

    def restore() -> None:
        if saved is None:
            os.environ.pop(CACHE_DIR_ENV, None)
        else:
            os.environ[CACHE_DIR_ENV] = saved
        shutil.rmtree(folder, ignore_errors=True)

    config.add_cleanup(restore)


@pytest.fixture(scope="session")
def confdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mitmproxy CA folder per test process (generating a CA takes a moment)."""
    return tmp_path_factory.mktemp("mitmproxy-conf")


@pytest.fixture
def fake_graph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeGraph]:
    with FakeGraph(tmp_path_factory.getbasetemp() / "fakegraph-cert") as graph:
        yield graph


@pytest.fixture
def proxy(confdir: Path):
    """``proxy("replay", "c.yaml", ...)`` starts graphtape; all started ones stop at the end of the test."""
    started: list[ProxyProcess] = []

    def start(*args: str) -> ProxyProcess:
        p = ProxyProcess(list(args), confdir).start()
        started.append(p)
        return p

    yield start
    for p in started:
        p.stop()


@pytest.fixture
def seed(tmp_path: Path):
    """A private copy of a bundled seed cassette: ``seed("send-draft")``."""

    def copy(name: str) -> Path:
        target = tmp_path / f"{name}.yaml"
        shutil.copy(SEEDS / f"{name}.yaml", target)
        return target

    return copy


class Listener:
    """A TCP listener that only counts connections: stands in for an upstream that must never be reached."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop = True
        self.thread.join(2)
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    lst = Listener()
    yield lst
    lst.close()


def sdk_call(proxy: ProxyProcess, coro_factory: Any, *, token: str = TOKEN, base_url: str | None = None) -> Any:
    """Run an msgraph-sdk coroutine with a client that goes through ``proxy`` (HTTPS_PROXY + CA)."""
    from dev.scenario import make_client

    saved = dict(os.environ)
    os.environ.update(proxy.env())
    try:
        client = make_client(token=token, base_url=base_url or "https://graph.microsoft.com/v1.0")
        return asyncio.run(coro_factory(client))
    finally:
        os.environ.clear()
        os.environ.update(saved)
