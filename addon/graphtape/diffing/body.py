"""How the differ reads and compares bodies: JSON by structure, MIME by content, text by lines, bytes by hash.

Paths (the prefix is ``body`` for requests, ``response.body`` for responses):

- JSON: ``body.Message.toRecipients[1].emailAddress.address``; keys that are not plain words are
  quoted: ``body.Message["@odata.type"]``; a change of the whole document is at ``body``.
  Lists of recipients, attachments and internet message headers are compared by their items' ids
  (``toRecipients[address=bob@contoso.com].emailAddress.name``: ``diffing.keyed``) where the contract
  knows the body's type; other lists position by position (deepdiff's ``zip_ordered_iterables``): a
  reordered list is a change at every index whose item differs, a longer list has its extra items
  ``added`` at the end, a shorter one has them ``removed``. Cosmetic deviations (enum case, a redundant
  ``@odata.type``) are marked (``diffing.cosmetic``).
  Strings longer than ``BIG_STRING`` characters (``contentBytes``) are compared by sha256 and shown as
  ``'<4000000 chars, sha256 1a2b3c4d5e6f7a8b>'``; multi-line strings are compared line by line.
- Text: ``body.text`` when both sides are one line, else ``body.text.line[N]`` with N counted from 1
  like an editor does (the recorded line for changed and removed lines, the actual line for added ones).
- Binary: ``body.size`` and ``body.sha256``.
- MIME: see ``diffing.mime``.
- Bodies of different kinds (JSON vs MIME, text vs nothing): one deviation at the prefix.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from deepdiff import DeepDiff

from graphtape.bodies import kinds as bodies
from graphtape.contract.shapes import Slot
from graphtape.diffing.cosmetic import mark_json
from graphtape.diffing.keyed import keyed_pair
from graphtape.diffing.mime import MimeView, diff_mime, mime_view, read_mime
from graphtape.diffing.paths import json_path
from graphtape.diffing.text import diff_text, digest_bytes, digest_text, sha256_short
from graphtape.model import Deviation, HttpRequest

BIG_STRING = 64 * 1024  # JSON strings above this many characters are compared by hash

BodyKind = Literal["empty", "json", "mime", "text", "binary"]

_ADDED = ("dictionary_item_added", "iterable_item_added", "attribute_added", "set_item_added")
_REMOVED = ("dictionary_item_removed", "iterable_item_removed", "attribute_removed", "set_item_removed")


@dataclass(frozen=True)
class Body:
    kind: BodyKind
    raw: bytes
    value: Any = None  # parsed JSON, a MimeView, or a str

    def summary(self) -> Any:
        """What a deviation shows for this whole body."""
        if self.kind == "json":
            try:
                return shrink(self.value)
            except RecursionError:  # absurdly deep JSON
                return digest_bytes(self.raw)
        if self.kind == "mime":
            return f"<MIME message, {len(self.raw)} bytes>"
        if self.kind == "text":
            return self.value if len(self.value) <= BIG_STRING else digest_text(self.value)
        if self.kind == "binary":
            return digest_bytes(self.raw)
        return None


def read_body(content_type: str, raw: bytes, *, base64_mime: bool) -> Body:
    """Classify and parse a body; never raises (what does not parse is text or bytes).

    ``base64_mime``: a ``text/plain`` body holding base64 of an RFC 5322 message is MIME (requests).
    A ``message/rfc822`` body is MIME as it stands (responses of ``$value``).
    """
    return _read(content_type, raw, lambda: bodies.parse_json_body(raw),
                 (lambda: _base64_mime(raw)) if base64_mime else None)


def read_request_body(req: HttpRequest) -> Body:
    """``read_body`` of a request, from its parsed view: the JSON and MIME it parsed once for everyone."""
    return _read(req.content_type, req.body, lambda: req.json,
                 lambda: None if (message := req.mime_message) is None else mime_view(message))


def _base64_mime(raw: bytes) -> MimeView | None:
    decoded = bodies.decode_base64_mime(raw)
    return read_mime(decoded) if decoded is not None and bodies.looks_like_rfc5322(decoded) else None


def _read(content_type: str, raw: bytes, json_of: Callable[[], bodies.JsonBody],
          base64_mime_of: Callable[[], MimeView | None] | None) -> Body:
    if not raw:
        return Body("empty", raw)
    mt = bodies.media_type(content_type)
    if bodies.is_json_type(content_type) or (not mt and raw.lstrip()[:1] in (b"{", b"[")):
        parsed = json_of()
        if parsed.ok:
            return Body("json", raw, parsed.value)
    if base64_mime_of is not None and bodies.is_mime_upload_type(content_type):
        view = base64_mime_of()
        if view is not None:
            return Body("mime", raw, view)
    if mt == "message/rfc822" and bodies.looks_like_rfc5322(raw):
        view = read_mime(raw)
        if view is not None:
            return Body("mime", raw, view)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return Body("binary", raw)
    return Body("text", raw, text) if "\x00" not in text else Body("binary", raw)


def diff_bodies(prefix: str, mime_prefix: str, recorded: Body, actual: Body,
                slot: Slot | None = None) -> list[Deviation]:
    """Deviations between two bodies; anything that fails to compare is compared as bytes. ``slot``: the type of
    a JSON body (``contract.shapes.request_slot``), for keyed lists and cosmetic deviations; None: plain JSON."""
    if recorded.raw == actual.raw:
        return []
    if recorded.kind != actual.kind:
        if recorded.kind == "empty":
            return [Deviation(prefix, "added", None, actual.summary())]
        if actual.kind == "empty":
            return [Deviation(prefix, "removed", recorded.summary(), None)]
        return [Deviation(prefix, "changed", recorded.summary(), actual.summary())]
    try:
        if recorded.kind == "json":
            return diff_json(prefix, recorded.value, actual.value, slot)
        if recorded.kind == "mime":
            return diff_mime(mime_prefix, recorded.value, actual.value)
        if recorded.kind == "text":
            return diff_text(f"{prefix}.text", recorded.value, actual.value)
    except Exception:  # deepdiff or email on hostile input: bytes still tell the story
        pass
    return diff_bytes(prefix, recorded.raw, actual.raw)


def diff_bytes(prefix: str, recorded: bytes, actual: bytes) -> list[Deviation]:
    out = []
    if len(recorded) != len(actual):
        out.append(Deviation(f"{prefix}.size", "changed", len(recorded), len(actual)))
    a, b = sha256_short(recorded), sha256_short(actual)
    if a != b:
        out.append(Deviation(f"{prefix}.sha256", "changed", a, b))
    return out


def shrink(value: Any) -> Any:
    """A copy of a JSON value with every string longer than BIG_STRING replaced by its digest."""
    if isinstance(value, str):
        return digest_text(value) if len(value) > BIG_STRING else value
    if isinstance(value, dict):
        return {k: shrink(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shrink(v) for v in value]
    return value


def _sort_key(keys: list[Any]) -> tuple[tuple[int, Any], ...]:
    return tuple((0, k) if isinstance(k, int) else (1, str(k)) for k in keys)


def canonical_json(value: Any) -> str | None:
    """One text per JSON value: keys sorted, ``1``, ``1.0`` and ``true`` told apart; None if it cannot be written."""
    try:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    except (ValueError, TypeError, RecursionError):
        return None


def diff_json(prefix: str, recorded: Any, actual: Any, slot: Slot | None = None) -> list[Deviation]:
    """Structural deviations between two JSON values, in path order; ``slot`` as for ``diff_bodies``.

    Values with the same canonical text have no deviation (the same keys, items, types and values;
    NaN equals NaN, as ``ignore_nan_inequality`` says): that is found in C, without deepdiff's walk,
    which costs ~0.5 ms for a small message. Anything else goes through deepdiff.
    """
    a, b = keyed_pair(shrink(recorded), shrink(actual), slot)
    same = canonical_json(a)
    if same is not None and same == canonical_json(b):
        return []
    return _deepdiff(prefix, a, b, slot)


def _deepdiff(prefix: str, a: Any, b: Any, slot: Slot | None = None) -> list[Deviation]:
    tree = DeepDiff(
        a,
        b,
        view="tree",
        zip_ordered_iterables=True,  # lists by position, whatever their items are
        threshold_to_diff_deeper=0,  # always name the keys, never "the whole object changed"
        ignore_nan_inequality=True,
    )
    found: list[tuple[tuple[tuple[int, Any], ...], list[Deviation]]] = []
    for report_type, levels in tree.items():
        for level in levels:
            keys = level.path(output_format="list")
            path = json_path(prefix, keys)
            if report_type in _ADDED:
                devs = [Deviation(path, "added", None, level.t2)]
            elif report_type in _REMOVED:
                devs = [Deviation(path, "removed", level.t1, None)]
            elif isinstance(level.t1, str) and isinstance(level.t2, str) and "\n" in level.t1 + level.t2:
                devs = diff_text(path, level.t1, level.t2)
            else:
                devs = [Deviation(path, "changed", level.t1, level.t2)]
            found.append((_sort_key(keys), mark_json(slot, keys, devs)))
    found.sort(key=lambda item: item[0])
    return [d for _, devs in found for d in devs]
