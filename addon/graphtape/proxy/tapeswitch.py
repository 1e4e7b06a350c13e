"""A cassette switch without mitmproxy's whole options round: the same options set, the same cassette opened.

``options.update`` deep-copies every option (for its rollback) and calls ``configure`` on each of the ~35 addons,
for a change only GraphTape reads: 2-3 ms of each switch, twice per test in the pytest plugin (the test's
cassette, then the idle one). When a switch names only the options a cassette is opened with (``SWITCH_KEYS``),
the runtime sets their values and has the addon open them, exactly as its ``configure`` would for that update;
a value not among its choices is refused before anything changes; a cassette that cannot be opened
(OptionsError) puts the values back and reopens the previous one (a fresh session
of it), as mitmproxy's rollback does; any other error is logged and handed back, as mitmproxy logs an addon's
error in ``configure`` and goes on (the runtime then falls back). Any other option goes through ``options.update``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mitmproxy import exceptions

from graphtape.proxy.choices import check_choices

if TYPE_CHECKING:
    from mitmproxy.options import Options

    from graphtape.proxy.addon import GraphTape

# What a switch may name to take the quick way: the cassette and mode, and the options read when it is opened.
SWITCH_KEYS = frozenset({"graphtape_mode", "graphtape_cassette", "graphtape_record_mode", "graphtape_allow_repeats",
                         "graphtape_ignore", "graphtape_max_age", "graphtape_on_expiry", "graphtape_match_on"})


def quick(wanted: Mapping[str, Any]) -> bool:
    return set(wanted) <= SWITCH_KEYS


def swap(options: Options, addon: GraphTape, wanted: Mapping[str, Any]) -> list[str]:
    """Set ``wanted`` and open the cassette it names; OptionsError (the previous values and cassette back) if it
    cannot; the errors ``configure`` would only have had logged, if any (empty: it is open)."""
    previous = {name: getattr(options, name) for name in wanted}
    _set(options, wanted)
    try:
        check_choices(options, wanted)
    except exceptions.OptionsError:  # refused before anything changed: what runs goes on (configure's refusal)
        _set(options, previous)
        raise
    try:
        addon.reopen()
    except exceptions.OptionsError:
        _set(options, previous)
        addon.reopen()  # if even that fails, the addon refuses every call (UnopenedHandler): the caller sees it
        raise
    except Exception as e:  # a bug: mitmproxy would log it and go on with the addon as it was left
        logging.getLogger("graphtape").error("graphtape: opening %s failed", wanted.get("graphtape_cassette"),
                                             exc_info=True)
        return [f"{type(e).__name__}: {e}"]
    return []


def _set(options: Options, values: Mapping[str, Any]) -> None:
    """The values, type-checked as ``options.update`` checks them, without its configure round."""
    declared = options.__dict__["_options"]  # mitmproxy's own option objects (12.2)
    for name, value in values.items():
        declared[name].set(value)  # TypeError for a value of the wrong type, as update gives
