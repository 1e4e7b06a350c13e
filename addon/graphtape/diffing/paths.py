"""How a deviation's path is written: ``body.Message.toRecipients[1]``, ``body.toRecipients[address=a@b.c]``.

It imports nothing of graphtape's, so that the contract (which words its batch findings with these paths) and the
differ (which the contract's shapes inform) both use it without importing each other.
"""

from __future__ import annotations

import json
import re
from typing import Any

_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_$@-]+$")


class ItemKey(str):
    """An item's key in a deviation's path: ``json_path`` writes it as ``[address=bob@contoso.com]``."""

    __slots__ = ()


def json_path(prefix: str, keys: list[Any]) -> str:
    """``["Message", "toRecipients", 1]`` -> ``body.Message.toRecipients[1]``; an ``ItemKey`` -> ``[address=a@b.c]``."""
    out = [prefix]
    for key in keys:
        if isinstance(key, (int, ItemKey)):
            out.append(f"[{key}]")
        elif isinstance(key, str) and _PLAIN_KEY.match(key):
            out.append(f".{key}")
        else:
            out.append("[" + json.dumps(str(key), ensure_ascii=False) + "]")
    return "".join(out)
