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


SIMULATE_OPTIONS: tuple[Option, ...] = (
    Option("graphtape_simulate_seed", str, "",
           "Simulate: the mailboxes to start from, a fixture YAML or a cassette (its recorded messages); "
           "empty: one mailbox (/me) with the well-known folders."),
    Option("graphtape_simulate_clock", str, "",
           "Simulate: a fixed start time (ISO 8601, e.g. 2026-01-05T09:00:00Z), advanced a step per answer; "
           "empty: the wall clock."),
    Option("graphtape_simulate_id_seed", int, 0, "Simulate: ids and change keys derive from this number."),
    Option("graphtape_simulate_dump", str, "",
           "Simulate: when the session ends, write the mailboxes' state to this file as a fixture YAML."),
    Option("graphtape_simulate_fresh", bool, True,
           "Simulate: start each session from the seed; off: keep the mailboxes the last simulate session with "
           "the same seed, clock and id seed left (the pytest marker's fresh=False)."),
)

OPTIONS: tuple[Option, ...] = (
    Option("graphtape_mode", str, Mode.INSPECT.value,
           "What graphtape does: record, replay, inspect, simulate, off or new_episodes (replay; record the missing "
           "calls).",
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
           "Record: fsync every call (its journal entry) as it is written, so it survives a power cut as well as a "
           "killed proxy (costs more than the rest of recording a call); without it the cassette is fsynced when "
           "recording stops."),
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
    Option("graphtape_faults", str, "",
           "Faults to inject (a YAML file, or YAML/JSON inline): scripted and random Graph errors, resets, empty "
           "or truncated answers, latency, Outlook's limits; see the README's Faults."),
    Option("graphtape_faults_seed", int | None, None,
           "The seed for graphtape_faults' random draws (default: the file's seed:, else a new one, printed)."),
    Option("graphtape_max_age", str, "",
           "Replay: a recorded interaction older than this (90d, 12h, 2w, P90D) is expired when served, judged by "
           "its own recorded_at; empty: [tool.graphtape] max_age, else none expire."),
    Option("graphtape_on_expiry", str, "",
           "Replay: an expired interaction served is a warning (warn) or fails the session (fail); empty: "
           "[tool.graphtape] on_expiry, else warn.", ["", "warn", "fail"]),
    Option("graphtape_match_on", str, "",
           "Replay: what a request must share with a recording to be served by it, comma-separated: method, url, "
           "body, headers:NAME; empty: the cassette's meta.match_on, else [tool.graphtape] match_on, else method,url."),
    Option("graphtape_fail_on", str, DEFAULT_FAIL_ON_TEXT,
           f"What fails the session: any of {', '.join(m.value for m in FailOn)}, comma-separated."),
    Option("graphtape_faults_scale", str, "1",
           "Faults: multiply Outlook's limits by this: requests and bytes per window (rounded down, at least 1) and "
           "the concurrency (rounded, at least 1); 0.01 makes a test reach them in seconds."),
    Option("graphtape_faults_time_scale", str, "1",
           "Faults: multiply every wait by this (the limits' windows, the Retry-After graphtape answers, rounded up "
           "to whole seconds, at least 1), for tests; the Retry-After check holds a retry to the shortened wait."),
    *SIMULATE_OPTIONS,
)

# What a recording or a replay is opened with: a change of one opens it anew (and starts a new session).
# (Which ones, for each mode: ``ModeHandler.opened_by``.)
OPENED_BY = frozenset({"graphtape_mode", "graphtape_cassette"})
RECORDER_OPENED_BY = frozenset({"graphtape_record_mode", "graphtape_pseudonymize", "graphtape_upload_bodies"})
# Replay options a running replay takes on as they change (its session and used interactions kept).
SIMULATE_OPENED_BY = frozenset(o.name for o in SIMULATE_OPTIONS if o.name != "graphtape_simulate_dump")
REPLAY_TUNING = {"graphtape_allow_repeats", "graphtape_ignore", "graphtape_policy", "graphtape_signin",
                 "graphtape_max_age", "graphtape_on_expiry", "graphtape_match_on"}


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
