"""Replacing server ids in an interaction's texts (``diffing.ids`` says which ids, and by which).

An id is found as a whole (not inside a longer run of id characters), as it stands or percent-encoded
(``AAMk...AAA%3D`` in a URL), and replaced in the same encoding: in the URL, every header value, a JSON body's
strings (a ``$batch`` item's base64 MIME body decoded and encoded again), a base64 MIME body, a text body. The
time grows with the text's length, not with how many ids there are (``Replacer``).
"""

from __future__ import annotations

import base64
import dataclasses
import itertools
import json
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote, unquote

from graphtape.bodies.kinds import decode_base64_mime, looks_like_rfc5322
from graphtape.model import Headers, HttpRequest, Interaction

_ID_CHARS = r"A-Za-z0-9_\-"  # what may not stand right before or after an id that is replaced
_UNRESERVED = frozenset("-_.~")


def json_or_none(body: bytes) -> Any:
    """A body's JSON value; None if it is empty or not JSON."""
    try:
        return json.loads(body.decode("utf-8-sig")) if body else None
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None


def _unit(ch: str) -> str:
    """A regex for one character of an id as a URL may carry it: itself, or percent-encoded (either hex case)."""
    if ch.isalnum() or ch in _UNRESERVED or ord(ch) > 127:
        return re.escape(ch)
    code = f"{ord(ch):02X}"
    hi, lo = code[0], code[1]
    return f"(?:{re.escape(ch)}|%{hi}[{lo}{lo.lower()}])"


def _trie(words: Iterable[str]) -> str:
    """One regex for all ``words`` that tries them as a trie (longest first): time grows with the text, not with
    how many words there are."""
    root: dict[str, Any] = {}
    for word in words:
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}
    return _emit(root)


def _emit(node: dict[str, Any]) -> str:
    chain = ""
    while len(node) == 1 and "" not in node:  # one way on: a literal run, no group
        ch, node = next(iter(node.items()))
        chain += _unit(ch)
    branches = [_unit(ch) + _emit(child) for ch, child in sorted(node.items()) if ch]
    if not branches:
        return chain
    group = "(?:" + "|".join(branches) + ")"
    return chain + (group + "?" if "" in node else group)


_PLAIN_ID = re.compile(r"[A-Za-z0-9_+\-]+={0,2}")  # Graph's ids, change keys, guids, skip tokens
_RUN = re.compile(r"[A-Za-z0-9_+\-=%]+")  # where a plain id stands in a text: ``=`` and percent-encoding included
_VALUE_START = re.compile(r"=(?=[^=])")  # where a value may start in a run: after "name="
_ANGLED = re.compile(r"<[^<>\s]+>")  # an internetMessageId, as MIME's In-Reply-To and References carry it


def _others_regex(words: list[str]) -> re.Pattern[str] | None:
    """The trie regex of ids of other shapes; None without any, or when they nest beyond Python's stack (a
    hostile cassette's thousands of crafted ids): those are then not replaced."""
    if not words:
        return None
    try:
        return re.compile(f"(?<![{_ID_CHARS}])(?:{_trie(words)})(?![{_ID_CHARS}])")
    except (RecursionError, re.error, OverflowError):
        return None


class Replacer:
    """Finds the keys of ``mapping`` in texts (as whole ids, percent-encoded or not) and replaces them.

    Plain ids (``_PLAIN_ID``) and ``<...>`` ones are found by one fixed regex each and looked up, whatever their
    number; the others (rare: ``contentId``-like values) are tried at once by a regex shaped as a trie."""

    def __init__(self, mapping: dict[str, str]) -> None:
        self.mapping = mapping
        self.plain = {k for k in mapping if _PLAIN_ID.fullmatch(k)}
        self.longest = 3 * max((len(k) for k in self.plain), default=0)  # percent-encoded: up to 3 characters each
        self.angled = {k for k in mapping if _ANGLED.fullmatch(k)}
        others = [k for k in mapping if k and k not in self.plain and k not in self.angled]
        self.others = _others_regex(others)

    @property
    def empty(self) -> bool:
        return not self.plain and not self.angled and self.others is None

    def _in_run(self, run: str) -> tuple[int, str] | None:
        """Where a plain id starts in a run of id characters, and which id: the run itself, or what follows one of
        its first three ``=`` before a value (``$skiptoken=ID``). Linear in the run's length, whatever it holds."""
        for start in (0, *(m.end() for m in itertools.islice(_VALUE_START.finditer(run), 3))):
            part = run[start:]
            if len(part) > self.longest:  # a longer part is no id: not looked up
                continue
            key = part if part in self.plain else unquote(part) if "%" in part else ""
            if part and key in self.plain:
                return start, key
        return None

    def _spans(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, id) of every id found, in order, none overlapping."""
        found: list[tuple[int, int, str]] = []
        if self.plain:
            for m in _RUN.finditer(text):
                hit = self._in_run(m.group(0))
                if hit is not None:
                    found.append((m.start() + hit[0], m.end(), hit[1]))
        if self.angled:
            found += [(m.start(), m.end(), m.group(0)) for m in _ANGLED.finditer(text) if m.group(0) in self.angled]
        if self.others is not None:
            found += [(m.start(), m.end(), self._key(m.group(0))) for m in self.others.finditer(text)]
        found.sort()
        kept: list[tuple[int, int, str]] = []
        for span in found:
            if not kept or span[0] >= kept[-1][1]:
                kept.append(span)
        return kept

    def _key(self, text: str) -> str:
        return text if text in self.mapping else unquote(text)

    def find(self, text: str) -> list[str]:
        """The keys found in ``text``, in order, each once."""
        return [] if self.empty or not text else list(dict.fromkeys(key for _, _, key in self._spans(text)))

    def sub(self, text: str) -> str:
        if self.empty or not text:
            return text
        out, last = [], 0
        for start, end, key in self._spans(text):
            new = self.mapping[key]
            out += [text[last:start], new if text[start:end] == key else quote(new, safe="")]
            last = end
        return "".join(out) + text[last:] if out else text


def _sub_string(text: str, sub: Callable[[str], str]) -> str:
    """A string with ids replaced; a base64 MIME string (a ``$batch`` item's body) decoded, replaced, re-encoded."""
    if len(text) >= 16 and ":" not in text:
        decoded = decode_base64_mime(text.encode("ascii", "ignore"))
        if decoded is not None and looks_like_rfc5322(decoded):
            mime = decoded.decode("utf-8", "surrogateescape")
            changed = sub(mime)
            if changed == mime:
                return text
            return base64.b64encode(changed.encode("utf-8", "surrogateescape")).decode("ascii")
    return sub(text)


def _sub_json(value: Any, sub: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return _sub_string(value, sub)
    if isinstance(value, dict):
        return {k: _sub_json(v, sub) for k, v in value.items()}
    if isinstance(value, list):
        return [_sub_json(v, sub) for v in value]
    return value


def _sub_body(body: bytes, sub: Callable[[str], str]) -> bytes:
    """A body with ids replaced: JSON by its strings, base64 MIME decoded and re-encoded, text as text."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return body
    value = json_or_none(body)
    if value is not None:
        try:
            changed = _sub_json(value, sub)
        except RecursionError:
            return body
        return body if changed == value else json.dumps(changed, ensure_ascii=False).encode("utf-8")
    result = _sub_string(text, sub)
    return body if result == text else result.encode("utf-8")


def _sub_headers(headers: Headers, sub: Callable[[str], str]) -> Headers:
    return [(k, sub(v)) for k, v in headers]


def substitute(interaction: Interaction, replacer: Replacer) -> Interaction:
    """The interaction with ``replacer``'s ids replaced everywhere; the same object when it has none."""
    if replacer.empty:
        return interaction
    sub = replacer.sub
    req, resp = interaction.request, interaction.response
    body = req.body if req.body_digest is not None else _sub_body(req.body, sub)
    request = HttpRequest(req.method, sub(req.url), _sub_headers(req.headers, sub), body, req.body_digest)
    response = dataclasses.replace(resp, headers=_sub_headers(resp.headers, sub),
                                   body=resp.body if resp.body_as_sent else _sub_body(resp.body, sub))
    if request == req and response == resp:
        return interaction
    return dataclasses.replace(interaction, request=request, response=response)
