"""The pytest plugin's side of ``match_on``: ``@pytest.mark.graphtape(match_on=["method", "url", "body"])`` as the
``graphtape_match_on`` option of the test's cassette switch (none given: the cassette's ``meta.match_on``, else the
project's ``[tool.graphtape]`` one; each switch resets it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pytest

MATCH_ON_ARGS = ("match_on",)


def marker_match_on(item: pytest.Item) -> dict[str, Any]:
    """The switch option for the closest ``graphtape`` marker's ``match_on=``; ValueError naming the bad item, in it
    or in the project's ``[tool.graphtape] match_on`` (the test is refused with it before the proxy is touched)."""
    from graphtape.cassette.matchon import resolve_match_on
    from graphtape.config import load_project_config

    marker = item.get_closest_marker("graphtape")
    value = marker.kwargs.get("match_on") if marker is not None else None
    chosen = resolve_match_on(value, None, load_project_config(item.path.parent).raw, option_where="match_on=",
                              cassette_where="")
    return {} if value is None else {"graphtape_match_on": chosen.text().replace(", ", ",")}
