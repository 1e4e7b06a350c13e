"""Microsoft Graph calls made while no cassette was in use: where they came from, and what they are told.

Pure, and cheap to import (``short_path`` is imported when first needed). The plugin's session
(``pytest/session_proxy.py``) says where the run is; the proxy's guard (``pytest/guard.py``) notes each call with
it and answers with ``no_cassette_message``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

NO_CASSETTE_STATUS = 403
NO_CASSETTE_CODE = "graphtape.NoCassette"
BEFORE_TESTS = "during collection, before any test: at the import of a test module or conftest.py"
AFTER_TESTS = "after the last test"


@dataclass(frozen=True)
class Where:
    """Where the run was when a call came: a text for people, and the test it fails (None: the session)."""

    text: str
    nodeid: str | None = None


def unmarked(nodeid: str) -> Where:
    return Where(f"test {nodeid} is not marked graphtape", nodeid)


def outside_cassette(nodeid: str) -> Where:
    return Where(f"test {nodeid} had no cassette in use yet, or no longer: a fixture of wider scope, set up "
                 "before the test's cassette or torn down after it", nodeid)


def between(nodeid: str) -> Where:
    return Where(f"between tests, after {nodeid}")


@dataclass(frozen=True)
class StrayCall:
    method: str
    url: str  # token-bearing parameters redacted
    where: Where

    def line(self) -> str:
        from graphtape.session.describe import short_path

        return f"{self.method} {short_path(self.url)} ({self.where.text})"


def no_cassette_message(call: StrayCall) -> str:
    """The ``error.message`` of the 403 a call outside any cassette gets."""
    from graphtape.session.describe import short_path

    return (f"graphtape: {call.method} {short_path(call.url)} came while no cassette was in use ({call.where.text}); "
            "graphtape answers Microsoft Graph only from a cassette and sends nothing to the network. "
            "Mark the test @pytest.mark.graphtape, or make the call inside a marked test.")


def stray_report(calls: Sequence[StrayCall]) -> str:
    """What a test (or the session) that made such calls fails with."""
    head = (f"graphtape: {len(calls)} Microsoft Graph call(s) came while no cassette was in use; each was answered "
            f"{NO_CASSETTE_STATUS} {NO_CASSETTE_CODE} and sent nowhere:")
    return "\n".join([head, *(f"  {call.line()}" for call in calls)])
