"""The pytest plugin's side of expiry: ``@pytest.mark.graphtape(max_age="90d", on_expiry="fail")`` as the options
of the test's cassette switch (none given: the project's ``[tool.graphtape]`` ones; each switch resets them)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pytest

EXPIRY_ARGS = ("max_age", "on_expiry")


def marker_expiry(item: pytest.Item) -> dict[str, Any]:
    """The switch options for the closest ``graphtape`` marker's ``max_age=``/``on_expiry=``; ValueError for a
    bad value (the test is refused with it before the proxy is touched)."""
    from graphtape.config import load_project_config
    from graphtape.replay.expiry import expiry_from

    marker = item.get_closest_marker("graphtape")
    kwargs = marker.kwargs if marker is not None else {}
    max_age, on_expiry = kwargs.get("max_age") or "", kwargs.get("on_expiry") or ""
    if not isinstance(max_age, str) or not isinstance(on_expiry, str):
        raise ValueError(f"graphtape: max_age= and on_expiry= take strings (max_age='90d', on_expiry='fail'), "
                         f"not {max_age!r}, {on_expiry!r}")
    expiry_from(max_age, on_expiry, load_project_config(item.path.parent).raw, where="max_age=")
    return {"graphtape_max_age": max_age, "graphtape_on_expiry": on_expiry}
