"""Which deviations nobody wants to see: the volatile fields, and rules users add by path.

A deviation path reads like ``body.Message.toRecipients[address=bob@contoso.com].emailAddress.name``,
``body.Message.categories[1]``, ``mime.header.Subject``, ``query.$select`` or ``response.header.Content-Type``
(see ``diffing``; lists with a natural id are keyed, ``[address=...]`` or ``[name=...]``: ``diffing.keyed``).
An ignore pattern is a glob over those paths:

- ``*`` matches within one segment: ``body.*.internetMessageHeaders``, ``header.*``,
  ``body.Message.toRecipients[*].emailAddress.name`` (every recipient, keyed or by position),
  ``mime.attachment[*].sha256``, ``mime.header.To[*]``; a key can be named too:
  ``body.Message.toRecipients[address=bob@contoso.com]`` (the key as shown: lower case for addresses);
- ``**`` matches any number of segments, none included: ``response.body.**.changeKey`` matches
  ``response.body.changeKey`` and ``response.body.value[3].changeKey``;
- everything else is literal (``[``, ``]``, ``$``, ``@``, quotes); keys that are not plain words are
  written quoted in paths, so patterns quote them too: ``response.body.**["@odata.etag"]``;
- a pattern also ignores everything below what it names: ``body.Message.toRecipients`` ignores
  ``body.Message.toRecipients[address=a@b.c].emailAddress.name``, but not ``body.Message.toRecipientsX``;
  a recipient added or removed is one deviation at ``toRecipients[address=...]``, which
  ``toRecipients[*].emailAddress.address`` does not name (``toRecipients[*]`` does);
- header names are case-insensitive, like in HTTP and MIME: a pattern with a ``header`` segment
  (``header.prefer``, ``mime.header.x-mailer``) is matched without regard to case.

Paths come from what clients send (JSON keys, query names), so a pattern is matched without
backtracking (see ``Glob``): time grows with the path's length times the pattern's, whatever both hold.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from graphtape.model import Deviation

# The first segment of every deviation path; a pattern starting with anything else is a typo.
ROOTS: tuple[str, ...] = ("method", "host", "path", "query", "header", "body", "mime", "batch", "response",
                          "interaction")

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
    ("response.body.ExpirationDateTime", "upload session expiry, as a chunk's answer (Outlook's API) spells it"),
    ("response.body.responses[*].headers.request-id", "a $batch item's answer: a uuid per request"),
    ("response.body.responses[*].headers.client-request-id", "a $batch item's answer: echo of a uuid"),
    ("response.body.error.innerError", "request-id, client-request-id and date of the failed call"),
)

_HEADER_SEGMENT = re.compile(r"(?:^|\.)header\.", re.IGNORECASE)
_SEPARATORS = ".["  # what may follow a matched pattern: the path goes on below what it names


@dataclass(frozen=True)
class Glob:
    """One compiled pattern: a sequence of steps, matched by running all of its states at once.

    A step is ``("one", c)`` (the character c), ``("many", excluded)`` (any number of characters
    not in excluded; ``""`` excludes nothing) or ``("sep", "")`` (nothing, or a separator and then
    the ``("many", "")`` step after it: what ``.**`` means). Each path character advances every live
    state at once (a bit set), so matching costs len(path) * len(steps) at worst, and never backtracks.

    A pattern with at most one "many" step (every default one) is matched by an equivalent regex
    instead, which is faster: with a single wildcard, ``re`` tries each path position once.
    """

    steps: tuple[tuple[str, str], ...]
    fold: bool  # header names: compare without regard to case
    prefix: str = field(init=False, repr=False, compare=False)  # what the leading "one" steps spell
    regex: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        lead = itertools.takewhile(lambda step: step[0] == "one", self.steps)
        object.__setattr__(self, "prefix", "".join(arg for _, arg in lead))
        simple = sum(kind == "many" for kind, _ in self.steps) <= 1
        object.__setattr__(self, "regex", _regex(self.steps, self.fold) if simple else None)

    def matches(self, path: str) -> bool:
        """The pattern names the path or something above it (the path goes on with '.' or '[')."""
        if self.regex is not None:
            return self.regex.match(path) is not None
        return self.run(path)

    def run(self, path: str) -> bool:
        """``matches`` by running the steps, never the regex."""
        head = path[: len(self.prefix)]
        if ("".join(map(str.lower, head)) if self.fold else head) != self.prefix:
            return False
        final = 1 << len(self.steps)
        live = self._closure(1 << len(self.prefix))
        for ch in path[len(self.prefix):]:
            if live & final and ch in _SEPARATORS:
                return True
            live = self._advance(live, ch.lower() if self.fold else ch)
            if not live:
                return False
        return bool(live & final)

    def _advance(self, live: int, ch: str) -> int:
        after = 0
        live &= (1 << len(self.steps)) - 1  # the final state reads nothing
        while live:
            bit = live & -live
            live ^= bit
            kind, arg = self.steps[bit.bit_length() - 1]
            if kind == "one":
                after |= bit << 1 if ch == arg else 0
            elif kind == "many":
                after |= bit if ch not in arg else 0
            elif ch in _SEPARATORS:  # "sep"
                after |= bit << 1
        return self._closure(after)

    def _closure(self, live: int) -> int:
        """Add the states reachable without reading a character (steps only look forward)."""
        pending = live
        while pending:
            bit = pending & -pending
            pending ^= bit
            kind = self.steps[bit.bit_length() - 1][0] if bit.bit_length() <= len(self.steps) else "end"
            step = 1 if kind == "many" else 2 if kind == "sep" else 0
            if step and not live & bit << step:
                live |= bit << step
                pending |= bit << step
        return live


def _regex(steps: Sequence[tuple[str, str]], fold: bool) -> re.Pattern[str]:
    out: list[str] = []
    for i, (kind, arg) in enumerate(steps):
        if kind == "one":
            out.append(re.escape(arg))
        elif kind == "sep":
            out.append(r"(?:[.\[]")  # closed by the "many" step that follows
        else:
            closing = ")?" if i and steps[i - 1][0] == "sep" else ""
            out.append((f"[^{re.escape(arg)}]*" if arg else ".*") + closing)
    return re.compile("".join(out) + r"(?:$|[.\[])", re.IGNORECASE if fold else 0)


def _compile(pattern: str) -> Glob:
    """Translate one glob pattern into a Glob; raises ValueError with the reason."""
    if "***" in pattern:
        raise ValueError("'***' means nothing; use '*' (one segment) or '**' (any segments)")
    fold = bool(_HEADER_SEGMENT.search(pattern))
    steps: list[tuple[str, str]] = []
    in_brackets = False
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**", i):
            if in_brackets:
                raise ValueError("'**' cannot stand inside [...]; use '*'")
            steps.append(("many", ""))
            i += 2
            continue
        if pattern.startswith(".**", i) and not in_brackets:
            steps += [("sep", ""), ("many", "")]  # any segments below, none included
            i += 3
            continue
        if ch == "*":
            steps.append(("many", "]" if in_brackets else ".[]"))
        elif ch == "[" and in_brackets:
            raise ValueError("'[' inside [...]")
        elif ch == "]" and not in_brackets:
            raise ValueError("']' without '['")
        elif ch == "." and not in_brackets and (i == len(pattern) - 1 or pattern[i + 1] == "."):
            raise ValueError("empty segment ('..' or a trailing '.')")
        else:
            in_brackets = (in_brackets or ch == "[") and ch != "]"
            steps.append(("one", ch.lower() if fold else ch))
        i += 1
    if in_brackets:
        raise ValueError("'[' without ']'")
    return Glob(tuple(steps), fold)


def _check_root(pattern: str) -> None:
    root = re.split(r"[.\[]", pattern, maxsplit=1)[0]
    if root.startswith("*") or root in ROOTS:
        return
    raise ValueError(f"it starts with {root!r}, but deviation paths start with one of: {', '.join(ROOTS)}")


@dataclass(frozen=True)
class IgnoreRules:
    """A set of ignore patterns; build it with ``IgnoreRules.parse``. ``IgnoreRules()`` ignores nothing."""

    patterns: tuple[str, ...] = ()
    _compiled: tuple[Glob, ...] = field(default=(), repr=False, compare=False)

    @classmethod
    def parse(cls, patterns: Iterable[str]) -> IgnoreRules:
        """Check and compile patterns; raises ValueError naming the bad pattern and what is wrong with it."""
        kept: list[str] = []
        compiled: list[Glob] = []
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
        return any(glob.matches(path) for glob in self._compiled)

    def apply(self, deviations: Sequence[Deviation]) -> list[Deviation]:
        """The deviations no rule ignores."""
        if not self._compiled:
            return list(deviations)
        return [d for d in deviations if not self.matches(d.path)]


DEFAULT_IGNORE: IgnoreRules = IgnoreRules.parse(pattern for pattern, _ in VOLATILE)
