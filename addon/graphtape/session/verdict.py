"""What fails a session: the one place that decides it, for the CLI, the addon and the pytest plugin.

Pure: a session (or the part of it not judged yet) and a set of ``FailOn`` items in, the reasons it fails
out (empty: it passes). The session's own ``problems`` (a write that failed, a cassette that could not be
saved) fail it whatever ``fail_on`` says, and so does a replay that no request reached (``bypassed``).
"""

from __future__ import annotations

from collections.abc import Iterable

from graphtape.model import FailOn, Mode, Outcome
from graphtape.replay.expiry import RULE as EXPIRED
from graphtape.session.exchanges import Session, too_soon

DEFAULT_FAIL_ON: frozenset[FailOn] = frozenset({FailOn.UNMATCHED, FailOn.VIOLATION})
STRICT_ADDS: frozenset[FailOn] = frozenset({FailOn.DEVIATION, FailOn.UNUSED})  # what strict adds to fail_on


def fail_on_text(items: Iterable[FailOn]) -> str:
    """``"unmatched,violation"``: the items in declaration order, as options and ``--fail-on`` spell them."""
    wanted = set(items)
    return ",".join(item.value for item in FailOn if item in wanted)


DEFAULT_FAIL_ON_TEXT = fail_on_text(DEFAULT_FAIL_ON)


def parse_fail_on(text: str) -> frozenset[FailOn]:
    """``"unmatched,violation"`` -> a set; raises ValueError naming the bad item and the choices."""
    items = {part.strip() for part in text.split(",") if part.strip()}
    choices = [item.value for item in FailOn]
    bad = sorted(items - set(choices))
    if bad:
        raise ValueError(f"graphtape: --fail-on: unknown {', '.join(bad)} (choose from {', '.join(choices)})")
    return frozenset(FailOn(item) for item in items)


def fail_on_for(strict: bool, fail_on: Iterable[FailOn] | None = None) -> frozenset[FailOn]:
    """What fails a test: ``fail_on`` (default ``DEFAULT_FAIL_ON``), with ``strict`` deviations and unused too."""
    base = frozenset(fail_on) if fail_on is not None else DEFAULT_FAIL_ON
    return base | STRICT_ADDS if strict else base


BYPASSES = ("NO_PROXY or no_proxy naming a Graph host", "trust_env=False (httpx, requests)",
            "a client built before the proxy variables were set (at import time, in a session fixture)",
            "Node's fetch, which ignores HTTPS_PROXY without an undici proxy agent")


def bypassed(session: Session) -> str:
    """Why a replay in which no request reached the proxy fails ("" when some did, or nothing was recorded).

    A cassette with interactions and not one request means the client went around graphtape, to the network:
    an "offline" run that passes this way proves nothing.
    """
    if session.mode != Mode.REPLAY or session.exchanges or not session.unused:
        return ""
    return (f"no request reached graphtape's proxy, though the cassette holds {len(session.unused)} "
            f"interaction(s): the client likely went around it ({'; '.join(BYPASSES)}) and may have reached "
            "the real service")


def failures(session: Session, fail_on: Iterable[FailOn], *, since: tuple[int, int] = (0, 0),
             whole: bool | None = None) -> list[str]:
    """Why ``session`` fails under ``fail_on`` (empty: it passes).

    ``since`` = (exchanges, problems) already judged: only later ones count, and unused interactions (a
    judgement on the whole session) are then not judged again; nor is a replay no request reached (``bypassed``).
    ``whole`` says it outright (a second look at a session whose first look had nothing to judge yet is
    ``since=(0, 0), whole=False``).
    """
    wanted = set(fail_on)
    first, judged = since
    whole = since == (0, 0) if whole is None else whole
    exchanges = session.exchanges[first:]
    out: list[str] = []
    if FailOn.UNMATCHED in wanted:  # named as the summary counts them (Session.summary_lines)
        unmatched = sum(1 for e in exchanges if e.outcome == Outcome.UNMATCHED)
        exhausted = sum(1 for e in exchanges if e.outcome == Outcome.EXHAUSTED)
        if unmatched:
            out.append(f"{unmatched} unmatched request(s)")
        if exhausted:
            out.append(f"{exhausted} exhausted request(s) (each recorded answer was already served)")
    if FailOn.VIOLATION in wanted:
        errors = sum(len(e.errors) for e in exchanges)
        if errors:
            out.append(f"{errors} contract error(s)")
    if FailOn.DEVIATION in wanted:  # cosmetic ones apart: FailOn.COSMETIC
        deviations = sum(len(e.counted) for e in exchanges)
        if deviations:
            out.append(f"{deviations} deviation(s) from the recording")
    if FailOn.COSMETIC in wanted:
        cosmetic = sum(len(e.cosmetic) for e in exchanges)
        if cosmetic:
            out.append(f"{cosmetic} cosmetic deviation(s) from the recording")
    if FailOn.RETRY in wanted:
        early = too_soon(exchanges)
        if early:
            out.append(f"{early} retry(ies) before Retry-After asked (retry.too-soon)")
    if FailOn.EXPIRED in wanted:
        expired = sum(1 for e in exchanges for f in e.findings if f.rule == EXPIRED)
        if expired:
            out.append(f"{expired} expired interaction(s) served (cassette.expired)")
    if FailOn.UNUSED in wanted and whole and session.unused:
        out.append(f"{len(session.unused)} recorded interaction(s) never used")
    out.extend(session.problems[judged:])
    if whole and (reason := bypassed(session)):
        out.append(reason)
    return out
