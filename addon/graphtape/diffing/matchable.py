"""What replay's ``match_on`` compares (``replay/criteria.py``), in the diff's own canonical forms: the diff is
the one place that knows how a body or a header is read, so matching asks it rather than reading them again."""

from __future__ import annotations

from graphtape.diffing.core import diff_requests, header_values
from graphtape.diffing.ignore import DEFAULT_IGNORE, IgnoreRules
from graphtape.model import Deviation, Headers, HttpRequest

BODY_ROOTS = frozenset({"body", "mime", "batch"})  # deviation paths within a request's body (a $batch's items too)


def _root(path: str) -> str:
    return path.split(".", 1)[0].split("[", 1)[0]


def body_deviations(recorded: HttpRequest, actual: HttpRequest,
                    rules: IgnoreRules = DEFAULT_IGNORE) -> list[Deviation]:
    """How ``actual``'s body differs from ``recorded``'s as the diff shows it (JSON parsed, base64 MIME decoded, a
    ``$batch`` item by item; a recorded ``<redacted>`` any value), after ``rules``, leaving out the cosmetic ones
    (an enum's case, a redundant ``@odata.type``: ``diffing.cosmetic``): none, the bodies are equal."""
    if recorded.body == actual.body and recorded.body_digest == actual.body_digest:
        return []
    return [d for d in diff_requests(recorded, actual, rules) if _root(d.path) in BODY_ROOTS and not d.cosmetic]


def header_value(headers: Headers, name: str) -> str | None:
    """The header ``name`` (any case) as the diff compares it: repeats joined, ``Accept`` and ``Prefer`` as sets of
    items, ``Content-Type`` with its parameters sorted (no boundary); None when absent."""
    value = header_values(headers, (name,)).get(name)
    return None if value is None else str(value)
