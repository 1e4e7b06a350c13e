"""What every mode shows about an exchange: mitmweb's mark and comment on the flow, and the log lines."""

from __future__ import annotations

import logging

from mitmproxy import ctx, http

from graphtape.model import Outcome
from graphtape.session.exchanges import Exchange

logger = logging.getLogger("graphtape")


def mark_flow(flow: http.HTTPFlow, ex: Exchange) -> None:
    """Under mitmweb, flows with findings, deviations or a miss are marked and commented."""
    lines = [f.line() for f in ex.findings] + [f"deviation {d.line()}" for d in ex.deviations]
    if ex.outcome == Outcome.REJECTED and ex.findings:  # the note repeats the errors listed below
        lines.insert(0, f"graphtape {ex.outcome}: answered as Graph documents, not replayed")
    elif ex.interaction is None and ex.note:
        lines.insert(0, f"graphtape {ex.outcome}: {ex.note}")
    if not lines:
        return
    flow.marked = ":warning:" if ex.errors or ex.interaction is None else ":large_orange_diamond:"
    flow.comment = "\n".join(lines)


def log_findings(ex: Exchange) -> None:
    """The exchange's findings and deviations, one log line each (none with graphtape_quiet)."""
    if ctx.options.graphtape_quiet:
        return
    for f in ex.findings:
        (logger.error if f.severity == "error" else logger.warning)(f"graphtape:   {f.line()}")
    for d in ex.deviations:
        logger.warning(f"graphtape:   deviation {d.line()}")
