"""``NO_PROXY`` entries that would send Microsoft Graph (or sign-in) calls around graphtape, found and removed.

Pure: an environment in, the changes and a one-line notice out. ``graphtape run`` applies them to its
command's environment, the pytest plugin to its own process for the session. Which hosts count is
``graph.GRAPH_HOSTS`` and ``graph.LOGIN_HOSTS`` (every cloud's Graph and login hosts).
"""

from __future__ import annotations

from collections.abc import Mapping

from graphtape.graph import GRAPH_HOSTS, LOGIN_HOSTS

NO_PROXY_NAMES = ("NO_PROXY", "no_proxy")
GUARDED_HOSTS: tuple[str, ...] = GRAPH_HOSTS + LOGIN_HOSTS


def _host_part(entry: str) -> str:
    """``graph.microsoft.com:443`` -> ``graph.microsoft.com``; ``*.microsoft.com`` -> ``.microsoft.com``."""
    text = entry.strip().lower()
    if "://" in text:  # httpx accepts "https://graph.microsoft.com"
        text = text.split("://", 1)[1]
    if text.startswith("["):  # an IPv6 literal: never one of our host names
        return text
    text = text.split("/", 1)[0].rsplit(":", 1)[0] if text.count(":") == 1 else text.split("/", 1)[0]
    return text[1:] if text.startswith("*.") else text


def covers(entry: str, host: str) -> bool:
    """Whether a ``NO_PROXY`` entry makes some client skip the proxy for ``host``, read as loosely as any of
    curl, requests, httpx or Node read it: ``*``, the host itself, or a domain it is under (with or without
    a leading ``.`` or ``*.``), with or without a port or scheme."""
    text = entry.strip().lower()
    if text == "*":
        return True
    name = _host_part(text).rstrip(".")
    if not name or name == ".":
        return False
    bare = name.lstrip(".")
    return host == bare or host.endswith("." + bare)


def removed_entries(value: str) -> tuple[str, list[str]]:
    """(what ``value`` keeps, the entries taken out because they cover a Graph or login host)."""
    kept: list[str] = []
    removed: list[str] = []
    for entry in value.split(","):
        if not entry.strip():
            continue
        if any(covers(entry, host) for host in GUARDED_HOSTS):
            removed.append(entry.strip())
        else:
            kept.append(entry.strip())
    return ",".join(kept), removed


def no_proxy_changes(env: Mapping[str, str]) -> tuple[dict[str, str | None], list[str]]:
    """({variable: new value, or None to unset it}, the entries removed, each once) for ``env``."""
    changes: dict[str, str | None] = {}
    removed: list[str] = []
    for name in NO_PROXY_NAMES:
        value = env.get(name)
        if value is None:
            continue
        kept, gone = removed_entries(value)
        if gone:
            changes[name] = kept or None
            removed.extend(entry for entry in gone if entry not in removed)
    return changes, removed


def no_proxy_notice(changes: Mapping[str, str | None], removed: list[str]) -> str:
    """The one line that says what was removed, from which variables, and why ("" when nothing was)."""
    if not removed:
        return ""
    names = " and ".join(name for name in NO_PROXY_NAMES if name in changes)
    return (f"graphtape: removed {', '.join(removed)} from {names}: "
            "they would send Microsoft Graph and sign-in calls around the proxy, to the real service")


def apply_no_proxy(env: Mapping[str, str]) -> tuple[dict[str, str], str]:
    """A copy of ``env`` without the ``NO_PROXY`` entries that cover a Graph or login host, and the notice."""
    changes, removed = no_proxy_changes(env)
    out = dict(env)
    for name, value in changes.items():
        if value is None:
            out.pop(name, None)
        else:
            out[name] = value
    return out, no_proxy_notice(changes, removed)
