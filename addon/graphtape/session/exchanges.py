"""What happened in one proxy session: each request's outcome, and the summary printed at the end."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from graphtape.model import Deviation, Finding
from graphtape.privacy.redaction import Redactor

# Outcomes of one request
MATCHED = "matched"  # replay: served from the cassette
UNMATCHED = "unmatched"  # replay: nothing recorded looks like it
EXHAUSTED = "exhausted"  # replay: its interactions were all used
REJECTED = "rejected"  # replay: the contract check answered with Graph's error
RECORDED = "recorded"  # record: written to the cassette
NOT_RECORDED = "not-recorded"  # record: refused (a secret in it, or the write failed)
OBSERVED = "observed"  # inspect: shown
FAILED = "failed"  # the upstream did not answer


@dataclass
class Exchange:
    """One request's trip through graphtape."""

    number: int  # 1-based, in arrival order
    method: str
    url: str
    outcome: str = ""
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


@dataclass
class Session:
    mode: str
    cassette: str = ""
    exchanges: list[Exchange] = field(default_factory=list)
    unused: list[int] = field(default_factory=list)  # replay: interactions never served
    problems: list[str] = field(default_factory=list)  # errors that must fail a run
    # URLs reach the summary, the reports and the logs: token-bearing query parameters are redacted on the way in
    redact_url: Callable[[str], str] = field(default=Redactor().url, repr=False, compare=False)

    def start(self, method: str, url: str) -> Exchange:
        ex = Exchange(number=len(self.exchanges) + 1, method=method, url=self.redact_url(url))
        self.exchanges.append(ex)
        return ex

    def count(self, outcome: str) -> int:
        return sum(1 for e in self.exchanges if e.outcome == outcome)

    @property
    def unmatched(self) -> int:
        return self.count(UNMATCHED) + self.count(EXHAUSTED)

    def summary_lines(self) -> list[str]:
        n = len(self.exchanges)
        errors = sum(len(e.errors) for e in self.exchanges)
        warnings = sum(len(e.warnings) for e in self.exchanges)
        deviations = sum(len(e.deviations) for e in self.exchanges)
        where = f" ({self.cassette})" if self.cassette else ""
        lines = [f"graphtape: {self.mode} session{where}: {n} request{'s' * (n != 1)}"]
        if self.mode == "replay":
            lines.append(
                f"  matched {self.count(MATCHED)}, unmatched {self.count(UNMATCHED)}, "
                f"exhausted {self.count(EXHAUSTED)}, rejected by contract {self.count(REJECTED)}, "
                f"unused interactions {len(self.unused)}"
            )
        elif self.mode == "record":
            lines.append(f"  recorded {self.count(RECORDED)}, not recorded {self.count(NOT_RECORDED)}, "
                         f"upstream failures {self.count(FAILED)}")
        lines.append(f"  contract errors {errors}, warnings {warnings}, deviations {deviations}")
        for e in self.exchanges:
            if e.outcome in (UNMATCHED, EXHAUSTED, NOT_RECORDED, REJECTED, FAILED):
                lines.append(f"  #{e.number} {e.method} {e.url}: {e.outcome}" + (f" - {e.note}" if e.note else ""))
        if self.unused:
            shown = ", ".join(str(i + 1) for i in self.unused[:20])
            more = f" and {len(self.unused) - 20} more" if len(self.unused) > 20 else ""
            lines.append(f"  never used: interaction {shown}{more}")
        lines.extend(f"  problem: {p}" for p in self.problems)
        return lines
