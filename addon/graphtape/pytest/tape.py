"""The ``graphtape`` fixture's handle on the proxy: the test's cassette, the proxy's address, what it saw.

Sessions come from the proxy as snapshots (copied on its loop), so a test reads them while the proxy serves on.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from graphtape.model import FailOn, Mode

if TYPE_CHECKING:
    from graphtape.faults.record import InjectedFault
    from graphtape.model import Deviation, Finding
    from graphtape.proxy.inprocess import ProxyThread
    from graphtape.session.exchanges import Exchange, Session
    from graphtape.simulate import MailboxView, Simulator


class Tape:
    """The ``graphtape`` fixture: this test's cassette, the proxy's address, and what the proxy saw."""

    def __init__(self, proxy: ProxyThread, *, cassette: Path, mode: Mode, fail_on: frozenset[FailOn],
                 refusal: str = ""):
        self.cassette = cassette  # the cassette file (record: where it lands if the test passes)
        self.mode = mode  # "replay" or "record" (once is one of them, per cassette)
        self.fail_on = fail_on
        self.refusal = refusal  # why this test cannot run (no cassette, a bad name); it fails with this
        self.recording: Path | None = None  # record: the file written until the test passes
        self.created_dirs: list[Path] = []
        self.checked = (0, 0)  # (exchanges, problems) judged at the end of the test function
        self.outcomes: dict[str, bool] = {}
        self.final: Session | None = None
        self.simulator: Simulator | None = None  # simulate: the test's mailboxes (pytest/simulate.py)
        self._proxy = proxy

    @property
    def url(self) -> str:
        return self._proxy.url

    @property
    def ca(self) -> Path:
        return self._proxy.ca

    @property
    def env(self) -> dict[str, str]:
        """Variables to hand to a subprocess (already set in this process during the test)."""
        return self._proxy.env()

    @property
    def session(self) -> Session:
        """What the proxy saw so far: a snapshot made on the proxy's loop (or, after the test, its last session)."""
        return self.final if self.final is not None else self._proxy.snapshot()

    @property
    def requests(self) -> list[Exchange]:
        return list(self.session.exchanges)

    @property
    def findings(self) -> list[Finding]:
        return [f for ex in self.requests for f in ex.findings]

    @property
    def faults(self) -> list[InjectedFault]:
        """The faults injected so far (the marker's ``faults=``): ``source``, ``kind``, ``status``, ``exchange``,
        ``retried_after_s``, ``reaction(...)``."""
        log = self.session.faults
        return list(log.injected) if log is not None else []

    @property
    def deviations(self) -> list[Deviation]:
        return [d for ex in self.requests for d in ex.deviations]

    def mailbox(self, who: str = "me") -> MailboxView:
        """Simulate: a snapshot of a mailbox ("me", an id or a userPrincipalName): ``.sent_items``, ``.inbox``,
        ``.drafts``, ``.folder(name)``... (KeyError for one not simulated)."""
        if self.simulator is None:
            raise RuntimeError(f"graphtape: no simulated mailbox in a {self.mode} test; mark it "
                               "@pytest.mark.graphtape(simulate=True) or run with --graphtape-mode=simulate")
        return self.simulator.mailbox(who)

    def dump(self) -> dict[str, Any]:
        """Simulate: the whole state of the simulated mailboxes, as plain data (a seed fixture's shape)."""
        if self.simulator is None:
            raise RuntimeError("graphtape: no simulated mailboxes in this test (it is not simulated)")
        return self.simulator.dump()

    def calls(self, method: str, path: str) -> int:
        """``calls("POST", "/me/sendMail")``: requests so far with that method and (normalised) path."""
        from graphtape.pytest.support import count_calls

        return count_calls(self.requests, method, path)

    def assert_all_played(self) -> None:
        """Fail unless every recorded interaction was served (record mode: nothing to play, passes)."""
        session = self.session
        if self.mode != Mode.REPLAY or not session.unused:
            return
        from graphtape.cassette.format import load_cassette
        from graphtape.session.describe import short_path

        recorded = load_cassette(self.cassette).interactions
        lines = [f"  interaction {i + 1} {recorded[i].request.method} {short_path(recorded[i].request.url)}"
                 for i in session.unused if i < len(recorded)]
        raise AssertionError(f"graphtape: {len(session.unused)} of {len(recorded)} interaction(s) in "
                             f"{self.cassette} never played:\n" + "\n".join(lines))
