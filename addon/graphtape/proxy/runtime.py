"""The one way graphtape runs its proxy: mitmproxy's DumpMaster with the GraphTape addon, here or on a thread.

``graphtape record/replay/inspect/run`` run it in their own event loop::

    runtime = ProxyRuntime(options, log=True)
    host, port = await runtime.open()   # it listens (ProxyFailed, with mitmproxy's reason, if it cannot)
    ...                                 # runtime.stop_soon() from a signal handler: drain, then shut down
    await runtime.closed()              # its done hooks ran: the summary, the reports

The pytest plugin and the benchmark run it on a thread with a loop of its own (``inprocess.ProxyThread``)::

    runtime = ProxyRuntime(options).start()     # returns once it listens
    ended = runtime.switch("replay", "c.yaml")  # runs on the proxy's loop; returns the session that ended
    seen = runtime.snapshot()                   # a copy made on the loop: later requests do not change it
    final = runtime.stop()                      # drain, shut down, join the thread

Ready means listening, and nothing polls for it: GraphTape calls back (``on_listen``) from mitmproxy's ``running``
hook, where it prints its start line (startline.py, the same moment for a proxy in another process). A start
that fails (a port in use, a bad option) ends mitmproxy's run, and the errors it logged become the ProxyFailed.

Stopping and switching drain first: new calls are refused (503, not sent) and the record calls in flight are
waited for, ``$GRAPHTAPE_STOP_WAIT_SECONDS`` at most (inflight.py); a second ``stop_soon`` stops waiting.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import logging
import os
import sys
import threading
import warnings
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from graphtape import collector
from graphtape.model import Mode
from graphtape.proxy import dispatch, tapeswitch
from graphtape.proxy.inflight import stop_wait_seconds
from graphtape.proxy.startfail import HideInUse, start_failure
from graphtape.session.exchanges import Session

if TYPE_CHECKING:
    from mitmproxy.master import Master
    from mitmproxy.options import Options

    from graphtape.proxy.addon import GraphTape

T = TypeVar("T")

SWITCH_MODES = (Mode.REPLAY, Mode.RECORD, Mode.SIMULATE, Mode.NEW_EPISODES)  # what a test is switched to
# Options one cassette may set; each switch puts back the ones it does not name.
TAPE_DEFAULTS: dict[str, Any] = {
    "graphtape_record_mode": "overwrite",
    "graphtape_allow_repeats": False,
    "graphtape_ignore": [],
    "graphtape_faults": "",  # the marker's faults= (faults/marker.py)
    "graphtape_faults_seed": None,
    "graphtape_max_age": "", "graphtape_on_expiry": "",  # the marker's max_age=, on_expiry= (pytest/expiry.py)
    "graphtape_match_on": "",  # the marker's match_on= (pytest/matchon.py)
}


class ProxyFailed(Exception):
    """The proxy could not start, stopped, or could not take a cassette; the message says why."""


def snapshot_of(session: Session) -> Session:
    """A copy of ``session`` that no later request changes (findings and deviations are frozen already)."""
    exchanges = [dataclasses.replace(ex, findings=list(ex.findings), deviations=list(ex.deviations))
                 for ex in session.exchanges]
    return dataclasses.replace(session, exchanges=exchanges, unused=list(session.unused),
                               problems=list(session.problems), faults=copy.deepcopy(session.faults))


class ProxyRuntime:
    """mitmproxy + GraphTape with ``options`` (mitmproxy's and ``graphtape_*``). ``log``: mitmproxy's log and
    graphtape's per-request lines on stderr (stdout belongs to the command under ``graphtape run``)."""

    def __init__(self, options: Mapping[str, Any], *, log: bool = False, timeout: float = 30.0,
                 stop_wait: float | None = None):
        self.options = dict(options)
        self.log = log
        self.timeout = timeout  # thread mode: for starting, and for each call on the proxy's loop
        self.stop_wait = stop_wait_seconds() if stop_wait is None else stop_wait  # a bad value: refused now
        self.ready = threading.Event()  # set from the running hook, once the proxy listens
        self.address: tuple[str, int] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.master: Master | None = None
        self.addon: GraphTape | None = None
        self._listening: asyncio.Event | None = None
        self._startup_errors = _Errors()
        self._task: asyncio.Task[None] | None = None
        self._stopping: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None
        self._settled = threading.Event()  # thread mode: listening, or the run is over
        self._error: BaseException | None = None

    # ------------------------------------------------------------------ in this thread's event loop

    async def open(self) -> tuple[str, int]:
        """Build the proxy on the running loop, start it, and return its address once it listens."""
        with collector.starting():  # mitmproxy's master, its addons and the cassette live as long as the proxy
            self._build()  # before any await: a signal handler calling stop_soon finds the master
        assert self._listening is not None
        self._task = asyncio.create_task(self._run())
        listening = asyncio.create_task(self._listening.wait())
        await asyncio.wait({self._task, listening}, return_when=asyncio.FIRST_COMPLETED)
        listening.cancel()
        if self.address is None:
            await self._task  # raises what ended the run
            raise ProxyFailed("graphtape: the proxy stopped before it listened")
        return self.address

    async def closed(self) -> None:
        """Wait until the proxy has shut down."""
        if self._task is not None:
            await self._task

    async def serve(self) -> None:
        await self.open()
        await self.closed()

    def stop_soon(self) -> None:
        """On the proxy's loop (a signal handler): drain, then shut down; a second call stops waiting."""
        if self.addon is None:
            return
        if self._stopping is not None:
            self.addon.inflight.give_up()
            return
        self._stopping = asyncio.get_running_loop().create_task(self._drain_then_shutdown())

    async def _drain_then_shutdown(self) -> None:
        try:
            await self._drain()
        finally:
            self._master().shutdown()

    @property
    def failures(self) -> list[str]:
        """What failed the session, once the proxy is done (``--fail-on``)."""
        return list(self.addon.failures) if self.addon is not None else []

    def _build(self) -> None:
        from mitmproxy import exceptions, options

        _quiet_cancelled_connections()
        self.loop = asyncio.get_running_loop()
        self._listening = asyncio.Event()
        logging.getLogger().addHandler(self._startup_errors)  # what mitmproxy's errorcheck sees too, from now on
        try:
            self.master, self.addon = self._master_with_addon(options.Options())
        except BaseException as e:
            logging.getLogger().removeHandler(self._startup_errors)
            if isinstance(e, exceptions.OptionsError):
                raise ProxyFailed(str(e)) from None
            raise

    def _master_with_addon(self, opts: Options) -> tuple[Master, GraphTape]:
        from mitmproxy.addons import termlog
        from mitmproxy.tools.dump import DumpMaster

        from graphtape.proxy.addon import GraphTape

        master = DumpMaster(opts, with_termlog=False, with_dumper=False)
        dispatch.install(master)  # the same events to the same handlers, found in a table
        if self.log:
            logging.getLogger("graphtape").setLevel(logging.INFO)
            master._termlog_addon = termlog.TermLog(out=sys.stderr)  # uninstalled by the master when done
            master._termlog_addon.logger.addFilter(HideInUse())
            master.addons.add(master._termlog_addon)
        addon = GraphTape()
        addon.on_listen = self._on_listen
        master.addons.add(addon)
        mitm = {k: v for k, v in self.options.items() if not k.startswith("graphtape_")}
        ours = {k: v for k, v in self.options.items() if k.startswith("graphtape_")}
        opts.update(**mitm)  # first, so the cassette is opened with the final confdir and mode
        opts.update(**ours)
        return master, addon

    async def _run(self) -> None:
        try:
            await self._master().run()
        except SystemExit as e:  # mitmproxy's errorcheck: errors were logged while it started
            raise ProxyFailed(start_failure(self._startup_errors.messages, e.code)) from None
        finally:
            logging.getLogger().removeHandler(self._startup_errors)

    def _on_listen(self, host: str, port: int) -> None:
        """GraphTape's running hook, on the proxy's loop: it listens."""
        logging.getLogger().removeHandler(self._startup_errors)
        self.address = (host, port)
        self.ready.set()
        self._settled.set()
        if self._listening is not None:
            self._listening.set()

    async def _drain(self) -> None:
        await self._addon().drain(self.stop_wait)

    def _master(self) -> Master:
        if self.master is None:
            raise ProxyFailed("graphtape: the proxy is not running (did it stop or fail to start?)")
        return self.master

    def _addon(self) -> GraphTape:
        if self.addon is None:
            raise ProxyFailed("graphtape: the proxy is not running (did it stop or fail to start?)")
        return self.addon

    # ------------------------------------------------------------------ on a thread of its own

    def start(self) -> ProxyRuntime:
        """Run the proxy on a daemon thread with its own loop; return once it listens (ProxyFailed if it cannot)."""
        with warnings.catch_warnings(), collector.starting():  # mitmproxy's imports warn about pyparsing's renames
            warnings.simplefilter("ignore", DeprecationWarning)
            import mitmproxy.tools.dump  # noqa: F401

            import graphtape.proxy.addon  # noqa: F401
        self._thread = threading.Thread(target=self._thread_main, name="graphtape-proxy", daemon=True)
        self._thread.start()
        if not self._settled.wait(self.timeout):
            if self.master is not None:
                self.master.shutdown()
            raise ProxyFailed(f"graphtape: the in-process proxy did not start within {self.timeout:.0f} s")
        if self.address is None:
            self._thread.join(self.timeout)
            e = self._error
            raise ProxyFailed(str(e) if isinstance(e, ProxyFailed) else
                              f"graphtape: the in-process proxy could not start: {type(e).__name__}: {e}")
        return self

    def _thread_main(self) -> None:
        try:
            asyncio.run(self.serve())  # which cancels what mitmproxy left pending when its start failed
        except BaseException as e:  # ProxyFailed, or whatever else ended the run: start() reports it
            self._error = e
        finally:
            self._settled.set()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the proxy's loop and return its result (or raise its exception)."""
        async def run() -> T:
            return fn()

        return self._on_loop(run(), self.timeout)

    def _on_loop(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        if self.loop is None or not self.alive:
            coro.close()
            raise ProxyFailed("graphtape: the in-process proxy is not running (did it stop or fail to start?)")
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def snapshot(self) -> Session:
        """The running session as it is now, copied on the proxy's loop (replay: its unused interactions too)."""
        return self.call(lambda: snapshot_of(self._addon().current_session()))

    def switch(self, mode: Mode | str, cassette: str | os.PathLike[str], *, fallback: Mapping[str, Any] | None = None,
               **options: Any) -> Session:
        """Serve ``cassette`` from now on (``mode`` replay or record) and return a snapshot of the session that ended.

        ``options`` are further ``graphtape_*`` options for this cassette; those in ``TAPE_DEFAULTS`` not given are
        reset. A cassette that cannot be opened raises ProxyFailed, and mitmproxy's rollback reopens the previous
        one (a fresh session of it); if the addon was left half set up instead (an error mitmproxy only logged),
        ``fallback``'s options are applied.
        """
        if mode not in SWITCH_MODES:
            raise ValueError(f"graphtape: switch to replay, record, simulate or new_episodes, not {mode!r}")
        unknown = sorted(k for k in options if not k.startswith("graphtape_"))
        if unknown:
            raise ValueError(f"graphtape: switch takes graphtape_* options only, not {', '.join(unknown)}")
        wanted = {**TAPE_DEFAULTS, **options, "graphtape_mode": Mode(mode).value,
                  "graphtape_cassette": os.fspath(cassette)}
        return self._on_loop(self._switch(wanted, fallback), self.stop_wait + self.timeout)

    async def _switch(self, wanted: Mapping[str, Any], fallback: Mapping[str, Any] | None) -> Session:
        await self._drain()
        return self._apply(wanted, fallback)

    def _apply(self, wanted: Mapping[str, Any], fallback: Mapping[str, Any] | None) -> Session:
        from mitmproxy import exceptions

        addon, master = self._addon(), self._master()
        ended = snapshot_of(addon.current_session())
        errors = _Errors()
        logging.getLogger("mitmproxy.addonmanager").addHandler(errors)
        try:
            if tapeswitch.quick(wanted):  # only what a cassette is opened with: no configure round (tapeswitch.py)
                errors.messages += tapeswitch.swap(master.options, addon, wanted)
            else:
                master.options.update(**wanted)
        except exceptions.OptionsError as e:
            raise ProxyFailed(str(e)) from None
        finally:
            logging.getLogger("mitmproxy.addonmanager").removeHandler(errors)
            addon.inflight.resume()  # the old recording is closed: the next cassette takes calls
        if errors.messages or addon.mode != wanted["graphtape_mode"] or not addon.handler.opened:
            # mitmproxy logs (and swallows) errors in an addon's configure: never serve a half-set-up cassette
            if fallback is not None:
                self._apply({**TAPE_DEFAULTS, **fallback}, None)
            reason = "; ".join(errors.messages) or "it is not set up (see the log)"
            raise ProxyFailed(f"graphtape: cannot {wanted['graphtape_mode']} {wanted['graphtape_cassette']}: "
                              f"{reason}")
        return ended

    def stop(self, *, summary: bool = True) -> Session:
        """Drain, shut down and join the thread; returns a snapshot of the last session. Safe to call twice.
        ``summary=False``: no end-of-session summary (a proxy switched from cassette to cassette)."""
        session = Session(mode=Mode.OFF)
        if self.master is not None and self.alive:
            session = self._on_loop(self._last(summary), self.stop_wait + self.timeout)
        if self._thread is not None:
            self._thread.join(self.timeout)
        return session

    async def _last(self, summary: bool) -> Session:
        await self._drain()
        session = snapshot_of(self._addon().current_session())
        if not summary:
            self._master().options.update(graphtape_mode=Mode.OFF.value)
        self._master().shutdown()
        return session


class _Errors(logging.Handler):
    """Collects the errors mitmproxy logs instead of raising (a server that cannot bind, a failed addon hook)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _quiet_cancelled_connections() -> None:
    """At shutdown, asyncio reports client connections cancelled mid keep-alive; they are expected."""
    loop = asyncio.get_running_loop()

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if isinstance(context.get("exception"), asyncio.CancelledError):
            return
        loop.default_exception_handler(context)

    loop.set_exception_handler(handler)
