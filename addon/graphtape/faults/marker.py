"""The pytest plugin's side of faults: ``@pytest.mark.graphtape(faults="faults.yaml")`` (a path beside the test
module, or an inline dict), as the options of the test's cassette switch; and each fault injected, as a property
of the test case (``graphtape.fault``: pytest's JUnit XML writes it under the test case's ``properties``)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from graphtape.faults.config import is_inline

if TYPE_CHECKING:
    import pytest

    from graphtape.session.exchanges import Session


def marker_faults(item: pytest.Item) -> dict[str, Any]:
    """The switch options for the closest ``graphtape`` marker's ``faults=`` (none: no faults; each switch resets)."""
    marker = item.get_closest_marker("graphtape")
    value = marker.kwargs.get("faults") if marker is not None else None
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return {"graphtape_faults": json.dumps(value)}
    if not isinstance(value, (str, os.PathLike)):
        raise ValueError(f"graphtape: faults= takes a faults file (a path beside the test module) or a dict, not "
                         f"{value!r}")
    text = os.fspath(value)
    if is_inline(text):
        return {"graphtape_faults": text}  # inline YAML or JSON
    return {"graphtape_faults": os.fspath(item.path.parent / text)}  # an absolute path stays as it is


def fault_properties(item: pytest.Item, session: Session) -> None:
    """Each fault the test's session injected, as a user property of its test case (JUnit XML)."""
    if session.faults is None:
        return
    for fault in session.faults.injected:
        item.user_properties.append(("graphtape.fault", fault.line(len(session.exchanges))))
    item.user_properties.append(("graphtape.faults_seed", str(session.faults.seed)))
