"""How graphtape writes YAML: readable (multi-line text as ``|`` blocks), lossless, and fast.

Cassettes hold plain data only (mappings with string keys, lists, strings, numbers, booleans, null). The
fast path turns such data straight into YAML nodes and has libyaml (C) emit them: recording a call costs
~4x less than with PyYAML's representer and emitter in Python, which were most of its cost. Anything the
fast path cannot write exactly as the slow one would falls back to PyYAML's emitter, tuned below.
"""

from __future__ import annotations

import contextlib
import io
import math
import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

_OPTIONS: dict[str, Any] = {"allow_unicode": True, "width": 100, "default_flow_style": False}


# A line that starts or ends a YAML document. Both emitters end a document holding a ``|+`` block (text ending
# in a blank line) with ``...``; a cassette is one document made of many dumps, so none may hold one.
_DOCUMENT_MARKER = re.compile(r"^(?:---|\.\.\.)(?:[ \t]|$)", re.MULTILINE)


def dump_yaml(data: Any) -> str:
    """``data`` (a mapping or a list) as block-style YAML, keys in their order, that loads back equal with a
    safe loader, and that holds no document marker line, so that dumps can be put one after the other."""
    text = _without_document_end(_dump_readable(data))
    if _DOCUMENT_MARKER.search(text):
        text = dump_quoted(data)
    return text


def _dump_readable(data: Any) -> str:
    if yaml.__with_libyaml__:
        with contextlib.suppress(_NeedsPythonEmitter):
            return _dump_fast(data)
    return str(yaml.dump(data, Dumper=_Dumper, sort_keys=False, **_OPTIONS))


def _without_document_end(text: str) -> str:
    """The text without the ``...`` line an emitter puts after a ``|+`` block: the end of the data ends it."""
    return text[:-4] if text.endswith("\n...\n") else text


def dump_quoted(data: Any) -> str:
    """The safe style: every string double-quoted on one line (escapes for line breaks and controls), so that no
    line of text can start at the left margin. Never holds a document marker."""
    text = _without_document_end(str(yaml.dump(data, Dumper=_QuotingDumper, sort_keys=False, allow_unicode=True,
                                               width=float("inf"), default_flow_style=False)))
    if _DOCUMENT_MARKER.search(text):  # pragma: no cover - strings are quoted, keys and values indented
        raise ValueError("graphtape: cannot write this data as YAML without a document marker line")
    return text


def _str_style(data: str) -> str | None:
    if "\x85" in data:
        return '"'  # YAML reads a raw NEL as a line break (a space or \n): only the "\N" escape keeps it
    if data.startswith("\t"):
        return '"'  # a | block's first line sets its indentation: libyaml refuses a tab there (PyYAML reads it)
    return "|" if "\n" in data and len(data) > 40 else None


# --------------------------------------------------------------------------- PyYAML's emitter (Python)


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True

    def analyze_scalar(self, scalar: str) -> Any:
        """As PyYAML's, but a tab (folded MIME headers start lines with one) does not rule out ``|`` blocks."""
        if "\t" not in scalar:
            return super().analyze_scalar(scalar)
        analysis = super().analyze_scalar(scalar.replace("\t", "x"))
        analysis.scalar = scalar
        # flow scalars drop tabs at line folds ('a\t\nb' would load as 'a\nb'): only | blocks or "..."
        analysis.allow_flow_plain = analysis.allow_block_plain = analysis.allow_single_quoted = False
        return analysis


def _str_representer(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=_str_style(data))


_Dumper.add_representer(str, _str_representer)


class _QuotingDumper(_Dumper):
    pass


def _quoted_str_representer(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style='"')


_QuotingDumper.add_representer(str, _quoted_str_representer)


# --------------------------------------------------------------------------- the fast path (libyaml)


class _NeedsPythonEmitter(Exception):
    """Data the fast path cannot write as PyYAML's emitter (above) would."""


# libyaml's emitter treats a tab as unprintable and double-quotes any string holding one, while PyYAML's (as
# tuned above) keeps folded MIME headers a readable ``|`` block. The fast path writes such a block's tabs as a
# private-use character libyaml prints as it is, then puts the tabs back in the text.
_TAB_STAND_IN = "\ue009"
# What stops libyaml from writing a ``|`` block (an unprintable character, a space before a line break or at
# the end): such strings are left to PyYAML's emitter.
_NOT_BLOCK_SAFE = re.compile("[^\n\t\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd]| \n| \\Z")
_TAG = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL, _SEQ, _MAP = (_TAG + t for t in ("str", "int", "float", "bool", "null", "seq", "map"))


class _Nodes:
    """Plain data to YAML nodes, as SafeRepresenter would make them (with ``_str_style``), only faster."""

    def __init__(self) -> None:
        self.tabs_stood_in = 0

    def node(self, data: Any) -> Node:
        t = type(data)
        if t is str:
            return self.string(data)
        if t is dict:
            return MappingNode(_MAP, [(self.node(k), self.node(v)) for k, v in data.items()], flow_style=not data)
        if t is list:
            return SequenceNode(_SEQ, [self.node(x) for x in data], flow_style=not data)
        if t is bool:
            return ScalarNode(_BOOL, "true" if data else "false")
        if t is int:
            return ScalarNode(_INT, str(data))
        if data is None:
            return ScalarNode(_NULL, "null")
        if t is float and math.isfinite(data):
            text = repr(data).lower()
            return ScalarNode(_FLOAT, text.replace("e", ".0e", 1) if "." not in text and "e" in text else text)
        raise _NeedsPythonEmitter  # a date from a hand-written meta, NaN, a subclass: PyYAML knows them

    def string(self, data: str) -> ScalarNode:
        style = _str_style(data)
        if _TAB_STAND_IN in data:
            raise _NeedsPythonEmitter
        if style == "|" and "\t" in data:
            if _NOT_BLOCK_SAFE.search(data):
                raise _NeedsPythonEmitter
            self.tabs_stood_in += data.count("\t")
            data = data.replace("\t", _TAB_STAND_IN)
        return ScalarNode(_STR, data, style=style)


def _dump_fast(data: Any) -> str:
    nodes = _Nodes()
    root = nodes.node(data)
    stream = io.StringIO()
    dumper = yaml.CSafeDumper(stream, **_OPTIONS)
    try:
        dumper.open()
        dumper.serialize(root)
        dumper.close()
    finally:
        dumper.dispose()
    text = stream.getvalue()
    if nodes.tabs_stood_in:
        if text.count(_TAB_STAND_IN) != nodes.tabs_stood_in:  # not written as a block after all
            raise _NeedsPythonEmitter
        text = text.replace(_TAB_STAND_IN, "\t")
    return text
