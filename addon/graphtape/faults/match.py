"""Which requests a fault rule is about: a method and an endpoint pattern over the Graph path, and a mailbox.

Patterns are written against the path after the version (``/me/sendMail``, ``/users/*/messages/*/send``); a
leading ``/v1.0`` or ``/beta`` is allowed and dropped. ``/me`` and ``/users/{id}`` are the same endpoint for a
rule, so both the pattern and the request's path are brought to one mailbox-neutral form first:
``/me/sendMail`` and ``/users/a@contoso.com/sendMail`` are both ``{mailbox}/sendMail``. Which mailbox a rule is
about (``mailbox: a@contoso.com``, or ``me``) is a separate condition. A call in scope that is not a Graph URL
(an upload-session PUT to ``outlook.office.com``) is matched on its URL path as it is.

Pure: strings in, booleans out.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from graphtape.graph import VERSIONS, parse_graph_url

NEUTRAL = "{mailbox}"
_MAILBOX = re.compile(r"^/(?:me(?=/|$)|users/([^/]+))", re.IGNORECASE)
_VERSION = re.compile(rf"^/(?:{'|'.join(re.escape(v) for v in VERSIONS)})(?=/|$)", re.IGNORECASE)
METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE", "HEAD", "OPTIONS")


def split_mailbox(path: str) -> tuple[str, str | None]:
    """``/users/a%40b.com/sendMail`` -> (``{mailbox}/sendMail``, ``a@b.com``); ``/me/x`` -> (``{mailbox}/x``,
    ``me``); a path under no mailbox comes back as it is, with None."""
    found = _MAILBOX.match(path)
    if found is None:
        return path, None
    who = unquote(found.group(1)).strip("'\"()") if found.group(1) else "me"
    return NEUTRAL + path[found.end():], who


def request_path(url: str) -> tuple[str, str | None]:
    """A request's path as rules see it (mailbox-neutral, no version, no query) and the mailbox it names."""
    graph = parse_graph_url(url)
    if graph is None:
        return urlsplit(url).path or "/", None
    return split_mailbox(graph.resource)


def pattern_path(pattern: str) -> str:
    """A rule's glob brought to the form ``request_path`` gives (version dropped, mailbox-neutral)."""
    text = pattern.strip()
    if not text.startswith("/"):
        text = "/" + text
    text = _VERSION.sub("", text) or "/"
    return split_mailbox(text)[0]


@dataclass(frozen=True)
class Match:
    """The requests a rule applies to; each part left unset matches every request."""

    method: str | None = None  # upper case
    glob: str | None = None  # mailbox-neutral (pattern_path)
    regex: re.Pattern[str] | None = None  # searched in the mailbox-neutral path
    mailbox: str | None = None  # lower case; "me" for /me

    def covers(self, method: str, path: str, mailbox: str | None) -> bool:
        """Whether a request (``request_path``'s view of it) is one this rule is about."""
        if self.method is not None and method.upper() != self.method:
            return False
        if self.mailbox is not None and (mailbox or "").lower() != self.mailbox:
            return False
        if self.glob is not None and not fnmatch.fnmatchcase(path.lower(), self.glob.lower()):
            return False
        return self.regex is None or self.regex.search(path) is not None

    def describe(self) -> str:
        where = self.glob or (f"/{self.regex.pattern}/" if self.regex is not None else "*")
        who = f" (mailbox {self.mailbox})" if self.mailbox else ""
        return f"{self.method or '*'} {where}{who}"
