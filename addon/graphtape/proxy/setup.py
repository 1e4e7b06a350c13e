"""From options to a running mode: the settings every mode shares, and the one place a mode is chosen."""

from __future__ import annotations

import logging
from typing import Any

from mitmproxy import exceptions

from graphtape.bodies.limits import max_body_bytes
from graphtape.cassette.format import CassetteError
from graphtape.config import ConfigError
from graphtape.faults.stage import OPTIONS as FAULT_OPTIONS
from graphtape.faults.stage import injector_from
from graphtape.model import Mode
from graphtape.privacy.output import ScrubFilter, output_scrubber
from graphtape.privacy.redaction import Redactor
from graphtape.proxy.choices import check_choices
from graphtape.proxy.modes.base import ModeHandler, Shared
from graphtape.proxy.modes.episodes import NewEpisodesHandler
from graphtape.proxy.modes.inspect import InspectHandler
from graphtape.proxy.modes.off import OffHandler
from graphtape.proxy.modes.record import RecordHandler
from graphtape.proxy.modes.replay import ReplayHandler
from graphtape.proxy.modes.simulate import SimulateHandler
from graphtape.proxy.upstream import Upstream
from graphtape.session.exchanges import Session
from graphtape.session.verdict import parse_fail_on

LOG_SCRUB = ScrubFilter()  # every graphtape log line is scrubbed (secrets; fake identities with --pseudonymize)
logging.getLogger("graphtape").addFilter(LOG_SCRUB)

HANDLERS: dict[Mode, type[ModeHandler]] = {
    Mode.RECORD: RecordHandler, Mode.REPLAY: ReplayHandler, Mode.INSPECT: InspectHandler, Mode.OFF: OffHandler,
    Mode.SIMULATE: SimulateHandler,
    Mode.NEW_EPISODES: NewEpisodesHandler,
}


def reopens(updated: set[str], opts: Any) -> bool:
    """The update changes what the mode now set (``graphtape_mode``) is opened with."""
    return bool(updated & HANDLERS[Mode(opts.graphtape_mode)].opened_by)


def take_settings(shared: Shared, opts: Any, updated: set[str], running: ModeHandler) -> None:
    """The options that open nothing, checked (OptionsError) and taken; ``running`` goes on with them."""
    check_choices(opts, updated)
    try:
        max_body_bytes()  # a bad GRAPHTAPE_MAX_BODY_MB: refused at start, not in every request later
        if "graphtape_upstream" in updated or "graphtape_upstream_signin" in updated:
            shared.upstream = (Upstream(opts.graphtape_upstream, signin=opts.graphtape_upstream_signin)
                               if opts.graphtape_upstream else None)
        if "graphtape_policy" in updated:
            shared.policy = opts.graphtape_policy
        if "graphtape_fail_on" in updated:
            shared.fail_on = parse_fail_on(opts.graphtape_fail_on)
        if updated & FAULT_OPTIONS:
            shared.faults = injector_from(opts)
            running.session.faults = shared.faults.log if shared.faults is not None else None
    except ValueError as e:
        raise exceptions.OptionsError(str(e)) from e
    if "graphtape_redact_headers" in updated or "graphtape_redact_params" in updated:
        shared.redactor = Redactor.with_extra(opts.graphtape_redact_headers, opts.graphtape_redact_params)
        if running.recorder is not None:  # the recording goes on: from now on it redacts these too
            running.recorder.redactor = shared.redactor


def new_session(mode: Mode, cassette: str, shared: Shared) -> Session:
    faults = shared.faults.start() if shared.faults is not None else None  # a new session draws anew
    return Session(mode=mode, cassette=cassette, redact_url=shared.redactor.url, faults=faults)


def open_mode(mode: Mode, session: Session, shared: Shared) -> ModeHandler:
    """The mode ``mode`` set up for ``session`` (its cassette opened); every failure is an OptionsError."""
    chosen = HANDLERS[mode]
    cassette = session.cassette
    if chosen.needs_cassette and not cassette:
        raise exceptions.OptionsError(f"graphtape: {mode} needs a cassette (set graphtape_cassette)")
    try:
        handler = chosen.open(session, shared)
    except (ValueError, ConfigError) as e:
        raise exceptions.OptionsError(str(e)) from e
    except CassetteError as e:
        raise exceptions.OptionsError(f"graphtape: {e}") from e
    except OSError as e:
        raise exceptions.OptionsError(f"graphtape: cannot write {cassette}: {e.strerror or e}") from e
    except Exception as e:  # mitmproxy only logs other errors in configure: replay would run with no cassette
        raise exceptions.OptionsError(f"graphtape: cannot {mode} {cassette}: {type(e).__name__}: {e} "
                                      "(a graphtape bug, or a hand-edited cassette it failed to refuse "
                                      "properly: run 'graphtape check' on it)") from e
    pseudonymizer = handler.pseudonymizer
    shared.scrub = LOG_SCRUB.scrub = output_scrubber(pseudonymizer.text if pseudonymizer else None)
    session.redact_url = lambda url: shared.scrub(shared.redactor.url(url))
    return handler
