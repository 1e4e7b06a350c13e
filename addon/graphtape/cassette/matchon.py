"""``match_on``: what a request must share with a recording to be answered by it (VCR.py's name). Pure.

Items: ``method``, ``url`` (graphtape's normalised URL: any Graph host, ``//`` collapsed, percent-encoding
normalised, query parameters as a set), ``body`` (equal as the diff compares bodies: JSON parsed, base64 MIME
decoded, a ``$batch`` item by item, after the diff's ignore rules) and ``headers:NAME`` (the header's value as
the diff normalises it; the name is case-insensitive). The default, ``method, url``, is graphtape's matching as
it always was: among those, a recording with an equal body is served first, else the next unused one.

Where it is set, the first that says wins: the pytest marker's ``match_on=`` or the command line's ``--match-on``
(the mitmproxy option ``graphtape_match_on``), the cassette's ``meta.match_on``, ``[tool.graphtape] match_on``.
Here, with the cassette's code, because the cassette reader checks ``meta.match_on`` (and the parse cache's key
covers the reader's code); the matching itself is ``replay/matching.py`` and ``replay/criteria.py``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

KEYWORDS = ("method", "url", "body")
HEADER_PREFIX = "headers:"
ALLOWED_TEXT = "method, url, body, headers:NAME"
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an HTTP token (RFC 9110)


@dataclass(frozen=True)
class MatchOn:
    """The criteria of ``match_on``; ``headers`` in the spelling given, compared without regard to case."""

    method: bool = True
    url: bool = True
    body: bool = False
    headers: tuple[str, ...] = ()

    @property
    def strict(self) -> bool:
        """A criterion beyond the request line: a recording may be refused for it."""
        return self.body or bool(self.headers)

    def slot(self, key: str) -> str:
        """The part of a request key (``graph.request_key``: ``METHOD URL [range]``) this matching indexes by."""
        if self.method and self.url:
            return key
        method, _, rest = key.partition(" ")
        return method if self.method else rest if self.url else ""

    def text(self) -> str:
        """``method, url, body, headers:Prefer``: as a person writes it (and the option takes it, with commas)."""
        items = [k for k in KEYWORDS if getattr(self, k)]
        return ", ".join([*items, *(HEADER_PREFIX + h for h in self.headers)])


DEFAULT = MatchOn()


def _unknown(item: str, where: str) -> ValueError:
    head, colon, rest = item.partition(":")
    if colon or head.lower() in ("header", "headers"):  # headers:NAME misspelt, or without its name
        near = difflib.get_close_matches(head.lower(), ["headers"], n=1, cutoff=0.6)
        suggestion = HEADER_PREFIX + (rest.strip() or "NAME") if near else ""
    else:
        near = difflib.get_close_matches(item.lower(), KEYWORDS, n=1, cutoff=0.6)
        suggestion = near[0] if near else ""
    hint = f"; did you mean {suggestion!r}?" if suggestion else ""
    return ValueError(f"graphtape: {where}: unknown match_on item {item!r}{hint} (allowed: {ALLOWED_TEXT})")


def _items(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value]
    raise ValueError(f"graphtape: {where}: match_on must be a list of items ({ALLOWED_TEXT}), e.g. "
                     f"['method', 'url', 'body'], not {value!r}")


def parse_match_on(value: Any, where: str) -> MatchOn:
    """``["method", "url", "body"]`` (or ``"method,url,body"``) -> MatchOn; ValueError naming ``where``, the bad
    item, the closest allowed one and the allowed list."""
    items = _items(value, where)
    if not items:
        raise ValueError(f"graphtape: {where}: match_on is empty; give at least one of {ALLOWED_TEXT}")
    flags = dict.fromkeys(KEYWORDS, False)
    headers: dict[str, str] = {}  # lower-case name -> the spelling given first
    for item in items:
        if item in flags:
            flags[item] = True
        elif item.startswith(HEADER_PREFIX):
            name = item[len(HEADER_PREFIX):].strip()
            if not _HEADER_NAME.fullmatch(name):
                raise ValueError(f"graphtape: {where}: match_on item {item!r} needs a header name after "
                                 f"'headers:', e.g. 'headers:Prefer' (allowed: {ALLOWED_TEXT})")
            headers.setdefault(name.lower(), name)
        else:
            raise _unknown(item, where)
    return MatchOn(method=flags["method"], url=flags["url"], body=flags["body"], headers=tuple(headers.values()))


def resolve_match_on(option: Any, cassette: Any, project: Mapping[str, Any], *, option_where: str,
                     cassette_where: str) -> MatchOn:
    """The matching in force: the option (marker, command line) if given, else the cassette's ``meta.match_on``,
    else ``[tool.graphtape] match_on``, else the default. Each one given is checked, so a typo anywhere is found."""
    chosen = DEFAULT
    for value, where in ((project.get("match_on"), "[tool.graphtape] match_on"), (cassette, cassette_where),
                         (option, option_where)):
        if value is None or value == "":
            continue
        chosen = parse_match_on(value, where)
    return chosen
