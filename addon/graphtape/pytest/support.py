"""The pure part of the pytest plugin: cassette names and paths, a failing test's message, call counts.

Nothing here knows pytest or mitmproxy; ``pytest_plugin`` calls these and does the I/O.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from graphtape.cassette.paths import safe_cassette_path
from graphtape.graph import GRAPH_BASE, VERSIONS, normalise_path, parse_graph_url, parse_query, request_key
from graphtape.model import FailOn, Interaction, Mode, Outcome, PluginMode
from graphtape.session.describe import short_path
from graphtape.session.exchanges import Exchange, Session

_UNSAFE = re.compile(r"[^A-Za-z0-9._\-\[\]=,+@]")
_MAX_NAME = 120


def safe_file_name(name: str) -> str:
    """A file name for a test id: ``test_x[a/b-1]`` -> ``test_x[a_b-1]-<hash>``.

    Characters outside a small safe set become ``_``; whenever that changes the name (or it is cut to
    length), a short hash of the original keeps two different ids from sharing a file.
    """
    safe = _UNSAFE.sub("_", name).strip(".") or "_"
    if safe == name and len(name) <= _MAX_NAME:
        return name
    digest = hashlib.sha1(name.encode("utf-8"), usedforsecurity=False).hexdigest()[:8]
    return f"{safe[:_MAX_NAME]}-{digest}"


def default_cassette_name(module: str, test: str, cls: str | None = None) -> str:
    """``<test module>/<Class.>test name.yaml``, relative to the cassette folder."""
    stem = safe_file_name(module)
    leaf = safe_file_name(f"{cls}.{test}" if cls else test)
    return f"{stem}/{leaf}.yaml"


def resolve_cassette(root: Path, name: str) -> Path:
    """The cassette for a marker's ``name`` under ``root`` (``.yaml`` added to a bare name).

    Raises ``paths.UnsafeCassettePath`` for a name that would leave ``root``.
    """
    text = name.replace("\\", "/").strip()
    if text and not text.endswith((".yaml", ".yml")):
        text += ".yaml"
    return safe_cassette_path(root, text)


def recording_path(target: Path, token: str) -> Path:
    """Where a cassette is recorded before the test passes: a hidden file beside it."""
    return target.with_name(f".{target.name}.{token}.recording")


# --------------------------------------------------------------------------- a failing test's message


def _exchange_lines(ex: Exchange) -> list[str]:
    head = f"#{ex.number} {ex.method} {short_path(ex.url)}"
    lines: list[str] = []
    shown = (Outcome.UNMATCHED, Outcome.EXHAUSTED, Outcome.NOT_RECORDED, Outcome.REJECTED)
    if ex.outcome in shown or (ex.note and ex.interaction is None):
        lines.append(f"{head}: {ex.outcome}" + (f" - {ex.note}" if ex.note else ""))
    if ex.outcome != Outcome.REJECTED:  # a rejection's note already names its errors
        lines.extend(f"{head}: {f.line()}" for f in ex.errors)
    lines.extend(f"{head}: deviation {d.line()}" for d in ex.deviations)
    return lines


def failure_message(session: Session, reasons: Sequence[str], fail_on: frozenset[FailOn], *, cassette: Path,
                    recorded: Sequence[Interaction] = (), since: tuple[int, int] = (0, 0)) -> str:
    """The text a failing test shows: what failed, each request's problem with its near miss, what is unused."""
    lines = [f"graphtape: {'; '.join(reasons)} ({session.mode} of {cassette})"]
    for ex in session.exchanges[since[0]:]:
        lines.extend(f"  {line}" for line in _exchange_lines(ex))
    if since == (0, 0) and FailOn.UNUSED in fail_on:
        for index in session.unused:
            what = ""
            if index < len(recorded):
                req = recorded[index].request
                what = f" {req.method} {short_path(req.url)}"
            lines.append(f"  interaction {index + 1}{what}: never used")
    if session.mode == Mode.REPLAY and session.exchanges:  # none came: re-recording would not help
        lines.append("If the new traffic is intended, re-record: --graphtape-mode=record (or delete the cassette "
                     "and use --graphtape-mode=once).")
    return "\n".join(lines)


# --------------------------------------------------------------------------- call counts


def _path_matches(url: str, path: str) -> bool:
    wanted = urlsplit(path)
    want_path = normalise_path("/" + wanted.path.lstrip("/")).rstrip("/")
    query_ok = not wanted.query or parse_query(urlsplit(url).query) == parse_query(wanted.query)
    parsed = parse_graph_url(url)
    if parsed is None:
        return normalise_path(urlsplit(url).path or "/").rstrip("/") == want_path and query_ok
    versioned = want_path.split("/")[1] in VERSIONS if want_path.count("/") else False
    have = parsed.path if versioned else parsed.resource
    return have.rstrip("/") == want_path and query_ok


def count_calls(exchanges: Iterable[Exchange], method: str, path: str) -> int:
    """How many requests were ``method path``: the path normalised, its version (/v1.0, /beta) optional,
    its query compared (as a set) only when given; a full URL is compared as the cassette matcher would."""
    method = method.upper()
    if "://" in path:
        key = request_key(method, path)
        return sum(1 for ex in exchanges if request_key(ex.method, ex.url) == key)
    return sum(1 for ex in exchanges if ex.method.upper() == method and _path_matches(ex.url, path))


RECORDING_MODES = (PluginMode.RECORD, PluginMode.ONCE, PluginMode.NEW_EPISODES)
_WHAT_IT_DOES = {PluginMode.RECORD: "mode record", PluginMode.ONCE: "mode once: for a test without a cassette",
                 PluginMode.NEW_EPISODES: "mode new_episodes: for calls a cassette lacks"}


def report_header(mode: PluginMode, cassette_dir: Path, *, upstream: str, strict: bool) -> str:
    """pytest's header line: ``record on`` and where the calls go when this run records, else how it answers."""
    if mode in RECORDING_MODES:
        head = f"record on ({_WHAT_IT_DOES[mode]}; calls go to {upstream or GRAPH_BASE})"
    else:
        head = "replay (offline)" if mode == PluginMode.REPLAY else f"{mode} (offline)"
    return f"graphtape: {head}, cassettes in {cassette_dir}{', strict' if strict else ''}"
