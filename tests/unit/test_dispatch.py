"""graphtape's addon manager (graphtape/proxy/dispatch.py) against mitmproxy's own: the same handlers, in the same
order, with the same errors logged, for any sequence of events and changes to the chain.

Two real mitmproxy masters side by side, one with mitmproxy's ``AddonManager`` and one with ``HookTable``, are given
the same addons and the same operations; what the addons saw and what mitmproxy logged must be the same.
"""

from __future__ import annotations

import asyncio
import logging
import types
from dataclasses import dataclass
from typing import Any, ClassVar

from hypothesis import given, settings
from hypothesis import strategies as st
from mitmproxy import addonmanager, exceptions, hooks, master, options
from mitmproxy.addons import default_addons
from mitmproxy.http import HTTPFlow
from mitmproxy.proxy.layers.http import HttpRequestHook, HttpResponseHook
from mitmproxy.test import tflow

from graphtape.proxy.dispatch import HookTable, install
from graphtape.proxy.runtime import _Errors  # collects what mitmproxy logs at ERROR

Log = list[str]


@dataclass
class CoroHook(hooks.Hook):
    """An event whose handlers are ``async def`` (Plain.coro)."""

    flow: HTTPFlow
    name: ClassVar[str] = "coro"


class Plain:
    """Answers ``request`` (and ``response``), and does what its behaviour says."""

    def __init__(self, name: str, log: Log, behaviour: str = "ok"):
        self.name, self.log, self.behaviour = name, log, behaviour

    def __repr__(self) -> str:  # in mitmproxy's messages: the same for both managers' copies
        return f"Plain({self.name})"

    def request(self, flow: HTTPFlow) -> Any:
        self.log.append(f"{self.name}.request")
        if self.behaviour == "raise":
            raise ValueError(f"{self.name} broke")
        if self.behaviour == "halt":
            raise exceptions.AddonHalt()
        if self.behaviour == "async":
            return self._later()
        return None

    async def coro(self, flow: HTTPFlow) -> None:  # an async handler: awaited by trigger_event, refused by trigger
        self.log.append(f"{self.name}.coro")

    async def _later(self) -> None:
        await asyncio.sleep(0)
        self.log.append(f"{self.name}.request-awaited")

    def response(self, flow: HTTPFlow) -> None:
        self.log.append(f"{self.name}.response")


class Deaf:
    """Has no handler for the events sent, and a module where a hook's name is (mitmproxy skips it)."""

    def __init__(self, name: str):
        self.name = name
        self.request = types.ModuleType("request")


class Container:
    """Holds sub-addons behind a property that returns a new list each time, as mitmproxy's Script does (and, like
    its script loader, may hold several)."""

    def __init__(self, name: str, log: Log, breaks: bool = False):
        self.name, self.log, self.breaks = name, log, breaks
        self.children: list[Any] = []

    @property
    def addons(self) -> list[Any]:
        return list(self.children)

    def request(self, flow: HTTPFlow) -> None:
        self.log.append(f"{self.name}.request")
        if self.breaks:
            raise ValueError(f"{self.name} broke")


def _master() -> master.Master:
    """A master on the running loop; ``_done`` takes its log handler away again (it holds the loop)."""
    return master.Master(options.Options())


def _done(m: master.Master) -> None:
    m._legacy_log_events.uninstall()


def _op(manager: addonmanager.AddonManager, log: Log, op: tuple[Any, ...], made: dict[str, Any]) -> Any:
    """Apply one operation; the addons it makes are kept in ``made`` by name (one set per manager)."""
    kind = op[0]
    if kind == "add":
        _, name, behaviour = op
        if name in made or manager.get(name) is not None:
            return None
        addon = (Container(name, log, behaviour == "container-raise") if behaviour.startswith("container")
                 else Deaf(name) if behaviour == "deaf" else Plain(name, log, behaviour))
        made[name] = addon
        manager.add(addon)
    elif kind == "remove":
        addon = made.pop(op[1], None)
        if addon is not None and addon in manager.chain:
            manager.remove(addon)
    elif kind == "child":  # a script loaded into a container: the chain's shape changes
        _, parent, child, behaviour = op
        holder = made.get(parent)
        if isinstance(holder, Container) and manager.get(child) is None and child not in made:
            sub = Plain(child, log, behaviour)
            manager.register(sub)
            holder.children.append(sub)
            made[child] = sub
    elif kind == "unload":  # a container's scripts unloaded
        holder = made.get(op[1])
        if isinstance(holder, Container):
            for sub in holder.children:
                manager.remove(sub)
                made.pop(sub.name, None)
            holder.children = []
    elif kind in ("event", "sync"):
        flow = tflow.tflow(resp=True)
        hook: hooks.Hook = {"request": HttpRequestHook, "response": HttpResponseHook, "coro": CoroHook}[op[1]](flow)
        if kind == "sync":  # mitmproxy's synchronous delivery (configure, log events)
            manager.trigger(hook)
            return None
        return manager.handle_lifecycle(hook)
    return None


async def _run(table: bool, ops: list[tuple[Any, ...]]) -> tuple[Log, list[str]]:
    """What the addons saw and what mitmproxy's addon manager logged, for ``ops`` on a fresh master."""
    log: Log = []
    m = _master()
    if table:
        install(m)
    manager = m.addons
    made: dict[str, Any] = {}
    errors = _Errors()
    logger = logging.getLogger("mitmproxy.addonmanager")
    logger.addHandler(errors)
    try:
        for op in ops:
            pending = _op(manager, log, op, made)
            if pending is not None:
                await pending
    finally:
        logger.removeHandler(errors)
        _done(m)
    return log, errors.messages


def _both(ops: list[tuple[Any, ...]]) -> tuple[tuple[Log, list[str]], tuple[Log, list[str]]]:
    async def both() -> tuple[tuple[Log, list[str]], tuple[Log, list[str]]]:
        return await _run(False, ops), await _run(True, ops)

    return asyncio.run(both())


NAMES = st.sampled_from(["a", "b", "c", "d", "e"])
BEHAVIOURS = st.sampled_from(["ok", "ok", "raise", "halt", "async", "deaf", "container", "container-raise"])
OPS = st.lists(st.one_of(
    st.tuples(st.just("add"), NAMES, BEHAVIOURS),
    st.tuples(st.just("remove"), NAMES),
    st.tuples(st.just("child"), NAMES, st.sampled_from(["x", "y", "z"]),
              st.sampled_from(["ok", "raise", "halt", "async"])),
    st.tuples(st.just("unload"), NAMES),
    st.tuples(st.sampled_from(["event", "sync"]), st.sampled_from(["request", "response", "coro"])),
), max_size=25)


@settings(max_examples=150, deadline=None)
@given(OPS)
def test_any_sequence_of_events_and_chain_changes_reaches_the_same_handlers_as_mitmproxys(
        ops: list[tuple[Any, ...]]) -> None:
    stock, table = _both(ops)
    assert table == stock


def test_errors_halts_and_awaited_results_as_mitmproxy_handles_them() -> None:
    ops: list[tuple[Any, ...]] = [
        ("add", "a", "ok"), ("add", "b", "raise"), ("add", "c", "async"), ("add", "p", "container"),
        ("child", "p", "x", "raise"), ("child", "p", "y", "ok"), ("add", "d", "deaf"), ("event", "request"),
        ("add", "e", "halt"), ("add", "f", "ok"), ("event", "request"),
        ("remove", "e"), ("event", "request"), ("event", "response"),
    ]
    stock, table = _both(ops)
    assert table == stock
    log, errors = table
    # b's error is logged and the rest go on; the container's own handler runs, its broken child's error is logged
    # and ends the container's handlers (y is not reached), as in mitmproxy; e's AddonHalt ends the event before f;
    # once e is removed, f is reached.
    first = ["a.request", "b.request", "c.request", "c.request-awaited", "p.request", "x.request"]
    assert log[:6] == first
    assert log[6:12] == first and log[12] == "e.request"
    assert log[13:20] == [*first, "f.request"]
    assert log[20:] == ["a.response", "b.response", "c.response", "x.response", "y.response", "f.response"]
    assert errors == ["Addon error: b broke", "Addon error: x broke"] * 3


def test_the_table_lists_the_handlers_mitmproxys_walk_finds_for_every_event_of_the_default_addons() -> None:
    def walk(manager: addonmanager.AddonManager, addon: Any, name: str) -> list[Any]:
        event = hooks.all_hooks[name].__new__(hooks.all_hooks[name])  # only its name is read
        return [f for _, f in manager._iter_hooks(addon, event)]

    async def compare() -> dict[str, tuple[list[Any], list[Any]]]:
        m = _master()
        m.addons.add(*default_addons())
        stock = {name: [f for a in m.addons.chain for f in walk(m.addons, a, name)] for name in hooks.all_hooks}
        install(m)
        table = m.addons
        assert isinstance(table, HookTable)
        found = {name: [f for a, fs in table._entries(name)
                        for f in (walk(table, a, name) if fs is None else [func for _, func in fs])]
                 for name in hooks.all_hooks}
        _done(m)
        return {name: (stock[name], found[name]) for name in hooks.all_hooks if stock[name] != found[name]}

    assert asyncio.run(compare()) == {}


def test_install_keeps_the_manager_and_what_is_connected_to_it() -> None:
    seen: list[set[str]] = []

    class Configured:
        def configure(self, updated: set[str]) -> None:
            seen.append(set(updated))

    async def go() -> None:
        m = _master()
        before = m.addons
        m.addons.add(Configured())
        install(m)
        assert m.addons is before and isinstance(m.addons, HookTable)
        m.options.update(listen_port=9999)  # the options' changed signal still reaches the manager
        _done(m)

    asyncio.run(go())
    assert {"listen_port"} in seen
