"""Python's cyclic garbage collector, held off where graphtape builds many long-lived objects at once.

``paused()``: no automatic collection in the block (it was on: on again after). ``starting()``: the same around a
proxy's start, then ``gc.freeze()``: what the start made (mitmproxy's and graphtape's modules and addons, the contract,
a loaded cassette) lives as long as the process, and later collections pass it by instead of walking it again.

Measured (importing mitmproxy's DumpMaster and graphtape's addon, 3 runs): 238 young, 22 middle and 2 full
collections took ~160 ms of the 1.1 s; each full one walks the ~100,000 objects made so far. A pytest session and each
of its xdist workers pays that once, and the proxy's later full collections walked those objects again.
Nothing frozen is lost: objects are still freed by their reference counts; only a cycle made before the freeze that
later becomes garbage stays until the process ends.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextlib.contextmanager
def starting() -> Iterator[None]:
    with paused():
        try:
            yield
        finally:
            gc.freeze()
