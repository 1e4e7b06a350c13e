"""Server-assigned ids across two recordings of one flow: which of OLD's ids NEW's server gave in their place.

Recording the same flow again gets fresh ids from the server (a draft's ``id``, its ``changeKey``, an upload
session's URL, a page's skip token), so every later request that uses one (``/messages/{id}/send``) would
differ. ``graphtape diff`` (``core.diff_cassettes`` pairs interactions by position) therefore first:

1. ``map_ids``: walks each aligned pair's response (same method and status) side by side and pairs the values
   at the same place that hold ids (rules below) into one bijection OLD -> NEW; where it breaks (an OLD id
   paired with two NEW ids, or two OLD ids with one NEW id) is a ``Conflict``: a real difference, with both places;
2. ``remap``: rewrites an OLD interaction with NEW's ids (URLs, header values, JSON bodies, base64 MIME bodies,
   a ``$batch``'s items), so what still differs is what the flow did differently;
3. ``explain``: for a deviation still found, which server id was expected there and where the server gave it
   (or that only OLD's server gave the id it names).

Which values are ids (``id_kind``, the one place that knows), in responses only:

- a whole value at ``id``, a key ending in ``Id`` (``parentFolderId``, ``conversationId``, ``internetMessageId``),
  ``changeKey``, ``@odata.etag`` or the ``ETag`` header (``W/"..."`` unwrapped);
- the parts of a link that differ: ``uploadUrl``, ``@odata.nextLink``, ``@odata.deltaLink``, ``@odata.id``,
  ``@odata.editLink``, ``webLink``, the ``Location`` and ``Content-Location`` headers. Both links are split into
  scheme, host, path segments (``Messages('X')`` gives ``X``), query names and values; the parts that differ must
  all look like ids (``looks_like_id``), else the links differ in structure and none of their parts is paired;
- a whole value counts when it is a string of ``MIN_LENGTH`` or more characters, no spaces, not ``<redacted>``.

JSON lists are walked item by item when both have the same length; a ``$batch`` answer's items are paired by the
request item they answer (``responses[N]`` answers request item N), their own ``id`` (the client's) left out.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from graphtape.bodies.batch import is_batch, item_id, request_items, response_items
from graphtape.diffing.idtext import Replacer, json_or_none, substitute
from graphtape.diffing.paths import json_path
from graphtape.model import Deviation, HttpRequest, Interaction, header
from graphtape.privacy.redaction import REDACTED

MIN_LENGTH = 8
ID_KEYS = frozenset({"id", "changekey"})  # lower case; and any key ending in "Id"
ETAG_KEYS = frozenset({"@odata.etag", "etag"})
LINK_KEYS = frozenset({"uploadurl", "@odata.nextlink", "@odata.deltalink", "@odata.id", "@odata.editlink",
                       "weblink", "location", "content-location"})
ID_HEADERS = ("Location", "Content-Location", "ETag")
ID_TOKEN = re.compile(r"[A-Za-z0-9_+\-]{8,}={0,2}")  # base64 (either alphabet, no '/'), guids, skip tokens
_QUOTED = re.compile(r"'([^']*)'")
_SPACE = re.compile(r"\s")

Kind = Literal["whole", "etag", "link"]


def id_kind(key: str) -> Kind | None:
    """How a response's value at ``key`` (a JSON key or a header name) holds ids, or None if it holds none."""
    low = key.lower()
    if low in LINK_KEYS:
        return "link"
    if low in ETAG_KEYS:
        return "etag"
    return "whole" if low in ID_KEYS or (len(key) > 2 and key.endswith("Id")) else None


def looks_like_id(token: str) -> bool:
    """A part of a link that may be an id: 8+ base64url characters with a digit, ``-_+=`` or 20+ characters
    (``AttachmentSessions`` is a word, ``AAMkAGI2AAA=`` an id)."""
    return (ID_TOKEN.fullmatch(token) is not None
            and (any(c.isdigit() or c in "-_+=" for c in token) or len(token) >= 20))


def _usable(value: str) -> bool:
    return len(value) >= MIN_LENGTH and REDACTED not in value and _SPACE.search(value) is None


def link_parts(url: str) -> list[str]:
    """A link's parts in order: scheme, host, each path segment split around ``'...'``, query names and values."""
    parts = urlsplit(url)
    out = [parts.scheme.lower(), parts.netloc.lower()]
    for segment in parts.path.split("/"):
        out += _QUOTED.split(unquote(segment))
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        out += [name, value]
    return out


def pair_values(kind: Kind, old: str, new: str) -> list[tuple[str, str]]:
    """The (OLD id, NEW id) pairs two values at the same place hold; [] when their structure differs."""
    if kind == "etag":
        old, new = (v[2:] if v[:2] in ("W/", "w/") else v for v in (old, new))
        old, new = old.strip('"'), new.strip('"')
    if kind != "link":
        return [(old, new)] if _usable(old) and _usable(new) else []
    a, b = link_parts(old), link_parts(new)
    if len(a) != len(b):
        return []
    pairs = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
    return pairs if all(looks_like_id(x) and looks_like_id(y) for x, y in pairs) else []


Found = list[tuple[str, str, str]]  # (place, OLD id, NEW id)


def _walk(old: Any, new: Any, prefix: str, keys: list[str | int], out: Found) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key, a in old.items():
            if key not in new:
                continue
            b, kind = new[key], id_kind(key)
            if kind is not None and isinstance(a, str) and isinstance(b, str):
                out += [(json_path(prefix, [*keys, key]), x, y) for x, y in pair_values(kind, a, b)]
            else:
                _walk(a, b, prefix, [*keys, key], out)
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            _walk(a, b, prefix, [*keys, i], out)


def _answers_in_request_order(req: HttpRequest, doc: Any) -> Any:
    """A ``$batch`` answer with ``responses`` in the order of the request's items, without their own ids."""
    answers, items = response_items(doc), request_items(req) if is_batch(req) else None
    if answers is None or items is None:
        return doc
    position = {(item_id(item) or "").lower(): i for i, item in enumerate(items)}
    ordered = sorted(answers, key=lambda a: position.get((item_id(a) or "").lower(), len(items)))
    return {**doc, "responses": [{k: v for k, v in a.items() if k != "id"} if isinstance(a, dict) else a
                                 for a in ordered]}


def response_pairs(old: Interaction, new: Interaction) -> Found:
    """The ids two aligned interactions' responses hold at the same places; none unless method and status agree."""
    if old.request.method.upper() != new.request.method.upper() or old.response.status != new.response.status:
        return []
    out: Found = []
    for name in ID_HEADERS:
        a, b, kind = header(old.response.headers, name), header(new.response.headers, name), id_kind(name)
        if a is not None and b is not None and kind is not None:
            out += [(f"response.header.{name}", x, y) for x, y in pair_values(kind, a, b)]
    a_doc, b_doc = json_or_none(old.response.body), json_or_none(new.response.body)
    with contextlib.suppress(RecursionError):  # a body nested beyond Python's stack: its ids are not paired
        _walk(_answers_in_request_order(old.request, a_doc), _answers_in_request_order(new.request, b_doc),
              "response.body", [], out)
    return out


@dataclass(frozen=True)
class Place:
    index: int  # the interaction, from 0
    path: str

    def __str__(self) -> str:
        return f"interaction {self.index + 1}, {self.path}"


@dataclass(frozen=True)
class Conflict:
    """A pairing that breaks the bijection: at ``place`` OLD's ``old`` stands against NEW's ``new``, but ``first``
    paired ``old`` with ``other`` (``twice == "old"``) or ``new`` with OLD's ``other`` (``twice == "new"``)."""

    place: Place
    old: str
    new: str
    first: Place
    other: str
    twice: Literal["old", "new"]

    def deviation(self) -> Deviation:
        return Deviation(self.place.path, "changed", self.old, self.new)

    def note(self) -> str:
        if self.twice == "old":
            return f"id conflict: OLD's {self.old!r} became {self.other!r} at {self.first}, {self.new!r} here"
        return f"id conflict: NEW's {self.new!r} stands for OLD's {self.other!r} at {self.first}, {self.old!r} here"


@dataclass
class IdMap:
    """OLD's server ids -> NEW's (``forward``; unchanged ones too), where each pair was first seen, the conflicts."""

    forward: dict[str, str] = field(default_factory=dict)
    backward: dict[str, str] = field(default_factory=dict)
    places: dict[str, Place] = field(default_factory=dict)  # by OLD id
    conflicts: list[Conflict] = field(default_factory=list)
    old_given: dict[str, Place] = field(default_factory=dict)  # every whole id in OLD's responses, where first
    _replacer: Replacer | None = field(default=None, repr=False, compare=False)
    _new_ids: Replacer | None = field(default=None, repr=False, compare=False)
    _unpaired: Replacer | None = field(default=None, repr=False, compare=False)

    @property
    def mapped(self) -> int:
        """How many ids differ between the recordings (and are mapped)."""
        return sum(a != b for a, b in self.forward.items())

    def add(self, place: Place, old: str, new: str) -> None:
        known_new, known_old = self.forward.get(old), self.backward.get(new)
        if known_new == new:
            return
        if known_new is not None:
            self.conflicts.append(Conflict(place, old, new, self.places[old], known_new, "old"))
        elif known_old is not None:
            self.conflicts.append(Conflict(place, old, new, self.places[known_old], known_old, "new"))
        else:
            self.forward[old], self.backward[new], self.places[old] = new, old, place
            self._replacer = self._new_ids = self._unpaired = None

    def replacer(self) -> Replacer:
        """OLD's ids that differ -> NEW's, as one ``Replacer`` (built once, when first asked for)."""
        if self._replacer is None:
            self._replacer = Replacer({a: b for a, b in self.forward.items() if a != b})
        return self._replacer

    def new_ids(self) -> Replacer:
        """NEW's ids that differ from OLD's, to find them in a text."""
        if self._new_ids is None:
            self._new_ids = Replacer({b: b for a, b in self.forward.items() if a != b})
        return self._new_ids

    def unpaired(self) -> Replacer:
        """OLD's server ids that no id of NEW's stands for, to find them in a text (once ``map_ids`` is done)."""
        if self._unpaired is None:
            self._unpaired = Replacer({a: a for a in self.old_given if a not in self.forward})
        return self._unpaired


def map_ids(old: Sequence[Interaction], new: Sequence[Interaction]) -> IdMap:
    """The bijection of server ids between two recordings aligned by position (``core.diff_cassettes``)."""
    ids = IdMap()
    for i, (a, b) in enumerate(zip(old, new, strict=False)):
        for path, x, y in response_pairs(a, b):
            ids.add(Place(i, path), x, y)
    for i, a in enumerate(old):
        for path, x, _ in response_pairs(a, a):  # an answer against itself: its whole ids, each with itself
            ids.old_given.setdefault(x, Place(i, path))
    return ids


def remap(interaction: Interaction, ids: IdMap) -> Interaction:
    """An OLD interaction with NEW's ids where OLD's server gave others; as it was when nothing is mapped."""
    return substitute(interaction, ids.replacer())


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (ValueError, RecursionError):  # nested beyond Python's stack: not searched for ids
        return ""


def explain(ids: IdMap, index: int, d: Deviation) -> str:
    """Why a deviation involves server ids ("" if it does not): the id NEW's server gave where OLD's request
    used its own, or an id conflict at this place."""
    for c in ids.conflicts:
        if c.place == Place(index, d.path) and (c.old, c.new) == (d.recorded, d.actual):
            return c.note()
    recorded, actual = _text(d.recorded), _text(d.actual)
    if not recorded and not actual:
        return ""
    finder, notes = ids.new_ids(), []
    for y in finder.find(recorded):
        if y not in actual and y not in unquote(actual):
            old = ids.backward[y]
            instead = sorted(set(ID_TOKEN.findall(unquote(actual))) - set(ID_TOKEN.findall(unquote(recorded))))
            has = f", this one has {instead[0]!r}" if len(instead) == 1 else ""
            notes.append(f"NEW's server gave {y!r} at {ids.places[old]} (OLD's {old!r}){has}")
    for y in finder.find(actual):
        if y not in recorded and y not in unquote(recorded):
            notes.append(f"{y!r} is the id NEW's server gave at {ids.places[ids.backward[y]]}")
    for x in ids.unpaired().find(recorded) if ids.old_given else []:
        if x not in actual and x not in unquote(actual):
            notes.append(f"OLD's server gave {x!r} at {ids.old_given[x]}; no id NEW's server gave stands for it")
    return "; ".join(notes)


def with_conflicts(found: Sequence[tuple[int, list[Deviation]]], ids: IdMap,
                   keep: Callable[[list[Deviation]], list[Deviation]]) -> list[tuple[int, list[Deviation]]]:
    """``diff_cassettes``' deviations with each id conflict added at its place (a deviation already there at that
    path is replaced by it); ``keep`` filters the conflicts (the user's own ignore rules, scrubbing)."""
    merged = {index: list(devs) for index, devs in found}
    conflicts: list[Deviation] = []  # two conflicts at one place (a link's two parts) are both kept
    for c in ids.conflicts:
        extra = keep([c.deviation()])
        if extra:
            here = merged.setdefault(c.place.index, [])
            here[:] = [d for d in here if d.path != c.place.path or d in conflicts] + extra
            conflicts.extend(extra)
    return sorted(((i, devs) for i, devs in merged.items() if devs), key=lambda item: item[0])
