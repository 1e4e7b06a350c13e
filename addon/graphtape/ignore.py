"""Which deviations nobody wants to see: the volatile fields, and rules users add by path.

A deviation path reads like ``body.Message.toRecipients[1].emailAddress.address``,
``mime.header.Subject``, ``query.$select`` or ``response.header.Content-Type`` (see ``diffing``).
An ignore pattern is a glob over those paths:

- ``*`` matches within one segment: ``body.*.internetMessageHeaders``, ``header.*``,
  ``body.Message.toRecipients[*].emailAddress.name``, ``mime.attachment[*].sha256``;
- ``**`` matches any number of segments, none included: ``response.body.**.changeKey`` matches
  ``response.body.changeKey`` and ``response.body.value[3].changeKey``;
- everything else is literal (``[``, ``]``, ``$``, ``@``, quotes); keys that are not plain words are
  written quoted in paths, so patterns quote them too: ``response.body.**["@odata.etag"]``;
- a pattern also ignores everything below what it names: ``body.Message.toRecipients`` ignores
  ``body.Message.toRecipients[0].emailAddress.address``, but not ``body.Message.toRecipientsX``;
- header names are case-insensitive, like in HTTP and MIME: a pattern with a ``header`` segment
  (``header.prefer``, ``mime.header.x-mailer``) is matched without regard to case.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from graphtape.model import Deviation

# The first segment of every deviation path; a pattern starting with anything else is a typo.
ROOTS: tuple[str, ...] = ("method", "host", "path", "query", "header", "body", "mime", "response", "interaction")

# The default volatile fields: each pattern with why it changes from one run to the next.
# HTTP request headers outside diffing.COMPARED_REQUEST_HEADERS are never compared at all, and
# neither are MIME boundaries and Content-Transfer-Encoding (the differ parses MIME and compares
# what it carries); the header patterns below are listed so that this stays true if the compared
# set grows, and so that this list alone says what is ignored.
VOLATILE: tuple[tuple[str, str], ...] = (
    # HTTP request headers
    ("header.Authorization", "a fresh token every run (and a secret)"),
    ("header.client-request-id", "a uuid4 per request (SDK)"),
    ("header.request-id", "a uuid per request"),
    ("header.SdkVersion", "SDK version string"),
    ("header.User-Agent", "client library version string"),
    ("header.HostOs", "SDK telemetry: operating system"),
    ("header.RuntimeEnvironment", "SDK telemetry: Python version"),
    ("header.Retry-Attempt", "added by the SDK retry handler"),
    ("header.Date", "clock"),
    # MIME headers inside base64 MIME bodies
    ("mime.header.Date", "clock"),
    ("mime.header.Message-ID", "generated per message"),
    ("mime.header.Thread-Index", "Outlook: clock and a random id"),
    ("mime.header.X-MS-Exchange-*", "Exchange transport stamps"),
    # HTTP response headers (only compared by diff_interactions)
    ("response.header.Date", "clock"),
    ("response.header.request-id", "a uuid per request"),
    ("response.header.client-request-id", "echo of the request's uuid"),
    ("response.header.x-ms-ags-diagnostic", "which Graph data centre served the call"),
    # JSON response bodies: what Graph generates anew when the same mail is created again
    ("response.body.**.id", "server-generated item ids"),
    ('response.body.**["@odata.etag"]', "item version"),
    ("response.body.**.changeKey", "item version"),
    ('response.body.**["@odata.context"]', "names the user id or UPN"),
    ('response.body.**["@odata.nextLink"]', "carries a fresh skip token"),
    ('response.body.**["@odata.deltaLink"]', "carries a fresh delta token"),
    ("response.body.**.createdDateTime", "clock"),
    ("response.body.**.lastModifiedDateTime", "clock"),
    ("response.body.**.receivedDateTime", "clock"),
    ("response.body.**.sentDateTime", "clock"),
    ("response.body.**.conversationId", "server-generated id"),
    ("response.body.**.conversationIndex", "clock and a random id"),
    ("response.body.**.internetMessageId", "generated per message"),
    ("response.body.**.webLink", "embeds the item id"),
    ("response.body.uploadUrl", "upload session URL with a fresh token"),
    ("response.body.expirationDateTime", "upload session expiry"),
    ("response.body.error.innerError", "request-id, client-request-id and date of the failed call"),
)

_HEADER_SEGMENT = re.compile(r"(?:^|\.)header\.", re.IGNORECASE)


def _compile(pattern: str) -> re.Pattern[str]:
    """Translate one glob pattern into a regex; raises ValueError with the reason."""
    if "***" in pattern:
        raise ValueError("'***' means nothing; use '*' (one segment) or '**' (any segments)")
    out: list[str] = []
    in_brackets = False
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**", i):
            if in_brackets:
                raise ValueError("'**' cannot stand inside [...]; use '*'")
            out.append(".*")
            i += 2
            continue
        if pattern.startswith(".**", i) and not in_brackets:
            out.append(r"(?:[.\[].*)?")  # any segments below, none included
            i += 3
            continue
        if ch == "*":
            out.append(r"[^\]]*" if in_brackets else r"[^.\[\]]*")
        elif ch == "[":
            if in_brackets:
                raise ValueError("'[' inside [...]")
            in_brackets = True
            out.append(re.escape(ch))
        elif ch == "]":
            if not in_brackets:
                raise ValueError("']' without '['")
            in_brackets = False
            out.append(re.escape(ch))
        elif ch == "." and not in_brackets and (i == len(pattern) - 1 or pattern[i + 1] == "."):
            raise ValueError("empty segment ('..' or a trailing '.')")
        else:
            out.append(re.escape(ch))
        i += 1
    if in_brackets:
        raise ValueError("'[' without ']'")
    flags = re.IGNORECASE if _HEADER_SEGMENT.search(pattern) else 0
    return re.compile("(?:" + "".join(out) + r")(?:$|[.\[])", flags)


def _check_root(pattern: str) -> None:
    root = re.split(r"[.\[]", pattern, maxsplit=1)[0]
    if root.startswith("*") or root in ROOTS:
        return
    raise ValueError(f"it starts with {root!r}, but deviation paths start with one of: {', '.join(ROOTS)}")


@dataclass(frozen=True)
class IgnoreRules:
    """A set of ignore patterns; build it with ``IgnoreRules.parse``. ``IgnoreRules()`` ignores nothing."""

    patterns: tuple[str, ...] = ()
    _compiled: tuple[re.Pattern[str], ...] = field(default=(), repr=False, compare=False)

    @classmethod
    def parse(cls, patterns: Iterable[str]) -> IgnoreRules:
        """Check and compile patterns; raises ValueError naming the bad pattern and what is wrong with it."""
        kept: list[str] = []
        compiled: list[re.Pattern[str]] = []
        for raw in patterns:
            pattern = raw.strip()
            if not pattern:
                raise ValueError("graphtape: empty ignore pattern")
            try:
                rx = _compile(pattern)
                _check_root(pattern)
            except ValueError as e:
                raise ValueError(f"graphtape: bad ignore pattern {raw!r}: {e}") from None
            if pattern not in kept:
                kept.append(pattern)
                compiled.append(rx)
        return cls(patterns=tuple(kept), _compiled=tuple(compiled))

    def merge(self, *others: IgnoreRules) -> IgnoreRules:
        """These rules and the others' (duplicates dropped, order kept)."""
        return IgnoreRules.parse([*self.patterns, *(p for o in others for p in o.patterns)])

    def matches(self, path: str) -> bool:
        return any(rx.match(path) for rx in self._compiled)

    def apply(self, deviations: Sequence[Deviation]) -> list[Deviation]:
        """The deviations no rule ignores."""
        if not self._compiled:
            return list(deviations)
        return [d for d in deviations if not self.matches(d.path)]


DEFAULT_IGNORE: IgnoreRules = IgnoreRules.parse(pattern for pattern, _ in VOLATILE)
