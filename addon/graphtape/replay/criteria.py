"""``match_on``'s criteria beyond the request line (``body``, ``headers:NAME``), checked against one cassette's
recordings. Pure; the bodies and headers are compared in the diff's canonical forms (``diffing.matchable``).

A body equal byte for byte, or with the same fingerprint (``matching.body_fingerprint``: JSON parsed, MIME
decoded, a ``$batch`` without its ids), is equal without a diff; otherwise the diff decides, after the ignore
rules (the volatile defaults, the project's, the command line's and the cassette's), so a MIME ``Date`` or a field
the user ignores does not make two bodies differ. Header values are the diff's (``Prefer`` and ``Accept`` as sets
of items, ``Content-Type``'s parameters sorted); a recorded ``<redacted>`` stands for any value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from graphtape.cassette.matchon import MatchOn
from graphtape.diffing.ignore import DEFAULT_IGNORE, IgnoreRules
from graphtape.diffing.matchable import body_deviations, header_value
from graphtape.model import HttpRequest
from graphtape.privacy.output import redacted_matches, scrub_deviations, scrub_value

SHOWN = 3  # body deviations named when a body differs


def _shown(value: str | None) -> str:
    return "absent" if value is None else repr(scrub_value(value))


class Criteria:
    """Which recordings a request may be served by under ``match_on`` (its body and header criteria)."""

    def __init__(self, match_on: MatchOn, requests: Sequence[HttpRequest], fingerprints: Sequence[str],
                 rules: IgnoreRules = DEFAULT_IGNORE) -> None:
        self.match_on = match_on
        self.requests = requests
        self.fingerprints = fingerprints  # body_fingerprint of each recording, in order
        self.rules = rules
        self._headers = [self._header_values(r) for r in requests] if match_on.headers else []

    def _header_values(self, req: HttpRequest) -> tuple[str | None, ...]:
        return tuple(header_value(req.headers, name) for name in self.match_on.headers)

    def _headers_equal(self, recorded: tuple[str | None, ...], live: tuple[str | None, ...]) -> bool:
        return all(r == v or redacted_matches(r, v) for r, v in zip(recorded, live, strict=True))

    def checker(self, req: HttpRequest, fingerprint: str) -> Callable[[int], bool]:
        """``ok(index)``: whether the recording at ``index`` meets every criterion for ``req`` (whose body
        fingerprint is ``fingerprint``); each answer is worked out once."""
        live = self._header_values(req) if self.match_on.headers else ()
        known: dict[int, bool] = {}

        def ok(index: int) -> bool:
            found = known.get(index)
            if found is None:
                found = known[index] = (
                    (not live or self._headers_equal(self._headers[index], live))
                    and (not self.match_on.body or self.fingerprints[index] == fingerprint
                         or not body_deviations(self.requests[index], req, self.rules)))
            return found

        return ok

    def failures(self, index: int, req: HttpRequest) -> list[str]:
        """What keeps the recording at ``index`` from serving ``req``, one line per failed criterion:
        ``header Prefer differs: 'a' -> absent``, ``body differs: body.subject: 'a' -> 'b'``."""
        out = []
        if self.match_on.headers:
            for name, recorded, live in zip(self.match_on.headers, self._headers[index], self._header_values(req),
                                            strict=True):
                if not (recorded == live or redacted_matches(recorded, live)):
                    out.append(f"header {name} differs: {_shown(recorded)} -> {_shown(live)}")
        if self.match_on.body:
            found = scrub_deviations(body_deviations(self.requests[index], req, self.rules))
            if found:
                more = f" (and {len(found) - SHOWN} more)" if len(found) > SHOWN else ""
                out.append("body differs: " + "; ".join(d.line() for d in found[:SHOWN]) + more)
        return out
