"""Ignore globs match in time linear in the path, and mean what the old regex translation meant."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphtape.diffing.ignore import IgnoreRules


def _reference(pattern: str) -> re.Pattern[str]:
    """The glob semantics as a backtracking regex (the translation graphtape used before): fine on small inputs."""
    out: list[str] = []
    in_brackets = False
    i = 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if pattern.startswith(".**", i) and not in_brackets:
            out.append(r"(?:[.\[].*)?")
            i += 3
            continue
        ch = pattern[i]
        if ch == "*":
            out.append(r"[^\]]*" if in_brackets else r"[^.\[\]]*")
        else:
            in_brackets = (in_brackets or ch == "[") and ch != "]"
            out.append(re.escape(ch))
        i += 1
    flags = re.IGNORECASE if re.search(r"(?:^|\.)header\.", pattern, re.IGNORECASE) else 0
    return re.compile("(?:" + "".join(out) + r")(?:$|[.\[])", flags)


@pytest.mark.timeout(10)
@pytest.mark.parametrize("stars", [7, 20])
def test_many_double_stars_on_a_long_path_finish(stars: int) -> None:
    # Each '**' was an unanchored '.*': 7 of them on a 60-character path took 22 s to fail.
    pattern = "body." + ".".join(["**"] * stars) + ".zzz"
    path = "body." + ".".join(["a"] * 5_000) + ".b"
    rules = IgnoreRules.parse([pattern])
    assert not rules.matches(path)
    assert rules.matches(path + ".zzz")


@pytest.mark.timeout(10)
def test_many_one_segment_stars_on_a_long_key_finish() -> None:
    pattern = "body." + "*a" * 12 + "*b"
    rules = IgnoreRules.parse([pattern])
    assert not rules.matches("body." + "a" * 20_000)
    assert rules.matches("body." + "a" * 20_000 + "b")


# Patterns from the characters that mean something to a glob, plus a few literals.
_PATTERN_CHARS = st.sampled_from(["a", "B", "b", ".", "[", "]", "*", "**", ".**", "$", "@", '"', "header."])
_PATH_CHARS = st.sampled_from(["a", "A", "b", "B", ".", "[", "]", "$", "@", '"', "0", "header."])


@settings(max_examples=600, deadline=None)
@given(
    root=st.sampled_from(["body", "header", "response.header", "**", "mime.header"]),
    rest=st.lists(_PATTERN_CHARS, max_size=8).map("".join),
    path_root=st.sampled_from(["body", "header", "HEADER", "response.header", "mime.header", "query"]),
    path=st.lists(_PATH_CHARS, max_size=12).map("".join),
)
def test_matcher_agrees_with_the_regex_reference(root: str, rest: str, path_root: str, path: str) -> None:
    pattern = root + rest
    try:
        rules = IgnoreRules.parse([pattern])
    except ValueError:
        return  # refused patterns have no meaning to compare
    full = path_root + path
    assert rules.matches(full) is bool(_reference(pattern).match(full)), (pattern, full)


@settings(max_examples=400, deadline=None)
@given(
    rest=st.lists(_PATTERN_CHARS, max_size=6).map("".join),
    path=st.lists(_PATH_CHARS, max_size=12).map("".join),
)
def test_the_regex_shortcut_agrees_with_running_the_steps(rest: str, path: str) -> None:
    # Patterns with one wildcard use a regex; the step machine must mean the same on every pattern.
    try:
        rules = IgnoreRules.parse(["body" + rest])
    except ValueError:
        return
    glob = rules._compiled[0]
    full = "body" + path
    assert glob.run(full) is bool(_reference(rules.patterns[0]).match(full)), (rules.patterns[0], full)
