"""What the proxy prints on stderr (stdout belongs to what runs behind it): the start line, and the session's end."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable

from mitmproxy import ctx

from graphtape.model import FailOn
from graphtape.proxy.flows import ca_cert_path
from graphtape.proxy.standalone import exposure_warning
from graphtape.proxy.startline import format_start_line
from graphtape.session.exchanges import Session
from graphtape.session.report import write_reports
from graphtape.session.verdict import failures


def announce(mode: str, listen: tuple[str, int], *, warn_exposed: bool,
             on_listen: Callable[[str, int], None] | None = None) -> str:
    """Print (and return) the start line (startline.py), then call ``on_listen`` (the runtime's readiness signal);
    ``warn_exposed``: also warn if the proxy is reachable from elsewhere."""
    host, port = listen
    line = format_start_line(mode, host, port, ca_cert_path())
    warning = exposure_warning(host) if warn_exposed else None
    if warning:
        print(warning, file=sys.stderr, flush=True)
    print(line, file=sys.stderr, flush=True)
    if on_listen is not None:
        on_listen(host, port)
    return line


def end_session(session: Session, fail_on: Iterable[FailOn], scrub: Callable[[str], str]) -> list[str]:
    """Write the reports the options ask for, print the summary, and return why the session fails (if it does)."""
    failed = failures(session, fail_on)
    try:
        write_reports(session, ctx.options.graphtape_report, ctx.options.graphtape_junit, scrub=scrub)
    except OSError as e:
        failed.append(f"cannot write the report: {e}")
    for line in session.summary_lines():
        print(scrub(line), file=sys.stderr, flush=True)
    if failed:
        print(scrub(f"graphtape: the session fails: {'; '.join(failed)}"), file=sys.stderr, flush=True)
    return failed
