"""cache: where it lives, what its key covers, how it is pruned (no cassette parsing here)."""

from __future__ import annotations

import ast
import os
import sys
import time
from pathlib import Path

import pytest

from graphtape.cassette import cache

ADDON = Path(cache.__file__).resolve().parents[2]  # addon/: cache is graphtape/cassette/cache.py


@pytest.mark.parametrize(("environ", "expected"), [
    ({cache.DIR_ENV: "/srv/c", "XDG_CACHE_HOME": "/x", "HOME": "/h"}, "/srv/c"),
    ({cache.DIR_ENV: " off ", "XDG_CACHE_HOME": "/x"}, None),
    ({cache.DIR_ENV: "", "XDG_CACHE_HOME": "/x", "HOME": "/h"}, "/x/graphtape"),
    ({"XDG_CACHE_HOME": "relative/ignored", "HOME": "/h"}, "/h/.cache/graphtape"),
    ({"HOME": "/h"}, "/h/.cache/graphtape"),
])
def test_where_the_cache_lives(environ: dict[str, str], expected: str | None,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", environ.get("HOME", "/h"))  # Path.home() reads the real environment
    got = cache.cache_dir(environ)
    assert (str(got) if got else None) == expected


# --------------------------------------------------------------------------- pruning


def _entry(folder: Path, n: int, size: int, age_s: float) -> Path:
    path = folder / f"{n:064x}.json"
    path.write_bytes(b"x" * size)
    stamp = time.time() - age_s
    os.utime(path, (stamp, stamp))
    return path


def test_prune_keeps_the_most_recently_used_within_the_bounds(tmp_path: Path) -> None:
    made = [_entry(tmp_path, n, 100, age_s=1000 - n) for n in range(6)]  # made[5] is the newest
    stale, fresh = tmp_path / ".x.json.1.tmp", tmp_path / ".y.json.2.tmp"
    for temp, age in ((stale, 7200), (fresh, 10)):
        temp.write_bytes(b"partial")
        os.utime(temp, (time.time() - age, time.time() - age))
    other = tmp_path / "notes.txt"
    other.write_text("not ours")
    cache.prune(tmp_path, keep=made[0], max_entries=3, max_bytes=10_000)
    assert set(tmp_path.iterdir()) == {made[0], made[5], made[4], fresh, other}
    cache.prune(tmp_path, max_entries=10, max_bytes=250)
    assert set(tmp_path.iterdir()) == {made[5], made[4], fresh, other}


# --------------------------------------------------------------------------- the key


def _graphtape_imports(module: str) -> set[str]:
    """The graphtape modules ``module`` imports at its top level, and theirs, transitively."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = ADDON / (name.replace(".", "/") + ".py")
        if not path.exists():
            path = path.with_suffix("") / "__init__.py"
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("graphtape"):
                todo.append(node.module)
                todo += [f"{node.module}.{a.name}" for a in node.names
                         if (ADDON / node.module.replace(".", "/") / f"{a.name}.py").exists()]
            elif isinstance(node, ast.Import):
                todo += [a.name for a in node.names if a.name.startswith("graphtape")]
    return seen


def test_the_fingerprint_covers_all_code_that_makes_a_parse_result() -> None:
    needed = _graphtape_imports("graphtape.cassette.format")
    assert {"graphtape.cassette.format", "graphtape.cassette.bodycodec", "graphtape.model",
            "graphtape.cassette.cache"} <= needed
    outside = sorted(needed - set(cache.PARSER_MODULES))
    assert not outside, f"the parser imports {outside}: move it into {cache.PARSER_PACKAGES} or widen them"


def test_a_change_to_the_parser_code_is_a_new_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module = tmp_path / "graphtape_fake_parser.py"
    module.write_text("RULE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(cache, "PARSER_MODULES", (*cache.PARSER_MODULES, "graphtape_fake_parser"))
    cache.fingerprint.cache_clear()
    try:
        before = cache.fingerprint()
        module.write_text("RULE = 2\n")
        cache.fingerprint.cache_clear()
        after = cache.fingerprint()
        assert before and after and before != after
        assert cache.entry_key(b"same bytes", before) != cache.entry_key(b"same bytes", after)
        monkeypatch.setattr(cache, "PARSER_MODULES", (*cache.PARSER_MODULES, "graphtape_no_such_module"))
        cache.fingerprint.cache_clear()
        assert cache.fingerprint() is None  # unknown code: no cache at all
    finally:
        monkeypatch.undo()
        cache.fingerprint.cache_clear()
    assert cache.fingerprint() is not None and "graphtape_fake_parser" not in sys.modules
