"""Sliding windows (so many requests, or bytes, in the last N seconds) and a pool of concurrency slots: pure, given
the time by their caller."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class SlidingWindow:
    """What was admitted in the last ``length`` seconds: each admission's time and amount (1 a request, or bytes)."""

    length: float
    entries: deque[tuple[float, int]] = field(default_factory=deque)
    total: int = 0

    def _expire(self, now: float) -> None:
        while self.entries and self.entries[0][0] <= now - self.length:
            self.total -= self.entries.popleft()[1]

    def used(self, now: float) -> int:
        self._expire(now)
        return self.total

    def fits(self, amount: int, limit: int, now: float) -> bool:
        return self.used(now) + amount <= limit

    def add(self, amount: int, now: float) -> None:
        self._expire(now)
        self.entries.append((now, amount))
        self.total += amount

    def wait(self, amount: int, limit: int, now: float) -> float:
        """Seconds from ``now`` until ``amount`` more fits (0 if it fits now); the window's length if it never can
        (more than ``limit`` at once: it would not fit in an empty window either)."""
        self._expire(now)
        if amount > limit:
            return self.length
        over = self.total + amount - limit
        for at, size in self.entries:
            if over <= 0:
                break
            over -= size
            if over <= 0:
                return max(0.0, at + self.length - now)
        return 0.0


@dataclass
class Slots:
    """Concurrency slots in use, by scope key."""

    used: dict[str, int] = field(default_factory=dict)

    def free(self, key: str, limit: int) -> int:
        return max(0, limit - self.used.get(key, 0))

    def take(self, key: str, count: int) -> None:
        if count > 0:
            self.used[key] = self.used.get(key, 0) + count

    def give(self, key: str, count: int) -> None:
        left = self.used.get(key, 0) - count
        if left > 0:
            self.used[key] = left
        else:
            self.used.pop(key, None)
