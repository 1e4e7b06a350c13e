"""The scalars of the fast YAML reader (``fastyaml``): plain, single- and double-quoted, over one line or folded
over several as libyaml folds them, and ``|`` blocks with their chomping and indentation indicators.

Plain scalars are resolved and built by PyYAML's own ``Resolver`` and ``SafeConstructor`` (an unquoted timestamp
or ``=`` stays its text, as ``nodes.py`` has it). Anything outside that raises ``Doubt``.
"""

from __future__ import annotations

import re
from typing import Any

from yaml.constructor import SafeConstructor
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver


class Doubt(Exception):
    """The text is outside the subset read here (or wrong): only the strict reader may decide."""

    def __init__(self, line: int, why: str) -> None:
        super().__init__(f"line {line + 1}: {why}")


_TAG = "tag:yaml.org,2002:"
_AS_WRITTEN = {_TAG + "str", _TAG + "timestamp", _TAG + "value"}
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
SINGLE = re.compile(r"'((?:[^']|'')*)'(?!')")
_SINGLE_END = re.compile(r"((?:[^']|'')*)'(?!')")
DOUBLE = re.compile(r'"((?:[^"\\]|\\.)*)"')
_DOUBLE_END = re.compile(r'((?:[^"\\]|\\.)*)"')
_ESCAPE = re.compile(r"\\(x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)")
_ESCAPES = {"0": "\0", "a": "\a", "b": "\b", "t": "\t", "n": "\n", "v": "\v", "f": "\f", "r": "\r", "e": "\x1b",
            " ": " ", '"': '"', "\\": "\\", "N": "\x85", "_": "\xa0", "L": "\u2028", "P": "\u2029"}
_BLOCK_HEADER = re.compile(r"\|(?:([1-9])([-+]?)|([-+])([1-9]?))? *")
MISS = object()


def _unescape(m: re.Match[str]) -> str:
    code = m.group(1)
    if len(code) == 1:
        found = _ESCAPES.get(code)
        if found is None:
            raise ValueError(f"escape \\{code}")
        return found
    value = int(code[1:], 16)
    if 0xD800 <= value <= 0xDFFF or value > 0x10FFFF:
        raise ValueError("escape of a surrogate")
    return chr(value)



class Scalars:
    """Reads the scalars of ``lines`` (the text's lines, then one ``#`` past the end); ``end``: the lines from
    there on are blank or comments at the margin."""

    def __init__(self, lines: list[str], end: int) -> None:
        self.lines = lines
        self.end = end
        self.values: dict[str, Any] = {}  # a one-line scalar as written (plain or quoted) -> its value
        self.resolver = Resolver()
        self.constructor = SafeConstructor()
        self.spaces = [" " * n for n in range(200)]

    def indent(self, n: int) -> str:
        while n >= len(self.spaces):
            self.spaces.append(" " * len(self.spaces))
        return self.spaces[n]

    def plain(self, raw: str, i: int) -> Any:
        """A one-line plain scalar (stripped) as PyYAML resolves and builds it."""
        value = self.values.get(raw, MISS)
        if value is MISS:
            if not raw or (raw[0] in _INDICATORS and (raw[0] not in "-?:" or raw[1:2] in ("", " "))):
                raise Doubt(i, "a plain scalar starting with an indicator")
            value = self.resolved(raw, i)
            self.values[raw] = value
        return value

    def resolved(self, raw: str, i: int) -> Any:
        if ": " in raw or " #" in raw or "\t" in raw or raw[-1] == ":":
            raise Doubt(i, "a plain scalar YAML would not read as one")
        tag = self.resolver.resolve(ScalarNode, raw, (True, False))
        if tag in _AS_WRITTEN:
            return raw
        if tag == _TAG + "merge":
            raise Doubt(i, "a merge key")
        try:
            return self.constructor.yaml_constructors[tag](self.constructor, ScalarNode(tag, raw))
        except Exception:
            raise Doubt(i, "a plain scalar PyYAML cannot build") from None

    def scalar(self, s: str, i: int, n: int) -> tuple[Any, int]:
        """The scalar starting ``s`` (on line ``i``, in a collection at column ``n``); returns it and the next line."""
        c = s[0]
        if c == "'" or c == '"':
            return self.quoted(s, i, n)
        if c == "|":
            return self.block(s, i, n)
        if c == "[" or c == "{":
            empty = s.rstrip(" ")
            if empty == "[]":
                return [], i + 1
            if empty == "{}":
                return {}, i + 1
            raise Doubt(i, "a flow collection")
        raw = s.rstrip(" ")
        lines = self.lines
        j = i + 1
        if j < self.end and lines[j].startswith(self.indent(n + 1)) and lines[j].strip(" "):
            parts = [raw]
            while j < self.end and lines[j].startswith(self.indent(n + 1)) and lines[j].strip(" "):
                part = lines[j].strip(" ")
                if part[0] == "#":
                    raise Doubt(j, "a comment after a plain scalar")
                parts.append(part)
                j += 1
            self.plain(raw, i)  # the first line's checks
            return self.resolved(" ".join(parts), i), j
        return self.plain(raw, i), j

    def unescape(self, raw: str, i: int) -> str:
        if "\\" not in raw:
            return raw
        try:
            return _ESCAPE.sub(_unescape, raw)
        except ValueError:
            raise Doubt(i, "an escape libyaml does not write") from None

    def quoted(self, s: str, i: int, n: int) -> tuple[str, int]:
        single = s[0] == "'"
        m = (SINGLE if single else DOUBLE).match(s)
        if m is not None:
            if s[m.end():].strip(" ") or "\t" in m.group(1):
                raise Doubt(i, "something after a quoted scalar, or a tab in it")
            raw = m.group(1)
            value = raw.replace("''", "'") if single else self.unescape(raw, i)
            self.values[s[:m.end()]] = value
            return value, i + 1
        lines, closing, prefix = self.lines, _SINGLE_END if single else _DOUBLE_END, self.indent(n + 1)
        segments: list[str | None] = [s[1:]]
        j = i + 1
        while True:
            if j >= self.end:
                raise Doubt(i, "a quoted scalar not closed")
            line = lines[j]
            t = line.lstrip(" ")
            if not t:
                segments.append(None)
            elif not line.startswith(prefix):
                raise Doubt(j, "a quoted scalar's line not indented under its key")
            else:
                m = closing.match(t)
                if m is not None:
                    if t[m.end():].strip(" "):
                        raise Doubt(j, "something after a quoted scalar")
                    segments.append(m.group(1))
                    return self.fold(segments, single, i), j + 1
                segments.append(t)
            j += 1

    def fold(self, segments: list[str | None], single: bool, i: int) -> str:
        """A quoted scalar's lines joined as libyaml folds them: a line break is a space, each empty line a line
        break, spaces around a break dropped; in double quotes a backslash before the break joins the lines."""
        out: list[str] = []
        blank = 0
        joined = False  # the last line ended with an escaped line break
        last = len(segments) - 1
        for k, seg in enumerate(segments):
            if seg is None:
                blank += 1
                continue
            if "\t" in seg:
                raise Doubt(i, "a tab in a quoted scalar")
            if k:
                out.append("\n" * blank if blank or joined else " ")
            blank, joined = 0, False
            if k < last:
                if not single and (len(seg) - len(seg.rstrip("\\"))) % 2:
                    seg, joined = seg[:-1], True
                else:
                    text = seg.rstrip(" ")
                    if not single and (len(text) - len(text.rstrip("\\"))) % 2:
                        text = seg[:len(text) + 1]  # an escaped space: kept
                    seg = text
            out.append(seg.replace("''", "'") if single else self.unescape(seg, i))
        return "".join(out)

    def block(self, s: str, i: int, n: int) -> tuple[str, int]:
        """A ``|`` block scalar (literal), its chomping and indentation as libyaml reads them."""
        m = _BLOCK_HEADER.fullmatch(s)
        if m is None:
            raise Doubt(i, "a block scalar header graphtape does not write")
        digit, chomp = m.group(1) or m.group(4), m.group(2) or m.group(3) or ""
        lines = self.lines
        j = i + 1
        if digit:
            width = n + int(digit)
        else:
            if j >= len(lines) or not lines[j].strip(" "):
                raise Doubt(i, "a block scalar starting with an empty line, without an indentation indicator")
            first = lines[j].lstrip(" ")
            width = len(lines[j]) - len(first)
            if width <= n:
                raise Doubt(i, "an empty block scalar")
            if first[0] == "\t":  # libyaml: "found a tab character where an indentation space is expected"
                raise Doubt(j, "a block scalar's first line starting with a tab, without an indentation indicator")
        prefix = self.indent(width)
        parts: list[str] = []  # a content line without its indentation, an empty line as "": joined by breaks
        while j < len(lines):
            line = lines[j]
            if len(line) > width and line.startswith(prefix):
                parts.append(line[width:])
            elif not line.strip(" "):
                parts.append("")
            elif line.lstrip(" ")[0] == "\t":
                raise Doubt(j, "a tab where a block scalar's indentation is")
            else:
                break
            j += 1
        blank = 0
        while parts and not parts[-1]:
            parts.pop()
            blank += 1
        if not parts:
            raise Doubt(i, "an empty block scalar")
        text = "\n".join(parts)
        return (text if chomp == "-" else text + "\n" if not chomp else text + "\n" * (blank + 1)), j
