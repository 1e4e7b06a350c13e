"""graphtape/collector.py: the cyclic collector held off around a start, then what the start made frozen; the
collector's own state (on or off) is what it was before."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from graphtape import collector


@pytest.fixture
def fresh_gc() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.unfreeze()
    yield
    gc.unfreeze()
    (gc.enable if enabled else gc.disable)()


@pytest.mark.parametrize("was_on", [True, False])
def test_paused_holds_the_collector_off_and_leaves_it_as_it_was(fresh_gc, was_on):
    (gc.enable if was_on else gc.disable)()
    with collector.paused():
        assert not gc.isenabled()
    assert gc.isenabled() is was_on and gc.get_freeze_count() == 0


def test_starting_freezes_what_was_made_in_it_even_when_the_start_fails(fresh_gc):
    gc.enable()
    made: list[object] = []
    with pytest.raises(RuntimeError), collector.starting():
        assert not gc.isenabled()
        made.extend([] for _ in range(1000))
        raise RuntimeError("the start failed")
    assert gc.isenabled()
    assert gc.get_freeze_count() >= 1000  # what was made, and everything before it
    with collector.starting():  # nested in a paused block: it stays off until the outer block ends
        with collector.starting():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()
