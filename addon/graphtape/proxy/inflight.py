"""Record-mode calls between their request and their answer, so that stopping waits for them.

Stopping a recorder (Ctrl-C, SIGTERM, the end of ``graphtape run``) goes: stop taking new calls (they are
answered 503 ``graphtape.ShuttingDown``, never sent), wait, up to a bound, for the calls already sent
upstream to be answered and recorded, then close the cassette. A call still unanswered then is *abandoned*:
named as not recorded (the session fails), and if its answer comes later the client gets a graphtape error
instead of it, because the cassette no longer can hold it.

Each call keeps the recorder and the session it started under, so a call that spans a change of cassette
(the pytest plugin switches per test) is recorded where it began, or counted there as not recorded.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the CLI imports this module before it needs the recorder
    from graphtape.cassette.recorder import Recorder
    from graphtape.session.exchanges import Session

STOP_WAIT_ENV = "GRAPHTAPE_STOP_WAIT_SECONDS"
DEFAULT_STOP_WAIT = 10.0


def stop_wait_seconds() -> float:
    """How long stopping waits for calls in flight: ``$GRAPHTAPE_STOP_WAIT_SECONDS``, default 10."""
    text = os.environ.get(STOP_WAIT_ENV, "")
    try:
        value = float(text) if text else DEFAULT_STOP_WAIT
    except ValueError:
        raise ValueError(f"graphtape: {STOP_WAIT_ENV}={text!r} is not a number of seconds") from None
    return max(0.0, value)


@dataclass
class Call:
    method: str
    url: str
    recorder: Recorder
    session: Session


class InFlight:
    def __init__(self) -> None:
        self._calls: dict[str, Call] = {}
        self._abandoned: set[str] = set()
        self.stopping = False
        self._give_up = False
        self._changed: asyncio.Event | None = None  # while wait() runs: set when a call finishes, or on give_up

    def __len__(self) -> int:
        return len(self._calls)

    def start(self, flow_id: str, call: Call) -> None:
        self._calls[flow_id] = call

    def finish(self, flow_id: str) -> Call | None:
        """The call's record (and it is no longer in flight), or None if it was not tracked."""
        call = self._calls.pop(flow_id, None)
        self._wake()
        return call

    def was_abandoned(self, flow_id: str) -> bool:
        if flow_id in self._abandoned:
            self._abandoned.discard(flow_id)
            return True
        return False

    def abandon(self, recorder: Recorder) -> list[Call]:
        """The calls of ``recorder`` still in flight, no longer waited for (it is being closed)."""
        gone = [fid for fid, call in self._calls.items() if call.recorder is recorder]
        self._abandoned.update(gone)
        calls = [self._calls.pop(fid) for fid in gone]
        self._wake()
        return calls

    def resume(self) -> None:
        """Take new calls again (the pytest plugin's proxy waited before switching cassettes, and goes on)."""
        self.stopping = self._give_up = False

    def give_up(self) -> None:
        """Stop waiting now (a second Ctrl-C)."""
        self._give_up = True
        self._wake()

    def _wake(self) -> None:
        if self._changed is not None:
            self._changed.set()

    async def wait(self, timeout: float) -> None:
        """Refuse new calls from now on, and wait until none is in flight, ``timeout`` seconds at most.

        Woken by each call that finishes (and by ``give_up``), on the proxy's loop: nothing polls."""
        self.stopping = True
        self._changed = changed = asyncio.Event()
        try:
            async with asyncio.timeout(timeout):
                while self._calls and not self._give_up:
                    changed.clear()
                    await changed.wait()
        except TimeoutError:
            pass
        finally:
            self._changed = None
