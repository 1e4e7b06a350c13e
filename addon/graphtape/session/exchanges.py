"""What happened in one proxy session: each request's outcome, and the summary printed at the end."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from graphtape.faults.record import FaultLog
from graphtape.model import Deviation, Finding, Mode, Outcome
from graphtape.privacy.redaction import Redactor
from graphtape.replay.expiry import RULE as EXPIRED
from graphtape.session.episodes import episodes_lines
from graphtape.session.retries import RetryWatch

# Outcomes the summary lists request by request
_LISTED = (Outcome.UNMATCHED, Outcome.EXHAUSTED, Outcome.NOT_RECORDED, Outcome.REJECTED, Outcome.FAILED)


@dataclass
class Exchange:
    """One request's trip through graphtape."""

    number: int  # 1-based, in arrival order
    method: str
    url: str
    outcome: Outcome = Outcome.PENDING
    status: int | None = None
    interaction: int | None = None  # 0-based index in the cassette
    findings: list[Finding] = field(default_factory=list)
    deviations: list[Deviation] = field(default_factory=list)
    note: str = ""

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def counted(self) -> list[Deviation]:
        """The deviations that count (``--fail-on deviation``): all but the cosmetic ones."""
        return [d for d in self.deviations if not d.cosmetic]

    @property
    def cosmetic(self) -> list[Deviation]:
        """The cosmetic deviations (diffing/cosmetic.py): shown, counted apart, failing only ``--fail-on cosmetic``."""
        return [d for d in self.deviations if d.cosmetic]


@dataclass
class Session:
    mode: Mode
    cassette: str = ""
    exchanges: list[Exchange] = field(default_factory=list)
    unused: list[int] = field(default_factory=list)  # replay: interactions never served
    problems: list[str] = field(default_factory=list)  # errors that must fail a run
    # URLs reach the summary, the reports and the logs: token-bearing query parameters are redacted on the way in
    redact_url: Callable[[str], str] = field(default=Redactor().url, repr=False, compare=False)
    retries: RetryWatch = field(default_factory=RetryWatch, repr=False, compare=False)  # 429s awaiting a retry
    upstream_refused: int = 0  # replay: upstream connections the server_connect guard refused (offline: 0)
    faults: FaultLog | None = field(default=None, repr=False, compare=False)  # graphtape_faults: what it injected

    def __post_init__(self) -> None:
        self.mode = Mode(self.mode)  # a plain string from an option or a test: refused here unless it is a mode

    def start(self, method: str, url: str) -> Exchange:
        ex = Exchange(number=len(self.exchanges) + 1, method=method, url=self.redact_url(url))
        self.exchanges.append(ex)
        return ex

    def count(self, outcome: Outcome) -> int:
        return sum(1 for e in self.exchanges if e.outcome == outcome)

    @property
    def unmatched(self) -> int:
        return self.count(Outcome.UNMATCHED) + self.count(Outcome.EXHAUSTED)

    def summary_lines(self) -> list[str]:
        n = len(self.exchanges)
        errors = sum(len(e.errors) for e in self.exchanges)
        warnings = sum(len(e.warnings) for e in self.exchanges)
        deviations = sum(len(e.counted) for e in self.exchanges)
        cosmetic = sum(len(e.cosmetic) for e in self.exchanges)
        where = f" ({self.cassette})" if self.cassette else ""
        lines = [f"graphtape: {self.mode} session{where}: {n} request{'s' * (n != 1)}"]
        if self.mode == Mode.REPLAY:
            lines.append(
                f"  matched {self.count(Outcome.MATCHED)}, unmatched {self.count(Outcome.UNMATCHED)}, "
                f"exhausted {self.count(Outcome.EXHAUSTED)}, rejected by contract {self.count(Outcome.REJECTED)}, "
                f"unused interactions {len(self.unused)}"
            )
            signed_in = self.count(Outcome.SIGNED_IN)
            if signed_in:
                lines.append(f"  sign-in calls answered offline {signed_in} (graphtape's fake tokens, not recorded)")
            if self.upstream_refused:
                lines.append(f"  upstream connections refused {self.upstream_refused} (replay stays offline)")
        elif self.mode == Mode.SIMULATE:
            lines.append(f"  simulated {self.count(Outcome.SIMULATED)}, not simulated or outside Graph "
                         f"{self.count(Outcome.UNMATCHED)}, rejected by contract {self.count(Outcome.REJECTED)}, "
                         f"sign-in calls answered offline {self.count(Outcome.SIGNED_IN)}")
        elif self.mode == Mode.NEW_EPISODES:
            lines += episodes_lines(self)
        elif self.mode == Mode.RECORD:
            lines.append(f"  recorded {self.count(Outcome.RECORDED)}, not recorded {self.count(Outcome.NOT_RECORDED)}, "
                         f"upstream failures {self.count(Outcome.FAILED)}")
        if self.mode not in (Mode.REPLAY, Mode.SIMULATE) and (self.count(Outcome.UNMATCHED)
                                                              or self.count(Outcome.EXHAUSTED)):
            lines.append(f"  unmatched {self.count(Outcome.UNMATCHED)}, exhausted {self.count(Outcome.EXHAUSTED)}")
        early = too_soon(self.exchanges)  # a warning that --fail-on retry fails on: counted where it can be seen
        lines.append(f"  contract errors {errors}, warnings {warnings}, deviations {deviations}"
                     + (f", cosmetic {cosmetic}" if cosmetic else "")
                     + (f", retries too soon {early} (of the warnings)" if early else ""))
        for e in self.exchanges:
            if e.outcome in _LISTED:
                lines.append(f"  #{e.number} {e.method} {e.url}: {e.outcome}" + (f" - {e.note}" if e.note else ""))
        lines.extend(f"  #{e.number} {e.method} {e.url}: {f.message}" for e in self.exchanges for f in e.warnings
                     if f.rule == EXPIRED)
        if self.unused:
            shown = ", ".join(str(i + 1) for i in self.unused[:20])
            more = f" and {len(self.unused) - 20} more" if len(self.unused) > 20 else ""
            lines.append(f"  never used: interaction {shown}{more}")
        if self.faults is not None:
            lines.extend(self.faults.summary_lines(n))
        lines.extend(f"  problem: {p}" for p in self.problems)
        return lines


def too_soon(exchanges: Iterable[Exchange]) -> int:
    """Retries that came before Retry-After asked (``retry.too-soon`` warnings): the summary and the verdict's count."""
    return sum(1 for e in exchanges for f in e.findings if f.rule == "retry.too-soon")
