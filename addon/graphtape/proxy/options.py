"""The addon's options, declared as data (all share the ``graphtape_`` prefix), and which of them open what."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, NamedTuple

from mitmproxy import ctx

from graphtape.bodies.limits import max_body_bytes, mitmproxy_size
from graphtape.cassette.recorder import RecordMode, UploadBodies
from graphtape.model import FailOn, Mode
from graphtape.session.verdict import DEFAULT_FAIL_ON_TEXT

# What a mode wants mitmproxy to do with a body over graphtape's limit: "refuse" it (413, before any hook),
# "stream" it through unkept; "untouched": mitmproxy's options are left as they are (mode off).
LargeBodies = Literal["refuse", "stream", "untouched"]


class Option(NamedTuple):
    name: str
    type: Any
    default: Any
    help: str
    choices: Sequence[str] | None = None


OPTIONS: tuple[Option, ...] = (
    Option("graphtape_mode", str, Mode.INSPECT.value,
           "What graphtape does: record, replay, inspect, off or new_episodes (replay; record the missing calls).",
           [m.value for m in Mode]),
    Option("graphtape_cassette", str, "", "The cassette file to record into or replay from."),
    Option("graphtape_record_mode", str, "new",
           "When the cassette exists: new (refuse), append (add to it) or overwrite (start anew).",
           [m.value for m in RecordMode]),
    Option("graphtape_upstream", str, "",
           "Record/inspect: send Graph calls to this base URL instead (cassettes keep the Graph URL)."),
    Option("graphtape_upstream_signin", bool, False,
           "Record/inspect: send the sign-in hosts' calls (login.microsoftonline.com...) to graphtape_upstream too, "
           "for a stand-in that answers them (graphtape.testing.fakegraph); never recorded either way."),
    Option("graphtape_upstream_uploads", bool, False,
           "Record/inspect: send upload-session calls (to the uploadUrl Graph's answer named, another host) to "
           "graphtape_upstream too: for a stand-in such as graphtape.testing.fakegraph, which names "
           "outlook.office.com as Graph does."),
    Option("graphtape_upload_bodies", str, "digest",
           "Record: keep upload-session chunks as their SHA-256 and size (digest) or whole in base64 (full).",
           [m.value for m in UploadBodies]),
    Option("graphtape_redact_headers", Sequence[str], [], "Extra header names to redact when recording."),
    Option("graphtape_redact_params", Sequence[str], [], "Extra query parameters to redact when recording."),
    Option("graphtape_fsync", bool, False,
           "Record: fsync the cassette after every call, so it survives a power cut as well as a killed proxy "
           "(costs more than the rest of recording a call); without it the file is fsynced when recording stops."),
    Option("graphtape_pseudonymize", bool, False,
           "Record: replace email addresses, names and ids with consistent fake ones (see pseudonymize.py)."),
    Option("graphtape_allow_repeats", bool, False, "Replay: serve a recorded interaction more than once."),
    Option("graphtape_signin", bool, True,
           "Replay: answer the sign-in endpoints of every cloud (token, discovery) offline with clearly fake "
           "tokens, never recorded; off: they get graphtape.UnmatchedRequest like any host that is not Graph."),
    Option("graphtape_quiet", bool, False, "Print only the start line and the session summary."),
    Option("graphtape_ignore", Sequence[str], [],
           "Replay: deviation paths to ignore (globs such as body.Message.subject), beyond the volatile ones."),
    Option("graphtape_report", str, "", "At shutdown, write the session report as JSON to this file."),
    Option("graphtape_junit", str, "", "At shutdown, write the session as JUnit XML (one test case per request)."),
    Option("graphtape_policy", str, "auto",
           "Contract errors: report (log them) or enforce (answer as Graph documents, do not send or replay); "
           "auto is enforce in replay, report in record and inspect.", ["auto", "report", "enforce"]),
    Option("graphtape_fail_on", str, DEFAULT_FAIL_ON_TEXT,
           f"What fails the session: any of {', '.join(m.value for m in FailOn)}, comma-separated."),
)

# What a recording or a replay is opened with: a change of one opens it anew (and starts a new session).
# (Which ones, for each mode: ``ModeHandler.opened_by``.)
OPENED_BY = frozenset({"graphtape_mode", "graphtape_cassette"})
RECORDER_OPENED_BY = frozenset({"graphtape_record_mode", "graphtape_pseudonymize", "graphtape_upload_bodies"})
# Replay options a running replay takes on as they change (its session and used interactions kept).
REPLAY_TUNING = {"graphtape_allow_repeats", "graphtape_ignore", "graphtape_policy", "graphtape_signin"}


def declare(loader: object) -> None:
    """Add every option to mitmproxy's loader (the addon's ``load`` hook)."""
    for o in OPTIONS:
        extra = {"choices": list(o.choices)} if o.choices is not None else {}
        loader.add_option(o.name, o.type, o.default, o.help, **extra)  # type: ignore[attr-defined]


def opening(opts: object) -> tuple[object, ...]:
    """The values of the options a recording or replay is opened with (to tell a rollback from a change)."""
    return tuple(getattr(opts, name) for name in sorted(OPENED_BY | RECORDER_OPENED_BY))


def fit_mitmproxy(large_bodies: LargeBodies) -> None:
    """mitmproxy's own options as a mode needs them. Each fills in only what the user left unset
    (``--set stream_large_bodies=...`` wins).

    A mode that takes traffic connects upstream lazily (replay never connects; record and inspect connect per
    request, not when a client CONNECTs); bodies over the limit are refused at once (413) or streamed through
    unkept (see limits.py).
    """
    if large_bodies == "untouched":
        return
    opts, size = ctx.options, mitmproxy_size(max_body_bytes())
    if opts.connection_strategy != "lazy":
        opts.update(connection_strategy="lazy")
    if large_bodies == "refuse" and opts.body_size_limit is None:
        opts.update(body_size_limit=size)
    elif large_bodies == "stream":
        if opts.body_size_limit == size:  # left from a replay session in this process: record streams instead
            opts.update(body_size_limit=None)
        if opts.stream_large_bodies is None:
            opts.update(stream_large_bodies=size)
