"""What the session keeps of the faults it injected, and how the client took each one.

A fault's reaction is learnt as the session goes: the same request (``HttpRequest.key``) coming again is a retry
(``session.retries``, the Retry-After watch, calls ``InjectedFault.retried``); at the end a fault nobody retried
was ``ignored`` (the client went on with other calls) or the client ``gave up`` (no call came after it). Pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphtape.session.retries import too_soon


@dataclass
class InjectedFault:
    number: int  # 1-based, in the order injected
    source: str  # "script 1" (or the rule's name), "random", "limits"
    kind: str  # status, reset, empty, truncated, latency
    method: str
    url: str
    description: str  # "429 Retry-After 1", "connection reset", "latency 0.2 s"
    status: int | None = None
    retry_after: float | None = None
    delay_s: float = 0.0
    exchange: int | None = None  # the session entry of the request it hit, once known
    retried_after_s: float | None = None
    retried_too_soon: bool = False

    def retried(self, waited_s: float) -> None:
        """The same request came again ``waited_s`` after the fault's answer."""
        self.retried_after_s = waited_s
        if self.retry_after is not None and self.status is not None:
            self.retried_too_soon = too_soon(waited_s, self.retry_after, self.status) is not None

    def reaction(self, last_exchange: int) -> str:
        """How the client took it; ``last_exchange``: the number of the session's last entry."""
        if self.retried_after_s is not None:
            early = " (before Retry-After: too soon)" if self.retried_too_soon else ""
            return f"retried after {self.retried_after_s:.2f} s{early}"
        if self.kind == "latency":
            return "waited for the late answer"
        if self.exchange is not None and last_exchange > self.exchange:
            return "ignored: carried on with other calls, no retry"
        return "gave up: no retry, no further call"

    def line(self, last_exchange: int) -> str:
        at = f"#{self.exchange} " if self.exchange is not None else ""
        return (f"fault {self.number} ({self.source}): {at}{self.method} {self.url}: {self.description}; "
                f"{self.reaction(last_exchange)}")


@dataclass
class FaultLog:
    """The faults of one session: where they came from, the seed they were drawn with, and each one injected."""

    where: str
    seed: int
    injected: list[InjectedFault] = field(default_factory=list)

    def add(self, **fields: Any) -> InjectedFault:
        fault = InjectedFault(number=len(self.injected) + 1, **fields)
        self.injected.append(fault)
        return fault

    def of_exchange(self, number: int) -> list[InjectedFault]:
        return [f for f in self.injected if f.exchange == number]

    def summary_lines(self, last_exchange: int) -> list[str]:
        lines = [f"  faults ({self.where}): seed {self.seed} (--faults-seed {self.seed} draws the same), "
                 f"injected {len(self.injected)}"]
        lines.extend(f"  {f.line(last_exchange)}" for f in self.injected[:50])
        if len(self.injected) > 50:
            lines.append(f"  ... and {len(self.injected) - 50} more (the JSON report lists them all)")
        return lines

    def report(self, last_exchange: int) -> dict[str, Any]:
        """The JSON report's ``faults`` section."""
        return {
            "where": self.where,
            "seed": self.seed,
            "injected": [
                {"number": f.number, "source": f.source, "kind": f.kind, "method": f.method, "url": f.url,
                 "exchange": f.exchange, "description": f.description, "status": f.status,
                 "retry_after": f.retry_after, "delay_s": round(f.delay_s, 4),
                 "retried_after_s": None if f.retried_after_s is None else round(f.retried_after_s, 4),
                 "retried_too_soon": f.retried_too_soon, "reaction": f.reaction(last_exchange)}
                for f in self.injected
            ],
        }
