"""graphtape's proxy on a background thread of this process: started once, switched from cassette to cassette.

The pytest plugin keeps one per test process; benchmarks and other tools can drive it directly::

    proxy = ProxyThread(confdir=Path("/tmp/gt-conf")).start()
    proxy.switch("replay", "cassettes/seeds/send-draft.yaml")  # returns the session that ended (idle here)
    ...                                                        # clients use proxy.env (HTTPS_PROXY, CA bundle)
    session = proxy.idle()                                     # the cassette's session; the proxy now refuses all
    proxy.stop()

mitmproxy's DumpMaster and the GraphTape addon live on the thread's own asyncio loop; every change of
options runs on that loop (``call``). Between cassettes the proxy replays an empty cassette: offline, every
request answered 404, nothing sent to the network.

Before it switches or stops, a recording proxy waits (``$GRAPHTAPE_STOP_WAIT_SECONDS`` at most, as
``graphtape record`` does when it stops) for the calls in flight to be answered and recorded; a call that comes
meanwhile is refused (503, not sent), one still unanswered after it is counted not recorded (see inflight.py).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import shutil
import tempfile
import threading
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from graphtape.cassette.atomicfile import atomic_write
from graphtape.cassette.format import new_meta, render
from graphtape.cli import ProxyFailed, ca_bundle, client_env
from graphtape.model import Mode
from graphtape.proxy.inflight import stop_wait_seconds
from graphtape.session.exchanges import Session

if TYPE_CHECKING:
    from mitmproxy.master import Master

    from graphtape.proxy.addon import GraphTape

T = TypeVar("T")

SWITCH_MODES = (Mode.REPLAY, Mode.RECORD)  # what a cassette is switched to (inspect and off need none)
# Options one cassette may set; each switch puts back the ones it does not name.
TAPE_DEFAULTS: dict[str, Any] = {
    "graphtape_record_mode": "overwrite",
    "graphtape_allow_repeats": False,
    "graphtape_ignore": [],
}


class ProxyThread:
    """mitmproxy + GraphTape on a daemon thread; ``start()``, ``switch(mode, cassette)``, ``idle()``, ``stop()``."""

    def __init__(self, confdir: Path, *, upstream: str = "", upstream_ca: str = "", host: str = "127.0.0.1",
                 port: int = 0, timeout: float = 30.0, stop_wait: float | None = None):
        self.confdir = Path(confdir).expanduser()
        self.upstream = upstream
        self.upstream_ca = upstream_ca
        self.host = host
        self.port = port
        self.timeout = timeout
        self.stop_wait = stop_wait_seconds() if stop_wait is None else stop_wait  # a bad value: refused now
        self.loop: asyncio.AbstractEventLoop | None = None
        self.master: Master | None = None
        self.addon: GraphTape | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._env: dict[str, str] = {}
        self._workdir = Path(tempfile.mkdtemp(prefix="graphtape-proxy-"))
        self.idle_cassette = self._workdir / "idle.yaml"
        atomic_write(self.idle_cassette, render(new_meta(), []))

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> ProxyThread:
        """Start the proxy and wait until it listens; raises ProxyFailed (with mitmproxy's reason) if it cannot."""
        with warnings.catch_warnings():  # mitmproxy's imports warn about pyparsing's renames: not the tests' business
            warnings.simplefilter("ignore", DeprecationWarning)
            import mitmproxy.tools.dump  # noqa: F401

            import graphtape.proxy.addon  # noqa: F401
        self._thread = threading.Thread(target=self._main, name="graphtape-proxy", daemon=True)
        self._thread.start()
        if not self._ready.wait(self.timeout):
            raise ProxyFailed(f"graphtape: the in-process proxy did not start within {self.timeout:.0f} s")
        if self._error is not None or self.addon is None or self.addon.listen is None:
            self._cleanup()
            reason = f": {self._error}" if self._error is not None else " (see the log above)"
            raise ProxyFailed(f"graphtape: the in-process proxy could not start{reason}")
        self.port = self.addon.listen[1]
        ca, bundle = ca_bundle(str(self.confdir))
        self._env = client_env(self.url, ca, bundle)
        return self

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        self.loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as e:  # SystemExit from mitmproxy's startup check included
            self._error = self._error or e
        finally:
            self._ready.set()
            loop.close()

    def _options(self) -> dict[str, Any]:
        opts: dict[str, Any] = {
            "listen_host": self.host,
            "listen_port": self.port,
            "confdir": str(self.confdir),
            "mode": ["regular"],
            "connection_strategy": "lazy",
        }
        if self.upstream_ca:
            opts["ssl_verify_upstream_trusted_ca"] = self.upstream_ca
        return opts

    async def _serve(self) -> None:
        from mitmproxy import exceptions, options
        from mitmproxy.tools.dump import DumpMaster

        from graphtape.cli import _quiet_cancelled_connections
        from graphtape.proxy.addon import GraphTape

        _quiet_cancelled_connections()
        opts = options.Options()
        master = DumpMaster(opts, with_termlog=False, with_dumper=False)
        addon = GraphTape()
        master.addons.add(addon)
        try:
            opts.update(**self._options())
            opts.update(graphtape_mode=Mode.REPLAY.value, graphtape_cassette=str(self.idle_cassette),
                        graphtape_upstream=self.upstream, **TAPE_DEFAULTS)
        except exceptions.OptionsError as e:
            self._error = ProxyFailed(str(e))
            return
        self.master, self.addon = master, addon
        task = asyncio.create_task(master.run())
        while addon.listen is None and not task.done():
            await asyncio.sleep(0.01)
        self._ready.set()
        await task

    def stop(self) -> Session:
        """Shut the proxy down; returns the session that was running. Safe to call twice."""
        session = Session(mode=Mode.OFF)
        if self.master is not None and self.alive:
            self._drain()
            session = self.call(self._shutdown)
        if self._thread is not None:
            self._thread.join(self.timeout)
        self._cleanup()
        return session

    def _shutdown(self) -> Session:
        assert self.addon is not None and self.master is not None
        session = self.addon.current_session()
        self.master.options.update(graphtape_mode="off")  # no end-of-session summary for the idle tape
        self.master.shutdown()
        return session

    def _cleanup(self) -> None:
        shutil.rmtree(self._workdir, ignore_errors=True)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # ------------------------------------------------------------------ switching

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the proxy's loop thread and return its result (or raise its exception)."""
        if self.loop is None or not self.alive:
            raise ProxyFailed("graphtape: the in-process proxy is not running (did it stop or fail to start?)")
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(fn())
            except BaseException as e:
                future.set_exception(e)

        self.loop.call_soon_threadsafe(run)
        return future.result(self.timeout)

    def switch(self, mode: Mode | str, cassette: str | Path, **options: Any) -> Session:
        """Serve ``cassette`` from now on (``mode`` replay or record) and return the session that ended.

        ``options`` are further ``graphtape_*`` options for this cassette (e.g. ``graphtape_ignore``); those in
        ``TAPE_DEFAULTS`` not given are reset. Record overwrites ``cassette`` unless told otherwise. A cassette
        that cannot be opened raises ProxyFailed, and the proxy keeps (a fresh session of) the previous one.
        """
        if mode not in SWITCH_MODES:
            raise ValueError(f"graphtape: switch to replay or record, not {mode!r}")
        unknown = sorted(k for k in options if not k.startswith("graphtape_"))
        if unknown:
            raise ValueError(f"graphtape: switch takes graphtape_* options only, not {', '.join(unknown)}")
        wanted = {**TAPE_DEFAULTS, **options, "graphtape_mode": Mode(mode).value,
                  "graphtape_cassette": str(cassette)}
        self._drain()
        return self.call(lambda: self._apply(wanted))

    def _drain(self) -> None:
        """Record: wait, ``stop_wait`` seconds at most, for the calls in flight to be answered and recorded."""
        if self.loop is None or self.addon is None or not self.alive:
            raise ProxyFailed("graphtape: the in-process proxy is not running (did it stop or fail to start?)")
        addon = self.addon

        async def drain() -> None:
            if addon.mode == "record" and addon.inflight:
                await addon.drain(self.stop_wait)

        asyncio.run_coroutine_threadsafe(drain(), self.loop).result(self.stop_wait + self.timeout)

    def idle(self) -> Session:
        """Back to the empty cassette (every request refused, offline); returns the session that ended."""
        return self.switch(Mode.REPLAY, self.idle_cassette)

    def _apply(self, wanted: Mapping[str, Any]) -> Session:
        from mitmproxy import exceptions

        assert self.addon is not None and self.master is not None
        ended = self.addon.current_session()
        errors = _AddonErrors()
        logging.getLogger("mitmproxy.addonmanager").addHandler(errors)
        try:
            self.master.options.update(**wanted)
        except exceptions.OptionsError as e:
            raise ProxyFailed(str(e)) from None
        finally:
            logging.getLogger("mitmproxy.addonmanager").removeHandler(errors)
            self.addon.inflight.resume()  # the old recording is closed: the next cassette takes calls
        addon = self.addon
        ready = addon.replayer is not None if wanted["graphtape_mode"] == Mode.REPLAY else addon.recorder is not None
        if errors.messages or addon.mode != wanted["graphtape_mode"] or not ready:
            # mitmproxy logs (and swallows) errors in an addon's configure: never serve a half-set-up cassette
            reason = "; ".join(errors.messages) or "it is not set up (see the log)"
            if wanted["graphtape_cassette"] != str(self.idle_cassette):
                self._apply({**TAPE_DEFAULTS, "graphtape_mode": Mode.REPLAY.value,
                             "graphtape_cassette": str(self.idle_cassette)})
            raise ProxyFailed(f"graphtape: cannot {wanted['graphtape_mode']} {wanted['graphtape_cassette']}: "
                              f"{reason}")
        return ended

    def session(self) -> Session:
        """The running session, up to date (its exchanges list is live: copy what you keep)."""
        return self.call(lambda: self._current())

    def _current(self) -> Session:
        assert self.addon is not None
        return self.addon.current_session()

    # ------------------------------------------------------------------ for clients

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ca(self) -> Path:
        return self.confdir / "mitmproxy-ca-cert.pem"

    def env(self) -> dict[str, str]:
        """HTTPS_PROXY, SSL_CERT_FILE and friends: what puts Python, curl and Node clients behind this proxy."""
        return dict(self._env)


class _AddonErrors(logging.Handler):
    """Collects the errors mitmproxy logs instead of raising (an addon hook that failed)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())
