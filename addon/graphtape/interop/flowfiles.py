"""Cassettes from other tools' captures: a HAR (browser devtools, Dev Proxy, Charles, mitmproxy's ``savehar``) or a
mitmproxy flow file (``mitmdump -w``), both read by mitmproxy's own reader (``mitmproxy.io.FlowReader``).

Only Graph calls are taken (and the upload-session calls to the upload URLs their answers named, as in recording);
each goes through the recorder (``cassette.recorder.Recorder.add``): the same pseudonymization, redaction and
token scan as a recording, and the same atomic write. A call the scan refuses is left out and named.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from mitmproxy import exceptions, flow, http
from mitmproxy.io import FlowReader

from graphtape.bodies.limits import BodyTooLarge
from graphtape.cassette.recorder import Recorder, RecordRefused
from graphtape.model import Interaction
from graphtape.proxy.flows import request_of, response_of
from graphtape.proxy.modes.forward import duration_ms, kept
from graphtape.scope import Scope
from graphtape.session.describe import short_path


class ImportError_(ValueError):
    """A capture that cannot be read; the message names the file and what to do."""


@dataclass
class ImportSummary:
    imported: int = 0
    outside: int = 0  # not Graph (pages, scripts, sign-in): left out
    unanswered: int = 0  # no response in the capture (failed, or still pending when it was saved)
    refused: list[str] = field(default_factory=list)  # left out, and why (a secret the scan found, a huge body)

    def lines(self, source: str, cassette: Path) -> list[str]:
        out = [f"graphtape: imported {self.imported} Graph call(s) from {source} into {cassette}",
               f"  left out: {self.outside} call(s) outside Graph, {self.unanswered} without an answer, "
               f"{len(self.refused)} refused"]
        out += [f"  refused: {why}" for why in self.refused]
        return out


def read_flows(path: Path) -> list[http.HTTPFlow]:
    """The HTTP flows of a HAR or flow file (mitmproxy tells them apart by their first byte)."""
    try:
        with path.open("rb") as f:
            return [f for f in FlowReader(f).stream() if isinstance(f, http.HTTPFlow)]
    except OSError as e:
        raise ImportError_(f"graphtape: cannot read {path}: {e.strerror or e}") from e
    except (exceptions.FlowReadException, KeyError, ValueError, TypeError) as e:
        raise ImportError_(f"graphtape: {path} is neither a HAR file nor a mitmproxy flow file that mitmproxy can "
                           f"read ({e}); export it again as HAR 1.2 (devtools: 'Save all as HAR with content')") from e


def recorded_at(f: flow.Flow) -> str:
    start = getattr(getattr(f, "request", None), "timestamp_start", None) or f.timestamp_created
    when = _dt.datetime.fromtimestamp(start, _dt.UTC)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def graph_interactions(flows: Iterable[http.HTTPFlow], summary: ImportSummary) -> Iterator[Interaction]:
    """The flows' Graph calls as interactions, in order; what is left out is counted in ``summary``."""
    scope = Scope()
    for f in flows:
        url = f.request.url
        if not scope.covers(url) or not kept(url):
            summary.outside += 1
            continue
        if f.response is None:
            summary.unanswered += 1
            continue
        try:
            req, resp = request_of(f, url), response_of(f.response)
        except BodyTooLarge as e:
            summary.refused.append(f"{f.request.method} {short_path(url)}: {e}")
            continue
        if scope.learns_from(req):
            scope.learn(req, resp)  # an upload URL named: its chunk PUTs come into scope
        yield Interaction(req, resp, recorded_at(f), duration_ms(f))


def import_flows(flows: Iterable[http.HTTPFlow], recorder: Recorder) -> ImportSummary:
    """Write the Graph calls of ``flows`` through ``recorder`` (it is closed at the end, whatever happens)."""
    summary = ImportSummary()
    try:
        for interaction in graph_interactions(flows, summary):
            try:
                recorder.add(interaction)
            except RecordRefused as e:
                summary.refused.append(f"{interaction.request.method} {short_path(interaction.request.url)}: {e}")
                continue
            summary.imported += 1
    finally:
        recorder.close()
    return summary
