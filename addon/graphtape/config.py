"""Project settings from ``[tool.graphtape]`` in the nearest ``pyproject.toml``.

    [tool.graphtape]
    ignore = ["body.Message.subject", "mime.header.X-Mailer"]   # deviation paths nobody should see
    cassette_dir = "cassettes"                                   # the pytest plugin's root
    max_age = "90d"                                              # replay: older interactions are expired
    on_expiry = "warn"                                           # ... and warn (default) or fail the session
    match_on = ["method", "url", "body"]                         # replay: what a request shares with a recording

Command-line and per-cassette (``meta.ignore``) rules add to these.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphtape.diffing.ignore import DEFAULT_IGNORE, IgnoreRules


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class ProjectConfig:
    path: Path | None = None
    ignore: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict)


def find_pyproject(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_project_config(start: Path | None = None) -> ProjectConfig:
    path = find_pyproject((start or Path.cwd()).resolve())
    if path is None:
        return ProjectConfig()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"graphtape: cannot read {path}: {e}") from None
    return _parsed(path, text)


@functools.lru_cache(maxsize=8)
def _parsed(path: Path, text: str) -> ProjectConfig:
    """The settings in ``text``, read from ``path``: parsed once per content (a replay opens one per cassette, and
    the pytest plugin one per test: a pyproject.toml of a few KB takes ~1 ms to parse)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"graphtape: cannot read {path}: {e}") from None
    section = data.get("tool", {}).get("graphtape", {})
    if not isinstance(section, dict):
        raise ConfigError(f"graphtape: {path}: [tool.graphtape] must be a table")
    ignore = section.get("ignore", [])
    if not isinstance(ignore, list) or not all(isinstance(p, str) for p in ignore):
        raise ConfigError(f"graphtape: {path}: [tool.graphtape] ignore must be a list of path patterns")
    return ProjectConfig(path=path, ignore=tuple(ignore), raw=section)


def ignore_rules(*pattern_lists: Any) -> IgnoreRules:
    """The volatile defaults plus every list of user patterns given (project, command line, cassette)."""
    rules = DEFAULT_IGNORE
    for patterns in pattern_lists:
        if not patterns:
            continue
        if isinstance(patterns, str) or not all(isinstance(p, str) for p in patterns):
            raise ValueError(f"graphtape: ignore rules must be a list of path patterns, not {patterns!r}")
        rules = rules.merge(IgnoreRules.parse(patterns))
    return rules
