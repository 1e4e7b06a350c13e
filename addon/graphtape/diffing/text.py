"""Comparing texts and bytes for the differ: texts line by line, bytes and big texts by sha256."""

from __future__ import annotations

import hashlib
from difflib import SequenceMatcher

from graphtape.model import Deviation

MAX_TEXT_DIFF = 256 * 1024  # texts above this many characters are compared by hash, not by lines
MAX_TEXT_LINES = 5000  # ... and so are texts with more lines than this
MAX_LINE_DEVIATIONS = 10  # differing lines reported one by one; the rest are counted


def sha256_short(data: bytes) -> str:
    """The first 16 hex digits of the sha256: enough to tell two contents apart, short enough to read."""
    return hashlib.sha256(data).hexdigest()[:16]


def digest_bytes(data: bytes) -> str:
    return f"<{len(data)} bytes, sha256 {sha256_short(data)}>"


def digest_text(text: str) -> str:
    return f"<{len(text)} chars, sha256 {sha256_short(text.encode('utf-8', 'surrogatepass'))}>"


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").split("\n")


def diff_text(path: str, recorded: str, actual: str) -> list[Deviation]:
    """Text deviations: whole values for one-liners, ``path.line[N]`` (1-based) for longer texts."""
    if recorded == actual:
        return []
    if max(len(recorded), len(actual)) > MAX_TEXT_DIFF:
        return [Deviation(path, "changed", digest_text(recorded), digest_text(actual))]
    a, b = _lines(recorded), _lines(actual)
    if len(a) == 1 and len(b) == 1:
        return [Deviation(path, "changed", recorded, actual)]
    if max(len(a), len(b)) > MAX_TEXT_LINES:
        return [Deviation(path, "changed", digest_text(recorded), digest_text(actual))]
    out: list[Deviation] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        for k in range(max(i2 - i1, j2 - j1)):
            if i1 + k < i2 and j1 + k < j2:
                out.append(Deviation(f"{path}.line[{i1 + k + 1}]", "changed", a[i1 + k], b[j1 + k]))
            elif i1 + k < i2:
                out.append(Deviation(f"{path}.line[{i1 + k + 1}]", "removed", a[i1 + k], None))
            else:
                out.append(Deviation(f"{path}.line[{j1 + k + 1}]", "added", None, b[j1 + k]))
    if len(out) > MAX_LINE_DEVIATIONS:
        more = len(out) - MAX_LINE_DEVIATIONS
        summary = Deviation(path, "changed", f"<{len(a)} lines>", f"<{len(b)} lines; {more} more differences>")
        out = [*out[:MAX_LINE_DEVIATIONS], summary]
    return out
