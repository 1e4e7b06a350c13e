"""Options with a fixed set of values, checked where mitmproxy does not.

mitmproxy checks an option's ``choices`` only on its own command-line flags: ``--set graphtape_mode=recrod``,
``options.update`` and mitmweb's options editor take any string, and a proxy started so would record nothing
(or, with ``graphtape_policy=enforced``, report instead of enforce). ``configure`` refuses such a value first.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Any

from mitmproxy import exceptions


def check_choices(options: Any, updated: Iterable[str], prefix: str = "graphtape_") -> None:
    """Raise OptionsError for the first updated ``prefix`` option whose value is not one of its choices."""
    declared = dict(options.items())
    for name in sorted(updated):
        option = declared.get(name)
        choices: Sequence[str] | None = getattr(option, "choices", None)
        if not name.startswith(prefix) or not choices:
            continue
        value = getattr(options, name)
        if value not in choices:
            raise exceptions.OptionsError(refusal(name, value, choices))


def refusal(name: str, value: object, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(str(value), list(choices), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return (f"graphtape: {name}={value!r} is not a valid value{hint} "
            f"(set it to one of: {', '.join(choices)})")
