"""The plugin's simulate mode: a test answered by a simulated mailbox instead of a cassette.

    @pytest.mark.graphtape(simulate=True)                      # a fresh default mailbox (/me, empty folders)
    @pytest.mark.graphtape(simulate=True, seed="mail.yaml")    # a fixture or cassette beside the test file
    @pytest.mark.graphtape(simulate=True, fresh=False)         # go on with the mailboxes the last such test left
    def test_send(graphtape):
        ...
        assert graphtape.mailbox("me").sent_items[0]["subject"] == "Hi"

``--graphtape-mode=simulate`` simulates every marked test (its cassette is not read). ``clock="2026-01-05T09:00Z"``
fixes the simulated time. Nothing of a simulated test is recorded, and nothing goes to the network.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from graphtape.model import FailOn, Mode, PluginMode
from graphtape.pytest.tape import Tape

if TYPE_CHECKING:
    import pytest

    from graphtape.proxy.inprocess import ProxyThread

SIMULATE_ARGS = ("simulate", "seed", "fresh", "clock")  # the marker's keywords for simulate (plugin.MARKER_ARGS)
NO_SEED = Path("the default mailbox")  # what a failing test's message names when there is no seed file


def _kwargs(item: pytest.Item) -> dict[str, Any]:
    marker = item.get_closest_marker("graphtape")
    return dict(marker.kwargs) if marker is not None else {}


def simulated(item: pytest.Item, mode: PluginMode) -> bool:
    """The test is answered by the simulator: ``--graphtape-mode=simulate``, or its marker says ``simulate=True``."""
    return mode == PluginMode.SIMULATE or bool(_kwargs(item).get("simulate"))


def simulate_options(item: pytest.Item) -> tuple[Path | None, dict[str, Any]]:
    """(the seed file, the ``graphtape_simulate_*`` options) of the test's marker; ValueError for bad values."""
    kwargs = _kwargs(item)
    seed, clock, fresh = kwargs.get("seed"), kwargs.get("clock", ""), kwargs.get("fresh", True)
    if seed is not None and not isinstance(seed, (str, Path)):
        raise ValueError(f"graphtape: seed= takes a file name (relative to the test file), not {seed!r}")
    if not isinstance(clock, str) or not isinstance(fresh, bool):
        raise ValueError(f"graphtape: clock= takes an ISO 8601 time and fresh= True or False; got clock={clock!r}, "
                         f"fresh={fresh!r}")
    path = (item.path.parent / Path(seed).expanduser()) if seed else None
    if path is not None and not path.is_file():
        raise ValueError(f"graphtape: no seed file {path} for {item.nodeid} (seed= is relative to the test file)")
    return path, {"graphtape_simulate_seed": str(path) if path else "", "graphtape_simulate_clock": clock,
                  "graphtape_simulate_id_seed": 0, "graphtape_simulate_fresh": fresh, "graphtape_simulate_dump": ""}


def open_simulated(item: pytest.Item, proxy: ProxyThread, fail_on: frozenset[FailOn],
                   faults: dict[str, Any] | None = None) -> Tape:
    """Switch the proxy to a simulator for this test; a test that cannot run gets a Tape with the refusal."""
    from graphtape.proxy.runtime import ProxyFailed

    try:
        seed, options = simulate_options(item)
    except ValueError as e:
        return Tape(proxy, cassette=NO_SEED, mode=Mode.SIMULATE, fail_on=fail_on, refusal=str(e))
    tape = Tape(proxy, cassette=seed or NO_SEED, mode=Mode.SIMULATE, fail_on=fail_on)
    try:
        proxy.switch(Mode.SIMULATE, "", **options, **(faults or {}))  # faults=: faults/marker.py
        addon = proxy.addon
        assert addon is not None
        tape.simulator = proxy.call(lambda: getattr(addon.handler, "simulator", None))
    except ProxyFailed as e:
        tape.refusal = f"graphtape: cannot simulate for {item.nodeid}: {str(e).removeprefix('graphtape: ')}"
    return tape
