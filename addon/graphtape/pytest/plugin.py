"""pytest plugin: ``@pytest.mark.graphtape`` serves each test its own cassette through a real proxy.

Registered through the ``pytest11`` entry point, so installing graphtape enables it. One proxy per test
process (per xdist worker), switched from cassette to cassette; HTTPS_PROXY and the CA variables point this
process and its subprocesses at it for the whole session, and Graph calls outside any cassette are refused
(session_proxy.py says when it starts and how those calls fail).

    @pytest.mark.graphtape                        # cassettes/<test module>/<test name>.yaml
    @pytest.mark.graphtape("send-mail.yaml", strict=True)
    def test_send(graphtape): ...

The heavy imports (mitmproxy, the diffing) wait for the proxy to start: unmarked runs pay nothing.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from graphtape.model import FailOn, Mode, PluginMode  # the vocabulary alone: loading the plugin stays cheap
from graphtape.proxy.clients import CLIENT_CA
from graphtape.pytest import workers
from graphtape.pytest.expiry import EXPIRY_ARGS, marker_expiry
from graphtape.pytest.matchon import MATCH_ON_ARGS, marker_match_on
from graphtape.pytest.options import add_options
from graphtape.pytest.session_proxy import SessionProxy, uses_graphtape
from graphtape.pytest.simulate import SIMULATE_ARGS, open_simulated, simulated
from graphtape.pytest.tape import Tape

if TYPE_CHECKING:
    from graphtape.proxy.inprocess import ProxyThread

MARKER_ARGS = ("cassette", "strict", "fail_on", "faults", *SIMULATE_ARGS, *EXPIRY_ARGS, *MATCH_ON_ARGS)


@dataclass(frozen=True)
class Settings:
    mode: PluginMode
    cassette_dir: Path
    upstream: str
    upstream_ca: str
    strict: bool
    confdir: str  # "" = a folder under pytest's temporary directory (one for all xdist workers: workers.py)
    client_ca: str = "bundle"  # what SSL_CERT_FILE and friends name (proxy/clients.py: CLIENT_CA)


SETTINGS = pytest.StashKey[Settings]()
TAPE = pytest.StashKey[Tape]()
SESSION = pytest.StashKey["SessionProxy"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def _setting(config: pytest.Config, name: str) -> tuple[Any, Path]:
    """The option's value and the folder a relative path in it is relative to (command line over ini)."""
    value = config.getoption(f"graphtape_{name}")
    if value is not None:
        return value, config.invocation_params.dir
    base = config.inipath.parent if config.inipath is not None else config.rootpath
    return config.getini(f"graphtape_{name}"), base


def _path(config: pytest.Config, name: str) -> Path | None:
    value, base = _setting(config, name)
    return (base / Path(value).expanduser()) if value else None


def _cassette_dir(config: pytest.Config) -> Path:
    configured = _path(config, "cassette_dir")
    if configured is not None:
        return configured
    from graphtape.config import ConfigError, load_project_config

    try:
        project = load_project_config(config.rootpath)
    except ConfigError as e:
        raise pytest.UsageError(str(e)) from None
    folder = project.raw.get("cassette_dir")
    if isinstance(folder, str) and folder and project.path is not None:
        return project.path.parent / folder
    return config.rootpath / "cassettes"


def settings_of(config: pytest.Config) -> Settings:
    mode = _setting(config, "mode")[0]
    if mode not in tuple(PluginMode):
        raise pytest.UsageError(f"graphtape: graphtape_mode = {mode!r}; choose {', '.join(PluginMode)}")
    upstream_ca, client_ca = _path(config, "upstream_ca"), _setting(config, "client_ca")[0]
    if client_ca not in CLIENT_CA:
        raise pytest.UsageError(f"graphtape: graphtape_client_ca = {client_ca!r}; choose {' or '.join(CLIENT_CA)}")
    confdir, base = _setting(config, "confdir")
    return Settings(mode=PluginMode(mode), cassette_dir=_cassette_dir(config), upstream=_setting(config, "upstream")[0],
                    upstream_ca=str(upstream_ca) if upstream_ca else "", strict=bool(_setting(config, "strict")[0]),
                    confdir=str(base / Path(confdir).expanduser()) if confdir else "", client_ca=client_ca)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "graphtape(cassette=None, *, strict=False, fail_on=None, faults=None, simulate=False, seed=None): serve "
        "this test's Graph traffic from a cassette through graphtape's proxy (default cassettes/<test module>/<test "
        "name>.yaml), or with simulate=True from a simulated mailbox; faults= injects faults (a file or a dict); "
        "max_age='90d', on_expiry='warn'|'fail': recordings older than that are expired; "
        "match_on=['method', 'url', 'body', 'headers:NAME']: what a request must share with a recording")
    config.stash[SETTINGS] = settings_of(config)
    config.stash[SESSION] = SessionProxy(config, lambda: _new_proxy(config))
    config.pluginmanager.register(config.stash[SESSION], "graphtape-session")
    workers.register(config, config.stash[SETTINGS].confdir)  # under xdist: one CA for all workers


def pytest_report_header(config: pytest.Config) -> str:
    from graphtape.pytest.support import report_header

    s = config.stash[SETTINGS]
    return report_header(s.mode, s.cassette_dir, upstream=s.upstream, strict=s.strict)


# --------------------------------------------------------------------------- fixtures


def _new_proxy(config: pytest.Config) -> ProxyThread:
    """This process's proxy, started; raises ProxyFailed. The session (pytest/session_proxy.py) keeps it."""
    from graphtape.proxy.inprocess import ProxyThread

    s = config.stash[SETTINGS]
    return ProxyThread(workers.confdir_for(config, s.confdir), upstream=s.upstream, upstream_ca=s.upstream_ca,
                       client_ca=s.client_ca).start()


@pytest.fixture(scope="session")
def graphtape_proxy(pytestconfig: pytest.Config) -> ProxyThread:
    """This process's proxy (one per xdist worker), running for the whole session once a test uses graphtape."""
    from graphtape.proxy.runtime import ProxyFailed

    try:
        return pytestconfig.stash[SESSION].ensure()
    except ProxyFailed as e:
        pytest.fail(str(e), pytrace=False)


@pytest.fixture(autouse=True)
def _graphtape_cassette(request: pytest.FixtureRequest) -> Iterator[Tape | None]:
    """Around a marked test (or one using ``graphtape``): its cassette on the proxy, the proxy in the env."""
    item = request.node
    if not uses_graphtape(item):
        yield None
        return
    proxy: ProxyThread = request.getfixturevalue("graphtape_proxy")
    session = item.config.stash[SESSION]
    session.cassette_in_use(item, True)
    tape = _open(item, proxy)
    item.stash[TAPE] = tape
    env = pytest.MonkeyPatch()
    for key, value in proxy.env().items():
        env.setenv(key, value)
    try:
        yield tape
    finally:
        try:
            session.cassette_in_use(item, False)
            _close(item, tape, proxy)
        finally:
            env.undo()


@pytest.fixture
def graphtape(_graphtape_cassette: Tape | None) -> Tape:
    """This test's cassette and proxy: ``url``, ``ca``, ``env``, ``requests``, ``calls()``, ``assert_all_played()``."""
    assert _graphtape_cassette is not None
    return _graphtape_cassette


def _marker_args(item: pytest.Item, settings: Settings) -> tuple[str, bool, frozenset[FailOn]]:
    """(cassette name or "", strict, what fails the test) from the closest ``graphtape`` marker."""
    from graphtape.session.verdict import fail_on_for, parse_fail_on

    marker = item.get_closest_marker("graphtape")
    args, kwargs = (marker.args, dict(marker.kwargs)) if marker is not None else ((), {})
    unknown = sorted(set(kwargs) - set(MARKER_ARGS))
    if unknown or len(args) > 1 or (args and "cassette" in kwargs):
        raise ValueError(f"graphtape: @pytest.mark.graphtape takes one cassette name and keywords "
                         f"{', '.join(k + '=' for k in MARKER_ARGS[1:])}; "
                         f"got args {args!r}, kwargs {sorted(kwargs)}")
    name = args[0] if args else kwargs.get("cassette") or ""
    if not isinstance(name, (str, os.PathLike)):
        raise ValueError(f"graphtape: the cassette name must be a string, not {name!r}")
    strict = bool(kwargs.get("strict", settings.strict))
    fail_on = parse_fail_on(kwargs["fail_on"]) if kwargs.get("fail_on") is not None else None
    return os.fspath(name), strict, fail_on_for(strict, fail_on)


def _open(item: pytest.Item, proxy: ProxyThread) -> Tape:
    """Put the test's cassette on the proxy; a test that cannot run gets a Tape with a refusal (proxy idle)."""
    from graphtape.cassette.paths import UnsafeCassettePath
    from graphtape.faults.marker import marker_faults
    from graphtape.proxy.runtime import ProxyFailed
    from graphtape.pytest.episodes import start_recording
    from graphtape.pytest.support import default_cassette_name, recording_path, resolve_cassette
    from graphtape.session.verdict import DEFAULT_FAIL_ON

    s = item.config.stash[SETTINGS]
    try:
        name, _, fail_on = _marker_args(item, s)
        faults = {**marker_faults(item), **marker_expiry(item), **marker_match_on(item)}  # this cassette's options
    except ValueError as e:
        return Tape(proxy, cassette=s.cassette_dir, mode=Mode.REPLAY, fail_on=DEFAULT_FAIL_ON, refusal=str(e))
    if simulated(item, s.mode):  # a simulated mailbox, no cassette (pytest/simulate.py)
        return open_simulated(item, proxy, fail_on, faults)
    cls = getattr(item, "cls", None)
    name = name or default_cassette_name(item.path.stem, item.name, cls.__name__ if cls else None)
    try:
        target = resolve_cassette(s.cassette_dir, name)
    except UnsafeCassettePath as e:
        return Tape(proxy, cassette=s.cassette_dir, mode=Mode.REPLAY, fail_on=fail_on, refusal=str(e))
    mode = Mode(s.mode.value) if s.mode != PluginMode.ONCE else (Mode.REPLAY if target.exists() else Mode.RECORD)
    tape = Tape(proxy, cassette=target, mode=mode, fail_on=fail_on)
    if mode == Mode.REPLAY and not target.exists():
        tape.refusal = (f"graphtape: no cassette {target} for {item.nodeid}; replay is offline and needs one. "
                        f"Record it: pytest --graphtape-mode=once {item.nodeid} (add --graphtape-upstream URL to "
                        "record against a stand-in instead of Microsoft Graph)")
        return tape
    try:
        if mode == Mode.REPLAY:
            proxy.switch(Mode.REPLAY, target, **faults)
            return tape
        tape.created_dirs = [p for p in (target.parent, *target.parent.parents) if not p.exists()]
        target.parent.mkdir(parents=True, exist_ok=True)
        tape.recording = recording_path(target, f"{os.getpid()}")
        start_recording(proxy, mode, target, tape.recording, **faults)  # new_episodes: a copy appended to
    except (ProxyFailed, OSError) as e:
        reason = str(e).removeprefix("graphtape: ").removeprefix(f"cannot {mode} {target}: ")
        tape.refusal = f"graphtape: cannot {mode} {target}: {reason.removeprefix('graphtape: ')}"
    return tape


def _close(item: pytest.Item, tape: Tape, proxy: ProxyThread) -> None:
    """Back to idle; keep a recording only if the test passed; fail on problems met during teardown."""
    from graphtape.faults.marker import fault_properties
    from graphtape.pytest.support import failure_message
    from graphtape.session.verdict import failures

    tape.final = session = proxy.idle()
    fault_properties(item, session)
    ran = "call" in tape.outcomes and not tape.refusal
    late = failures(session, tape.fail_on - {FailOn.UNUSED}, since=tape.checked, whole=False) if ran else []
    passed = ran and tape.outcomes.get("setup", False) and tape.outcomes["call"] and not late
    if tape.recording is not None:
        _keep_or_discard(tape, keep=passed)
    if late:
        pytest.fail(failure_message(session, late, tape.fail_on, cassette=tape.cassette, since=tape.checked)
                    + "\n(during the teardown of fixtures)", pytrace=False)


def _keep_or_discard(tape: Tape, *, keep: bool) -> None:
    assert tape.recording is not None
    from graphtape.cassette.journal import journal_path

    if keep and tape.recording.exists():
        os.replace(tape.recording, tape.cassette)
        if journal_path(tape.recording).exists():  # not folded on close (a full disk): it goes with its cassette
            os.replace(journal_path(tape.recording), journal_path(tape.cassette))
        return
    tape.recording.unlink(missing_ok=True)
    journal_path(tape.recording).unlink(missing_ok=True)
    for folder in tape.created_dirs:  # deepest first; only the ones this test made, only if empty
        try:
            folder.rmdir()
        except OSError:
            break


# --------------------------------------------------------------------------- verdicts


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    tape = item.stash.get(TAPE, None)
    if tape is None:
        return (yield)
    if tape.refusal:
        return (yield from _run_refused(item, tape))
    from graphtape.cassette.format import load_cassette
    from graphtape.pytest.support import failure_message
    from graphtape.session.verdict import failures

    try:
        result = yield
    except BaseException:
        session = tape.session
        tape.checked = (len(session.exchanges), len(session.problems))
        reasons = failures(session, tape.fail_on)
        if reasons:
            item.add_report_section("call", "graphtape", failure_message(session, reasons, tape.fail_on,
                                                                          cassette=tape.cassette))
        raise
    session = tape.session
    tape.checked = (len(session.exchanges), len(session.problems))
    reasons = failures(session, tape.fail_on)
    if reasons:
        recorded = load_cassette(tape.cassette).interactions if session.unused and tape.mode == Mode.REPLAY else ()
        pytest.fail(failure_message(session, reasons, tape.fail_on, cassette=tape.cassette, recorded=recorded),
                    pytrace=False)
    return result


def _run_refused(item: pytest.Item, tape: Tape) -> Generator[None, object, object]:
    """A test whose cassette cannot be served runs against the idle proxy (every call refused, offline).

    The refusal fails it once it made a call through the proxy, or when it passes; a skip or xfail before
    any call stays one, and a test failing on its own without a call keeps its own failure.
    """
    try:
        result = yield
    except (pytest.skip.Exception, pytest.xfail.Exception):
        if tape.session.exchanges:
            pytest.fail(tape.refusal, pytrace=False)
        raise
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:
        if tape.session.exchanges:
            pytest.fail(tape.refusal, pytrace=False)
        item.add_report_section("call", "graphtape", tape.refusal)
        raise
    pytest.fail(tape.refusal, pytrace=False)
    return result


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None],
                               ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    tape = item.stash.get(TAPE, None)
    if tape is not None:
        tape.outcomes[report.when] = report.passed
    return report
