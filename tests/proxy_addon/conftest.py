"""Every test here runs in an empty folder (replay reads ``[tool.graphtape]`` from the nearest pyproject.toml)
with graphtape's default body limit."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from graphtape.bodies.limits import MAX_BODY_ENV


@pytest.fixture(autouse=True)
def _hermetic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    monkeypatch.delenv(MAX_BODY_ENV, raising=False)


@pytest.fixture(autouse=True)
def _no_swallowed_addon_errors(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """mitmproxy logs an exception raised in a hook it dispatched (configure, here) as "Addon error" and goes on:
    such an error fails the test instead of hiding."""
    yield
    swallowed = [r for r in caplog.records if r.name == "mitmproxy.addonmanager" and r.levelno >= logging.ERROR]
    assert not swallowed, f"an addon hook raised inside mitmproxy: {swallowed[0].getMessage()}"
