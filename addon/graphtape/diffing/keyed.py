"""Lists whose items have a natural id are diffed by that id, not by position.

In a JSON request body whose type the contract knows (``contract.shapes``), a list of

- ``recipient`` (toRecipients, ccRecipients, bccRecipients, replyTo, ...) is keyed by ``emailAddress.address``,
  without regard to letter case: ``body.message.toRecipients[address=bob@contoso.com].emailAddress.name``;
- ``attachment`` by ``name``: ``body.attachments[name=report.pdf].contentBytes``;
- ``internetMessageHeader`` by ``name``, without regard to case: ``body.internetMessageHeaders[name=x-ticket].value``.

In a MIME body an address header (``To``, ``Cc``, ``Bcc``, ``From``, ``Reply-To``...) is keyed by address:
``mime.header.To[address=carol@contoso.com]``. (MIME attachments are keyed by filename already: ``diffing.mime``.)

The same items in another order are no deviation: Graph gives no meaning to the order of recipients,
attachments or custom headers (it sends to, stores and returns them as sets). An item only one side has is one
``added``/``removed`` deviation at its key; a changed item has its changes below its key. The key is shown as
compared (lower case where case does not count). A list falls back to positions when an item lacks its key, two
items share one, or a key holds ``[``, ``]`` or a newline (it could not be told apart in a path) — on either side.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from email.headerregistry import AddressHeader, HeaderRegistry
from email.utils import getaddresses
from typing import Any

from graphtape.contract.shapes import Slot
from graphtape.diffing.paths import ItemKey
from graphtape.model import Deviation


@dataclass(frozen=True)
class KeyRule:
    label: str  # what the path calls the key: [address=...]
    path: tuple[str, ...]  # where the key is inside an item
    fold: bool  # letter case does not count


# By the type of the list's items (CSDL names).
KEYS: dict[str, KeyRule] = {
    "recipient": KeyRule("address", ("emailAddress", "address"), fold=True),
    "attachment": KeyRule("name", ("name",), fold=False),
    "internetMessageHeader": KeyRule("name", ("name",), fold=True),
}
_UNSHOWABLE = frozenset("[]\n\r")
_HEADERS = HeaderRegistry()  # the email package's header classes, by name


def item_key(rule: KeyRule, value: str) -> ItemKey | None:
    """The key an item with this id has; None if it is empty or cannot be shown in a path."""
    value = value.strip().lower() if rule.fold else value
    if not value or _UNSHOWABLE.intersection(value):
        return None
    return ItemKey(f"{rule.label}={value}")


def _key_of(item: Any, rule: KeyRule) -> ItemKey | None:
    value = item
    for step in rule.path:
        value = value.get(step) if isinstance(value, dict) else None
    return item_key(rule, value) if isinstance(value, str) else None


def _by_key(items: list[Any], rule: KeyRule) -> dict[ItemKey, Any] | None:
    out: dict[ItemKey, Any] = {}
    for item in items:
        key = _key_of(item, rule)
        if key is None or key in out:
            return None
        out[key] = item
    return out


def keyed_pair(recorded: Any, actual: Any, slot: Slot | None) -> tuple[Any, Any]:
    """Both JSON values with each keyed list both sides can key turned into a dict by ``ItemKey`` (in order).

    Only places with a slot are walked; what only one side has is left as it is (it is shown whole)."""
    if slot is None:
        return recorded, actual
    if isinstance(recorded, dict) and isinstance(actual, dict):
        return _pair_dicts(recorded, actual, slot)
    if isinstance(recorded, list) and isinstance(actual, list) and (item := slot.item()) is not None:
        rule = KEYS.get(slot.type)
        if rule is not None and (a := _by_key(recorded, rule)) is not None and (b := _by_key(actual, rule)) is not None:
            return _pair_dicts(a, b, None, item)
        pairs = [keyed_pair(x, y, item) for x, y in zip(recorded, actual, strict=False)]
        n = len(pairs)
        return [p[0] for p in pairs] + recorded[n:], [p[1] for p in pairs] + actual[n:]
    return recorded, actual


def _pair_dicts(recorded: dict[Any, Any], actual: dict[Any, Any], slot: Slot | None,
                every: Slot | None = None) -> tuple[dict[Any, Any], dict[Any, Any]]:
    """``every``: the slot of each value (a keyed list's items); else each key's own child slot of ``slot``."""
    a, b = dict(recorded), dict(actual)
    for key in recorded.keys() & actual.keys():
        child = every if every is not None else slot.child(key) if slot is not None and isinstance(key, str) else None
        if child is not None:
            a[key], b[key] = keyed_pair(recorded[key], actual[key], child)
    return a, b


def slot_at(root: Slot | None, keys: Sequence[Any]) -> Slot | None:
    """The slot at a deviation's keys (``["message", "toRecipients", ItemKey(...), "emailAddress"]``)."""
    slot = root
    for key in keys:
        if slot is None:
            return None
        slot = slot.item() if isinstance(key, (int, ItemKey)) else slot.child(str(key))
    return slot


def is_address_header(name: str) -> bool:
    """A MIME header holding addresses (To, Cc, From, Reply-To, Resent-To, ...), as the email package reads it."""
    try:
        return issubclass(_HEADERS[name], AddressHeader)
    except Exception:  # a name the registry cannot look up: not an address header
        return False


def diff_addresses(path: str, recorded: Sequence[str], actual: Sequence[str]) -> list[Deviation] | None:
    """An address header's deviations by address (``[address=...]``); None if either side cannot be keyed."""
    rule = KeyRule("address", (), fold=True)
    sides: list[dict[ItemKey, str]] = []
    for values in (recorded, actual):
        side: dict[ItemKey, str] = {}
        for value in values:
            (_, address), *more = getaddresses([value]) or [("", "")]
            key = item_key(rule, address) if not more else None
            if key is None or key in side:
                return None
            side[key] = value
        sides.append(side)
    a, b = sides
    out: list[Deviation] = []
    for key in [*a, *(k for k in b if k not in a)]:
        if key not in b:
            out.append(Deviation(f"{path}[{key}]", "removed", a[key], None))
        elif key not in a:
            out.append(Deviation(f"{path}[{key}]", "added", None, b[key]))
        elif a[key] != b[key]:
            out.append(Deviation(f"{path}[{key}]", "changed", a[key], b[key]))
    return out
