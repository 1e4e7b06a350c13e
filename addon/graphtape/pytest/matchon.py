"""The pytest plugin's side of ``match_on``: ``@pytest.mark.graphtape(match_on=["method", "url", "body"])`` as the
``graphtape_match_on`` option of the test's cassette switch (none given: the cassette's ``meta.match_on``, else the
project's ``[tool.graphtape]`` one; each switch resets it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pytest

MATCH_ON_ARGS = ("match_on",)


def marker_match_on(item: pytest.Item) -> dict[str, Any]:
    """The switch option for the closest ``graphtape`` marker's ``match_on=``; ValueError naming the bad item (the
    test is refused with it before the proxy is touched)."""
    from graphtape.cassette.matchon import parse_match_on

    marker = item.get_closest_marker("graphtape")
    value = marker.kwargs.get("match_on") if marker is not None else None
    if value is None:
        return {}
    chosen = parse_match_on(value, "match_on=")
    return {"graphtape_match_on": chosen.text().replace(", ", ",")}
