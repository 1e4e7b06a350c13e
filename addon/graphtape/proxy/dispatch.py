"""mitmproxy's addon manager with a table of each event's handlers, for graphtape's own master (runtime.py).

mitmproxy delivers every event by walking its whole addon chain (~45 addons in a DumpMaster): for each addon a
coroutine, a ``safecall`` context manager and a generator over its sub-addons look the hook up by name, and a flow
event is delivered twice (the event, then ``update``); each log line is an ``add_log`` event walked the same way.
Measured with py-spy on ``make bench``'s replay, that walk is a quarter of the proxy's CPU, for ~3 addons that have
anything to do with a given event.

``HookTable`` (``trigger_event``, and ``trigger``, the synchronous one) calls the same handlers in the same order,
with the same error handling: an addon's exception is logged by mitmproxy's ``safecall`` and ends only that addon's
handlers (its sub-addons' included), ``AddonHalt`` ends the event, an awaitable result is awaited (``trigger``
refuses an async handler, as mitmproxy does). It finds them in a table, per event name, built on first use and
built again whenever the chain changes (``add``, ``remove``, ``register``, ``clear``, or ``chain`` replaced). An
addon that holds sub-addons (mitmproxy's script loader, ``addons`` attribute) is walked on every event as mitmproxy
walks it, since those change as scripts load: only addons without sub-addons are looked up once.

``install(master)`` switches a master's manager to this class in place (the same object, so what mitmproxy connected
to it, such as the options' ``changed`` signal, stays connected).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

from mitmproxy import addonmanager, exceptions, hooks

Handler = tuple[Any, Callable[..., Any]]  # the (sub-)addon and its handler
# One entry per top-level addon with something to do: its handlers, or None to walk it (sub-addons) on each event.
Entry = tuple[Any, tuple[Handler, ...] | None]


def _handlers(addon: Any, name: str) -> Iterator[Handler]:
    """``addon``'s handlers for event ``name``, its sub-addons' after its own, as mitmproxy's ``_iter_hooks`` finds
    them (a module of that name is not a handler; anything else not callable is refused)."""
    for a in addonmanager.traverse([addon]):
        func = getattr(a, name, None)
        if not func or inspect.ismodule(func):
            continue
        if not callable(func):
            raise exceptions.AddonManagerError(f"Addon handler {name} ({a}) not callable")
        yield a, func


class HookTable(addonmanager.AddonManager):
    """``AddonManager`` whose ``trigger_event`` and ``trigger`` read a table (module docstring). No state of its own
    in ``__init__``: ``install`` gives an existing manager this class."""

    _table: dict[str, tuple[Entry, ...]]
    _built_for: object = None  # the chain list the table was built for

    def _entries(self, name: str) -> tuple[Entry, ...]:
        if self._built_for is not self.chain:
            self._table, self._built_for = {}, self.chain
        entries = self._table.get(name)
        if entries is None:
            entries = self._table[name] = self._build(name)
        return entries

    def _build(self, name: str) -> tuple[Entry, ...]:
        entries: list[Entry] = []
        for addon in self.chain:
            if hasattr(addon, "addons"):
                entries.append((addon, None))
                continue
            try:
                found = tuple(_handlers(addon, name))
            except exceptions.AddonManagerError:  # raised again on each event, and logged there, as mitmproxy does
                entries.append((addon, None))
                continue
            if found:
                entries.append((addon, found))
        return tuple(entries)

    def _changed(self) -> None:
        self._built_for = None

    async def trigger_event(self, event: hooks.Hook) -> None:
        args = event.args()
        for addon, handlers in self._entries(event.name):
            try:
                with addonmanager.safecall():
                    for _, func in (handlers if handlers is not None else _handlers(addon, event.name)):
                        res = func(*args)
                        if res is not None and inspect.isawaitable(res):
                            await res
            except exceptions.AddonHalt:
                return

    def trigger(self, event: hooks.Hook) -> None:
        """The synchronous delivery (options' ``configure``, mitmproxy's log events): an async handler is refused,
        and that logged, as mitmproxy's ``invoke_addon_sync`` does."""
        args = event.args()
        for addon, handlers in self._entries(event.name):
            try:
                with addonmanager.safecall():
                    for a, func in (handlers if handlers is not None else _handlers(addon, event.name)):
                        if inspect.iscoroutinefunction(func):
                            raise exceptions.AddonManagerError(
                                f"Async handler {event.name} ({a}) cannot be called from sync context")
                        func(*args)
            except exceptions.AddonHalt:
                return

    # Every way mitmproxy changes the chain: the table is built again on the next event.
    def register(self, addon: Any) -> Any:
        try:
            return super().register(addon)
        finally:
            self._changed()

    def add(self, *addons: Any) -> None:
        try:
            super().add(*addons)
        finally:
            self._changed()

    def remove(self, addon: Any) -> None:
        try:
            super().remove(addon)
        finally:
            self._changed()

    def clear(self) -> None:
        try:
            super().clear()
        finally:
            self._changed()


def install(master: Any) -> None:
    """Give ``master``'s addon manager the table (the same object, its state and connections kept)."""
    manager = master.addons
    if type(manager) is addonmanager.AddonManager:
        manager.__class__ = HookTable
