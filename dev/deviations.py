"""Deviations as text for tests: one line each, long values shortened (graphtape itself prints ``line()``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from graphtape.model import Deviation

MAX_SHOWN = 120  # characters of a value shown


class _Shown:
    """A value whose repr is a given text (a shortened repr)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def shorten(value: Any, limit: int = MAX_SHOWN) -> Any:
    """``value`` itself if its repr fits in ``limit`` characters, else a stand-in showing both ends."""
    try:
        text = repr(value)
    except RecursionError:  # absurdly deep JSON
        return _Shown(f"<{type(value).__name__} too deep to show>")
    if len(text) <= limit:
        return value
    return _Shown(f"{text[: limit - 40]}…{text[-20:]} ({len(text)} chars)")


def format_deviations(deviations: Sequence[Deviation]) -> str:
    """One line per deviation (``Deviation.line()``), long values shortened."""
    return "\n".join(dataclasses.replace(d, recorded=shorten(d.recorded), actual=shorten(d.actual)).line()
                     for d in deviations)
