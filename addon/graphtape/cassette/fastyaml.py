"""A reader for the block YAML graphtape's writer emits, about 6x faster than PyYAML's node tree, to plain data.

It knows a strict subset: block mappings and sequences (the writer's indentless lists too), plain, single- and
double-quoted scalars over one line or folded over several, ``|`` blocks with their indentation and chomping
indicators, and the empty ``[]`` and ``{}``. Plain scalars are resolved and built by PyYAML's own ``Resolver``
and ``SafeConstructor`` (an unquoted timestamp or ``=`` stays its text, as ``nodes.py`` has it). Anything else
(a tag, an anchor, an alias, a flow collection, a ``?`` key, a comment inside the data, a tab outside a ``|``
block, a duplicate key, a character YAML treats as a line break or refuses, a line where one is not expected)
raises ``Doubt``: the caller then reads the file with the strict node reader, which decides and names the line.
It never says more than "not mine": a ``Doubt`` is no error message.
"""

from __future__ import annotations

import re
from typing import Any

from graphtape.cassette.fastscalar import DOUBLE, MISS, SINGLE, Doubt, Scalars

__all__ = ["Doubt", "plain_data"]

# What YAML reads as something else than text here: a line break other than LF, a control, a BOM, a non-character.
_OUTSIDE = re.compile("[^\t\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
_MARKER = re.compile(r"^(?:---|\.\.\.)", re.MULTILINE)
# The bytes of the characters _OUTSIDE refuses: C0 controls but tab and LF, DEL; and the UTF-8 lead bytes of C1
# controls (C2), of U+2028/U+2029 (E2), of the BOM and U+FFFE/U+FFFF (EF), of surrogates (ED).
_ALLOWED_BYTES = bytes([b for b in range(256) if b in (9, 10) or 0x20 <= b < 0x7F or b >= 0x80])
_SPECIAL_BYTES = (b"\xe2\x80\xa8", b"\xe2\x80\xa9", b"\xef\xbb\xbf", b"\xef\xbf\xbe", b"\xef\xbf\xbf")
_C1_OR_SURROGATE = ((b"\xc2", re.compile(b"\xc2[\x80-\x9f]")), (b"\xed", re.compile(b"\xed[\xa0-\xbf]")))
_NOT_PLAIN = frozenset(" '\"|[{")  # what starts a value that is not a plain scalar (or one with spaces before it)
_MAX_KEY = 1000  # libyaml refuses a key longer than 1024 characters


class _Reader(Scalars):
    def __init__(self, lines: list[str], end: int) -> None:
        super().__init__(lines, end)
        self.keys: dict[str, str] = {}  # a plain key as written -> the key
        self.i = 0  # where next_line and item leave the next line

    # ------------------------------------------------------------------ collections

    def mapping(self, i: int, n: int) -> tuple[dict[str, Any], int]:
        """The block mapping whose first key starts line ``i`` at column ``n``; returns it and the next line."""
        lines, end, keys, values, deeper = self.lines, self.end, self.keys, self.values, self.indent(n + 1)
        out: dict[str, Any] = {}
        s = lines[i][n:]
        while True:
            p = s.find(": ")
            if p > 0 and (key := keys.get(s[:p])) is not None:  # a key and a one-line value read before
                rest = s[p + 2:]
                value = values.get(rest, MISS)
                if lines[i + 1].startswith(deeper):
                    value = MISS  # the value goes on on the next line
                elif value is MISS and rest and rest[0] not in _NOT_PLAIN:
                    value = self.plain(rest.rstrip(" "), i)
                if value is MISS:
                    value, i = self.value(rest.lstrip(" "), i, n)
                else:
                    i += 1
            elif p < 0 and s[-1] == ":" and (key := keys.get(s[:-1])) is not None:
                value, i = self.nested(i + 1, n)
            else:
                key, rest = self.key(s, i)
                value, i = self.value(rest, i, n)
            if key in out:
                raise Doubt(i, f"duplicate key {key!r}")
            out[key] = value
            if i < end and (s := (line := lines[i]).lstrip(" ")):
                width = len(line) - len(s)
            else:
                s, width = self.next_line(i)
                i = self.i
            if width < n:
                return out, i
            if width > n or s[:2] == "- " or s == "-" or s[0] == "#":
                raise Doubt(i, "a line where the next key was expected")

    def next_line(self, i: int) -> tuple[str, int]:
        """Line ``i`` (the next one not blank; ``self.i``) without its indentation, and its indentation (-1 at
        the end)."""
        lines, end = self.lines, self.end
        while i < end:
            line = lines[i]
            s = line.lstrip(" ")
            if s:
                self.i = i
                return s, len(line) - len(s)
            i += 1
        self.i = i
        return "", -1

    def value(self, rest: str, i: int, n: int) -> tuple[Any, int]:
        return self.scalar(rest, i, n) if rest else self.nested(i + 1, n)

    def nested(self, i: int, n: int) -> tuple[Any, int]:
        """The value after ``key:`` at column ``n``, on the lines from ``i``: a collection, or null."""
        s, width = self.next_line(i)
        i = self.i
        dash = s[:2] == "- " or s == "-"
        if width > n:
            return self.sequence(i, width) if dash else self.mapping(i, width)
        if width == n and dash:
            return self.sequence(i, n)
        return None, i

    def sequence(self, i: int, n: int) -> tuple[list[Any], int]:
        """The block sequence whose first ``-`` is on line ``i`` at column ``n``."""
        lines, end, keys, values, deeper = self.lines, self.end, self.keys, self.values, self.indent(n + 1)
        out: list[Any] = []
        s = lines[i][n:]
        while True:
            if s[:2] != "- ":
                raise Doubt(i, "a list entry without a value on its line")
            item = s[2:]
            p = item.find(": ")
            value = MISS
            if p > 0 and (key := keys.get(item[:p])) is not None and not lines[i + 1].startswith(deeper):
                rest = item[p + 2:]  # a header: a key read before, and a value on this line only
                value = values.get(rest, MISS)
                if value is MISS and rest and rest[0] not in _NOT_PLAIN:
                    value = self.plain(rest.rstrip(" "), i)
            if value is not MISS:
                out.append({key: value})
                i += 1
            else:
                out.append(self.item(item, i, n))
                i = self.i
            if i < end and (s := (line := lines[i]).lstrip(" ")):
                width = len(line) - len(s)
            else:
                s, width = self.next_line(i)
                i = self.i
            if width < n or (width == n and s[:2] != "- " and s != "-"):
                return out, i
            if width > n:
                raise Doubt(i, "a line where the next list entry was expected")

    def item(self, s: str, i: int, n: int) -> Any:
        """The value of the list entry ``- s`` on line ``i`` at column ``n``; the next line in ``self.i``."""
        item = s.lstrip(" ")
        if not item:
            raise Doubt(i, "a list entry without a value on its line")
        col = n + 2 + len(s) - len(item)
        value: Any
        if item[:2] == "- " or item == "-":
            value, self.i = self.sequence(i, col)
        elif self.is_key(item):
            value, self.i = self.mapping(i, col)
        else:
            value, self.i = self.scalar(item, i, n)
        return value

    # ------------------------------------------------------------------ keys

    def is_key(self, s: str) -> bool:
        c = s[0]
        if c == "'":
            m = SINGLE.match(s)
            return m is not None and s[m.end():m.end() + 1] == ":"
        if c == '"':
            m = DOUBLE.match(s)
            return m is not None and s[m.end():m.end() + 1] == ":"
        return ": " in s or s[-1] == ":"

    def key(self, s: str, i: int) -> tuple[str, str]:
        """A key line's key and the rest of the line after ``: `` (stripped on the left)."""
        c = s[0]
        if c == "'" or c == '"':
            m = (SINGLE if c == "'" else DOUBLE).match(s)
            if m is None:
                raise Doubt(i, "a quoted key not closed on its line")
            raw, p = m.group(1), m.end()
            if "\t" in raw:
                raise Doubt(i, "a tab in a key")
            key = raw.replace("''", "'") if c == "'" else self.unescape(raw, i)
            if s[p:p + 1] != ":" or s[p + 1:p + 2] not in ("", " "):
                raise Doubt(i, "no ': ' after a quoted key")
        else:
            p = s.find(": ")
            if p < 0:
                if s[-1] != ":":
                    raise Doubt(i, "a line that is no 'key: value'")
                p = len(s) - 1
            if s[p - 1:p] == " ":
                raise Doubt(i, "a space before ':'")
            key = self.plain(s[:p], i)
            if type(key) is not str:
                raise Doubt(i, "a key that is not a string")
            if p <= _MAX_KEY:
                self.keys[s[:p]] = key
        if p > _MAX_KEY:
            raise Doubt(i, "a very long key")
        return key, s[p + 1:].lstrip(" ")

def _check_characters(text: str) -> None:
    """Doubt a character YAML refuses or reads as a line break (libyaml's and PyYAML's readers), a BOM, a document
    marker: on bytes, which is many times faster than a regular expression over 18 MB of text."""
    data = text.encode("utf-8", "surrogatepass")
    special = bool(data.translate(None, _ALLOWED_BYTES)) or any(
        seq[:1] in data and seq in data for seq in _SPECIAL_BYTES) or any(
        lead in data and pattern.search(data) for lead, pattern in _C1_OR_SURROGATE)
    found = _OUTSIDE.search(text) if special else None
    if found is None and (data.startswith((b"---", b"...")) or b"\n---" in data or b"\n..." in data):
        found = _MARKER.search(text)
    if found is not None:
        raise Doubt(text.count("\n", 0, found.start()), "a character or line YAML reads specially")


def plain_data(text: str) -> Any:
    """The plain data of a YAML document in the subset read here; raises Doubt for anything else."""
    if "\r" in text:
        if text.count("\r") != text.count("\r\n"):
            raise Doubt(text.count("\n", 0, text.index("\r")), "a CR that is not part of a CRLF")
        text = text.replace("\r\n", "\n")  # git's autocrlf: YAML reads CRLF as LF, in every place
    _check_characters(text)
    if not text.endswith("\n"):
        raise Doubt(text.count("\n"), "no line break at the end")
    lines = text.split("\n")
    lines.pop()
    end = len(lines)
    while end and (not lines[end - 1].strip(" ") or lines[end - 1][0] == "#"):
        end -= 1
    lines.append("#")  # past the last line: ends a block scalar, and there is always a next line to look at
    i = 0
    while i < end and (not lines[i].strip(" ") or lines[i].lstrip(" ")[0] == "#"):
        i += 1
    if i >= end or lines[i][0] == " " or lines[i][:2] == "- " or lines[i] == "-":
        raise Doubt(i, "not a mapping at the margin")
    try:
        root, j = _Reader(lines, end).mapping(i, 0)
    except RecursionError:
        raise Doubt(i, "nested too deeply") from None
    if j < end:
        raise Doubt(j, "a line after the top-level mapping")
    return root

