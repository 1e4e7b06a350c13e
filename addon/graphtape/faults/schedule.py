"""Which fault, if any, a request gets: the scripts in the file's order, then the random rates.

Every script counts each call it matches (``Calls`` says which counts fire); the first script that fires
answers. The random faults and the latency distributions draw from the seed, the request (its key) and how many
times that request came before, never from arrival order across requests: concurrent clients get the same faults
from the same seed whatever order their calls interleave in. One ``Schedule`` per session (its counts start anew).
"""

from __future__ import annotations

import random
import secrets
from collections import Counter
from dataclasses import dataclass, field

from graphtape.faults.config import Action, FaultsConfig, Latency, Script
from graphtape.faults.match import request_path


def new_seed() -> int:
    """A seed for a run whose file and options named none (printed in the summary, to draw the same again)."""
    return secrets.randbelow(2**31)


@dataclass(frozen=True)
class Chosen:
    source: str  # the script's name, or "random"
    action: Action
    delay_s: float = 0.0  # the latency drawn (0: none)


def draw(seed: int, *parts: object) -> random.Random:
    """A generator determined by the seed and ``parts`` alone (str seeds are hashed with SHA-512: stable)."""
    return random.Random("/".join(str(p) for p in (seed, *parts)))


def sample(latency: Latency, rng: random.Random) -> float:
    if latency.dist == "uniform":
        return rng.uniform(latency.a, latency.b)
    if latency.dist == "normal":
        return max(0.0, rng.gauss(latency.a, latency.b))
    if latency.dist == "exponential":
        return rng.expovariate(1 / latency.a) if latency.a > 0 else 0.0
    return latency.fixed


@dataclass
class Schedule:
    config: FaultsConfig
    seed: int
    _counts: Counter[tuple[int, str]] = field(default_factory=Counter)  # (script, request key or "") -> calls
    _fired: Counter[tuple[int, str]] = field(default_factory=Counter)
    _seen: Counter[str] = field(default_factory=Counter)  # request key -> calls before, for the draws

    def choose(self, method: str, url: str, key: str) -> Chosen | None:
        """The fault for this call, if one fires; counts the call either way."""
        path, mailbox = request_path(url)
        occurrence = self._seen[key]
        self._seen[key] += 1
        chosen: Chosen | None = None
        for index, script in enumerate(self.config.scripts):
            if not script.match.covers(method, path, mailbox):
                continue
            slot = (index, key if script.calls.per_request else "")
            self._counts[slot] += 1
            if chosen is None and script.calls.fires(self._counts[slot], self._fired[slot]):
                self._fired[slot] += 1
                chosen = self._scripted(script, key, occurrence)
        if chosen is None:
            chosen = self._random(method, path, mailbox, key, occurrence)
        return chosen

    def _scripted(self, script: Script, key: str, occurrence: int) -> Chosen:
        latency = script.action.latency
        delay = sample(latency, draw(self.seed, script.name, key, occurrence)) if latency is not None else 0.0
        return Chosen(script.name, script.action, delay)

    def _random(self, method: str, path: str, mailbox: str | None, key: str, occurrence: int) -> Chosen | None:
        rand = self.config.random
        if rand is None or not rand.match.covers(method, path, mailbox):
            return None
        u = draw(self.seed, "random", key, occurrence).random()
        edge = 0.0
        for name, rate in rand.rates:
            edge += rate
            if u < edge:
                if name == "reset":
                    return Chosen("random", Action("reset"))
                status = int(name)
                retry_after = rand.retry_after if status in (429, 503) else None
                return Chosen("random", Action("status", status=status, retry_after=retry_after))
        return None
