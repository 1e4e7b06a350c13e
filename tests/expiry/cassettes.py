"""A hand-written cassette whose interactions were recorded at different times (relative to the real clock, so the
proxy under test uses its own clock), some of them written as a person edits them: unquoted, a bare date, none."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

GRAPH = "https://graph.microsoft.com/v1.0"
NAMES = ("old", "fresh", "older", "undated")  # /me/messages/<name>, interactions 1..4


def _interaction(name: str, stamp_line: str) -> str:
    return (f"- request:\n    method: GET\n    url: {GRAPH}/me/messages/{name}\n    headers: []\n    body: null\n"
            f"  response:\n    status: 200\n    reason: OK\n    headers:\n    - content-type: application/json\n"
            f"    body:\n      json:\n        id: {name}\n        subject: {name}\n{stamp_line}")


def write_aged(path: Path) -> Path:
    """Interactions 1 (200 days old, quoted), 2 (10 days, a bare unquoted date), 3 (120 days, an unquoted time
    without a zone) and 4 (no recorded_at): with a max age of 90d, 1 and 3 are expired."""
    now = _dt.datetime.now(_dt.UTC)
    old = (now - _dt.timedelta(days=200)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    fresh = (now - _dt.timedelta(days=10)).date().isoformat()
    older = (now - _dt.timedelta(days=120)).replace(tzinfo=None).isoformat(timespec="seconds")
    stamps = (f"  recorded_at: '{old}'\n", f"  recorded_at: {fresh}\n", f"  recorded_at: {older}\n", "")
    body = "".join(_interaction(n, s) for n, s in zip(NAMES, stamps, strict=True))
    path.write_text(f"graphtape_cassette: 1\ninteractions:\n{body}", encoding="utf-8")
    return path
