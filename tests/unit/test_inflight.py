"""inflight: record-mode calls waited for at stop, bounded; each kept with the recorder it started under."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from graphtape.cassette.recorder import Recorder, RecordMode
from graphtape.model import Mode
from graphtape.privacy.redaction import Redactor
from graphtape.proxy.inflight import DEFAULT_STOP_WAIT, STOP_WAIT_ENV, Call, InFlight, stop_wait_seconds
from graphtape.session.exchanges import Session


@pytest.mark.parametrize(("text", "expected"), [("", DEFAULT_STOP_WAIT), ("2.5", 2.5), ("0", 0.0), ("-3", 0.0)])
def test_stop_wait_seconds(monkeypatch: pytest.MonkeyPatch, text: str, expected: float) -> None:
    monkeypatch.setenv(STOP_WAIT_ENV, text)
    assert stop_wait_seconds() == expected


def test_a_stop_wait_that_is_not_a_number_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(STOP_WAIT_ENV, "ten")
    with pytest.raises(ValueError, match=r"GRAPHTAPE_STOP_WAIT_SECONDS='ten' is not a number"):
        stop_wait_seconds()


def _recorders(tmp_path: Path) -> tuple[Recorder, Recorder]:
    return (Recorder(tmp_path / "a.yaml", RecordMode.NEW, Redactor()),
            Recorder(tmp_path / "b.yaml", RecordMode.NEW, Redactor()))


def test_abandon_takes_only_the_closing_recorders_calls(tmp_path: Path) -> None:
    a, b = _recorders(tmp_path)
    flights, session = InFlight(), Session(mode=Mode.RECORD)
    flights.start("1", Call("POST", "u1", a, session))
    flights.start("2", Call("POST", "u2", b, session))
    assert [c.url for c in flights.abandon(a)] == ["u1"]
    assert len(flights) == 1
    assert flights.was_abandoned("1") and not flights.was_abandoned("1")  # told once
    assert not flights.was_abandoned("2")
    call = flights.finish("2")
    assert call is not None and call.recorder is b and flights.finish("2") is None


def test_wait_returns_when_the_last_call_finishes(tmp_path: Path) -> None:
    a, _ = _recorders(tmp_path)
    flights = InFlight()
    flights.start("1", Call("POST", "u1", a, Session(mode=Mode.RECORD)))

    async def main() -> float:
        asyncio.get_running_loop().call_later(0.2, flights.finish, "1")
        start = time.monotonic()
        await flights.wait(10)
        return time.monotonic() - start

    took = asyncio.run(main())
    assert flights.stopping and 0.15 < took < 5


def test_wait_is_bounded_and_a_give_up_ends_it(tmp_path: Path) -> None:
    a, _ = _recorders(tmp_path)
    flights = InFlight()
    flights.start("1", Call("POST", "u1", a, Session(mode=Mode.RECORD)))
    start = time.monotonic()
    asyncio.run(flights.wait(0.2))
    assert 0.15 < time.monotonic() - start < 5 and len(flights) == 1

    async def give_up_soon() -> None:
        asyncio.get_running_loop().call_later(0.1, flights.give_up)
        await flights.wait(30)

    start = time.monotonic()
    asyncio.run(give_up_soon())
    assert time.monotonic() - start < 5
