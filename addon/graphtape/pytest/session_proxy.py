"""The plugin's proxy for the whole pytest session: started once, its variables in the environment throughout.

Clients built at import time or in a session-scoped fixture read ``HTTPS_PROXY`` and the CA variables once,
when they are built; per-test variables would come too late for them. So the proxy and its variables are
in place for the whole session:

* before the test modules are imported when the run is configured for graphtape (a ``--graphtape-*``
  option, or a ``graphtape_*`` setting in the ini file), else
* once collection found a marked test (or one using the ``graphtape`` fixture); started early and none was
  found, it stops and the environment is put back.

Entries of ``NO_PROXY``/``no_proxy`` that would send Graph or sign-in calls around it are removed (and said,
on stderr). While no cassette is in use, a Graph call is answered 403 ``graphtape.NoCassette`` (guard.py)
and fails what was running: the phase of the test it came in (an unmarked test, or a fixture of wider scope
set up before a marked test's cassette), or the whole session when no test was running (at import, after the
last test) with a section in the terminal summary.

A process that ran the proxy freezes the garbage collector as it exits (``gc.freeze`` at exit, once pytest is done
and the proxy stopped): the final collections of the interpreter's shutdown would otherwise walk every object
mitmproxy and graphtape made, ~0.27 s a process here (0.025 s frozen), paid again by each xdist worker. Objects
are still freed by their reference counts, and ``atexit`` and ``weakref.finalize`` callbacks all run.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import sys
import tempfile
from collections.abc import Callable, Generator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from graphtape.pytest.outside import AFTER_TESTS, StrayCall, Where, between, outside_cassette, stray_report, unmarked

if TYPE_CHECKING:
    from graphtape.proxy.inprocess import ProxyThread
    from graphtape.pytest.guard import NoCassetteGuard


def uses_graphtape(item: pytest.Item) -> bool:
    """Whether a test is served from a cassette: marked, or using the ``graphtape`` fixture."""
    return item.get_closest_marker("graphtape") is not None or "graphtape" in getattr(item, "fixturenames", ())


def configured_for_graphtape(config: pytest.Config) -> bool:
    """A ``--graphtape-*`` option given, or a ``graphtape_*`` setting in the ini file: start before collection."""
    if any(str(key).startswith("graphtape_") for key in config.inicfg):
        return True
    return any(name.startswith("graphtape_") and value is not None for name, value in vars(config.option).items())


def temp_folder(config: pytest.Config, name: str) -> Path:
    """A folder under pytest's temporary directory (per xdist worker), as ``tmp_path_factory`` makes them."""
    factory = getattr(config, "_tmp_path_factory", None)  # what the tmp_path_factory fixture returns
    if isinstance(factory, pytest.TempPathFactory):
        return factory.mktemp(name)
    return Path(tempfile.mkdtemp(prefix=f"{name}-"))


class SessionProxy:
    """Registered as a plugin by ``pytest_configure``; ``ensure()`` gives the running proxy (starting it)."""

    def __init__(self, config: pytest.Config, start: Callable[[], ProxyThread]):
        self.config = config
        self._start_proxy = start  # builds and starts the proxy; raises cli.ProxyFailed
        self.proxy: ProxyThread | None = None
        self.guard: NoCassetteGuard | None = None
        self.error = ""  # why the proxy could not start: each marked test fails with it
        self.outside: list[StrayCall] = []  # calls while no test ran: they fail the session
        self._pending: list[StrayCall] = []  # taken from the guard, not yet given to a report
        self._env = pytest.MonkeyPatch()
        self._ran = False  # a proxy was started in this process: gc.freeze at exit

    # ------------------------------------------------------------------ the proxy and its environment

    def ensure(self) -> ProxyThread:
        """The session's proxy, started (and its variables set) if it was not; raises cli.ProxyFailed."""
        from graphtape.proxy.runtime import ProxyFailed

        if self.proxy is None and not self.error:
            try:
                self._start()
            except ProxyFailed as e:
                self.error = str(e)
        if self.proxy is None:
            raise ProxyFailed(self.error)
        return self.proxy

    def _start(self) -> None:
        from graphtape.proxyenv import no_proxy_changes, no_proxy_notice
        from graphtape.pytest.guard import NoCassetteGuard

        proxy = self._start_proxy()
        guard = NoCassetteGuard()
        assert proxy.master is not None
        master = proxy.master
        proxy.call(lambda: master.addons.add(guard))
        self.proxy, self.guard = proxy, guard
        self._ran = True
        for key, value in proxy.env().items():
            self._env.setenv(key, value)
        changes, removed = no_proxy_changes(os.environ)
        for name, kept in changes.items():
            if kept is None:
                self._env.delenv(name)
            else:
                self._env.setenv(name, kept)
        if removed:
            self._say(no_proxy_notice(changes, removed))

    def _say(self, line: str) -> None:
        """One line on the real stderr, whatever pytest is capturing."""
        capman = self.config.pluginmanager.getplugin("capturemanager")
        if capman is None:
            print(line, file=sys.stderr, flush=True)
            return
        with capman.global_and_fixture_disabled():
            print(line, file=sys.stderr, flush=True)

    def stop(self) -> None:
        """Stop the proxy and put the environment back; the calls it noted stay to be reported. Safe twice."""
        if self.proxy is None:
            return
        self._collect()
        self.outside.extend(self._pending)
        self._pending = []
        proxy, self.proxy, self.guard = self.proxy, None, None
        try:
            proxy.stop()
        finally:
            self._env.undo()

    # ------------------------------------------------------------------ where the run is

    def cassette_in_use(self, item: pytest.Item, in_use: bool) -> None:
        """The plugin's fixture around a marked test's cassette: the guard steps aside while it is in use."""
        self._set(None if in_use else outside_cassette(item.nodeid))

    def _set(self, where: Where | None) -> None:
        if self.guard is not None:
            self.guard.where = where

    def _collect(self) -> None:
        if self.guard is not None:
            self._pending.extend(self.guard.take())

    def _take(self, nodeid: str) -> list[StrayCall]:
        """The calls noted since the last look that came during ``nodeid``; the others go to the session's."""
        self._collect()
        mine = [call for call in self._pending if call.where.nodeid == nodeid]
        self.outside.extend(call for call in self._pending if call.where.nodeid != nodeid)
        self._pending = []
        return mine

    # ------------------------------------------------------------------ hooks

    def pytest_collectstart(self, collector: pytest.Collector) -> None:
        if isinstance(collector, pytest.Session) and configured_for_graphtape(self.config):
            self.ensure_quietly()

    def ensure_quietly(self) -> None:
        """Start now if possible; a failure to start is kept for the marked tests to fail with."""
        from graphtape.proxy.runtime import ProxyFailed

        with contextlib.suppress(ProxyFailed):
            self.ensure()

    @pytest.hookimpl(trylast=True)  # after -k, -m and the other plugins have deselected
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        if any(uses_graphtape(item) for item in items):
            self.ensure_quietly()
        else:
            self.stop()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Generator[None, object, object]:
        self._take("")  # anything before this test: outside any test
        self._set(outside_cassette(item.nodeid) if uses_graphtape(item) else unmarked(item.nodeid))
        try:
            return (yield)
        finally:
            self._set(between(item.nodeid))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        calls = self._take(item.nodeid)
        if calls:
            fail_report(report, stray_report(calls))
        return report

    @pytest.hookimpl(trylast=True)  # after the session's fixtures are torn down (runner's sessionfinish)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self._set(Where(AFTER_TESTS))
        self.stop()
        if self.outside and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.outside:
            return
        terminalreporter.write_sep("=", "graphtape: Microsoft Graph calls outside any test", red=True)
        for line in stray_report(self.outside).splitlines():
            terminalreporter.write_line(line)

    def pytest_unconfigure(self) -> None:
        self.stop()
        if self._ran:
            atexit.register(gc.freeze)  # runs first (last registered): see the module's docstring


def fail_report(report: pytest.TestReport, text: str) -> None:
    """Make a phase's report fail with ``text`` (a failing one keeps its failure and gets a section)."""
    if report.failed:
        report.sections.append(("graphtape", text))
        return
    report.outcome = "failed"
    report.longrepr = text
    if hasattr(report, "wasxfail"):
        del report.wasxfail
