"""The ``graphtape`` command's parser and dispatch; each command's code is in ``graphtape/commands/``."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence

from graphtape import __version__
from graphtape.cassette.format import CassetteError
from graphtape.commands import episodes, expiry, helptext, matchon
from graphtape.commands import har as har_commands
from graphtape.commands import simulate as simulate_command
from graphtape.commands.check import cmd_check, cmd_diff
from graphtape.commands.serve import cmd_proxy, cmd_run, proxy_options
from graphtape.commands.show import cmd_show, show_lines
from graphtape.config import ConfigError
from graphtape.faults.cli import add_fault_args
from graphtape.model import FailOn, Mode
from graphtape.proxy.clients import proxy_url
from graphtape.proxy.runtime import ProxyFailed
from graphtape.proxy.standalone import EXIT_USAGE
from graphtape.session.verdict import DEFAULT_FAIL_ON_TEXT

__all__ = ["build_parser", "cmd_proxy", "main", "proxy_options", "proxy_url", "show_lines"]  # tests import these


def _proxy_args(p: argparse.ArgumentParser, *, upstream: bool) -> None:
    g = p.add_argument_group("proxy")
    g.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, loopback only)")
    g.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080; 0 picks a free one)")
    g.add_argument("--confdir", default="~/.mitmproxy", help="mitmproxy's folder with the CA (default ~/.mitmproxy)")
    g.add_argument("--reverse", action="store_true",
                   help="reverse-proxy mode: clients use http://HOST:PORT as their Graph base URL")
    g.add_argument("--quiet", action="store_true", help="print only the start line and the summary")
    g.add_argument("--proxyauth", metavar="USER:PASS", default=os.environ.get("GRAPHTAPE_PROXYAUTH", ""),
                   help="require these proxy credentials from clients (407 without them), for shared hosts; "
                        "default $GRAPHTAPE_PROXYAUTH. 'run' gives them to the command in HTTPS_PROXY")
    g.add_argument("--report", metavar="PATH", default="", help="write the session report as JSON at the end")
    g.add_argument("--junit", metavar="PATH", default="", help="write the session as JUnit XML at the end")
    g.add_argument("--policy", choices=["auto", "report", "enforce"], default="auto",
                   help="contract errors: report them, or enforce (answer as Graph documents); "
                        "auto = enforce in replay, report otherwise")
    add_fault_args(p)
    if upstream:
        g.add_argument("--upstream", metavar="URL", default="",
                       help="send Graph calls to this base URL instead (cassettes keep the Graph URL)")
        g.add_argument("--upstream-ca", metavar="FILE", default="",
                       help="trust this CA (PEM) for the upstream's certificate")
        g.add_argument("--upstream-insecure", action="store_true",
                       help="do not verify the upstream's certificate")
        g.add_argument("--upstream-signin", action="store_true",
                       help="send the sign-in hosts' calls (login.microsoftonline.com...) to the upstream too, "
                            "for a stand-in that answers them; never recorded either way")
        g.add_argument("--upstream-uploads", action="store_true",
                       help="send upload-session calls (to the uploadUrl a Graph answer named) to --upstream too: "
                            "for a stand-in that names outlook.office.com, as graphtape.testing.fakegraph does")


def _record_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("recording")
    x = g.add_mutually_exclusive_group()
    x.add_argument("--append", action="store_true", help="add to an existing cassette")
    x.add_argument("--overwrite", action="store_true", help="replace an existing cassette")
    g.add_argument("--redact-header", action="append", default=[], metavar="NAME",
                   help="another header to redact (repeatable)")
    g.add_argument("--redact-param", action="append", default=[], metavar="NAME",
                   help="another query parameter to redact (repeatable)")
    g.add_argument("--pseudonymize", action="store_true",
                   help="replace email addresses, names and ids with consistent fake ones, so the cassette can "
                        "be shared; replay maps the client's real values the same way")
    g.add_argument("--upload-bodies", choices=["digest", "full"], default="digest",
                   help="upload-session chunks: keep their SHA-256 and size (default) or their bytes")
    g.add_argument("--fsync", action="store_true",
                   help="force the cassette to disk after every call (survives a power cut, not only a killed "
                        "proxy; slower); by default it is forced to disk once, when recording stops")


def _replay_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("replay")
    g.add_argument("--allow-repeats", action="store_true", help="serve a recorded interaction more than once")
    g.add_argument("--ignore", action="append", default=[], metavar="PATH",
                   help="a deviation path to ignore, e.g. body.Message.subject or 'mime.header.X-*' (repeatable)")
    g.add_argument("--fail-on", default=DEFAULT_FAIL_ON_TEXT, metavar="LIST",
                   help=f"what fails the session: any of {','.join(FailOn)} (default {DEFAULT_FAIL_ON_TEXT})")
    g.add_argument("--no-offline-signin", action="store_true",
                   help="do not answer sign-in calls (token, discovery) offline: they get graphtape.UnmatchedRequest")
    expiry.add_args(p)  # --max-age, --on-expiry (commands/expiry.py)
    matchon.add_args(g)  # --match-on (commands/matchon.py)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="graphtape",
        description="Record, replay and inspect Microsoft Graph mail traffic through mitmproxy.",
        epilog=helptext.TOP_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"graphtape {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("record", help="record Graph calls into a cassette")
    p.add_argument("cassette", help="the cassette (YAML) to write; refused if it exists, unless --append/--overwrite")
    _proxy_args(p, upstream=True)
    _record_args(p)

    p = sub.add_parser("replay", help="serve a cassette offline")
    p.add_argument("cassette", help="the cassette (YAML) to answer from")
    _proxy_args(p, upstream=False)
    _replay_args(p)
    episodes.add_args(p)  # --record-missing (commands/episodes.py)

    p = sub.add_parser("inspect", help="show every Graph mail call, decoded")
    _proxy_args(p, upstream=True)
    simulate_command.add_parser(sub)

    p = sub.add_parser("run", help="run a command with the proxy in front of it")
    p.add_argument("--cassette", default="", help="the cassette to replay (or record); not with --simulate")
    p.add_argument("--record", action="store_true", help="record instead of replaying")
    _proxy_args(p, upstream=True)
    _record_args(p)
    _replay_args(p)
    simulate_command.add_run_args(p)
    p.set_defaults(port=0)  # run picks a free port unless told otherwise
    p.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- COMMAND...",
                   help="the command to run (after --), with HTTPS_PROXY and the CA variables set for it "
                        "(with --reverse: GRAPHTAPE_GRAPH_URL, its Graph base URL)")

    p = sub.add_parser("show", help="list a cassette's interactions")
    p.add_argument("cassettes", nargs="+", help="cassette files to list")
    p.add_argument("--json", action="store_true", help="one JSON document (a list, one entry per cassette)")

    p = sub.add_parser("check", help="validate every recorded request and response against the Graph contract")
    p.add_argument("cassettes", nargs="+", help="cassette files or folders (searched for *.yaml)")
    p.add_argument("--warnings", action="store_true", help="print warnings too (errors alone fail)")
    expiry.add_check(p, cmd_check)  # --max-age: the expired interactions too (commands/expiry.py)

    p = sub.add_parser("diff", help="compare two cassettes interaction by interaction (drift)")
    p.add_argument("old", help="the earlier recording")
    p.add_argument("new", help="the later recording (differences are numbered by its interactions)")
    p.add_argument("--ignore", action="append", default=[], metavar="PATH", help="a deviation path to ignore")
    p.add_argument("--no-id-map", action="store_true",
                   help="compare server ids as they are (do not map OLD's ids to the ones NEW's server gave)")
    har_commands.add(sub, _record_args)  # import, export (commands/har.py): each sets args.run
    helptext.add_epilogs(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if hasattr(args, "run"):
            return int(args.run(args))
        if args.command == "record":
            return cmd_proxy(args, Mode.RECORD, args.cassette)
        if args.command == "replay":
            return cmd_proxy(args, episodes.mode(args), args.cassette)
        if args.command == "inspect":
            return cmd_proxy(args, Mode.INSPECT, "")
        if args.command == "simulate":
            return simulate_command.run(args)
        if args.command == "run":
            return cmd_run(args)
        if args.command == "show":
            return cmd_show(args)
        if args.command == "diff":
            return cmd_diff(args)
        if args.command == "check":
            return cmd_check(args)
    except CassetteError as e:
        print(f"graphtape: {e}", file=sys.stderr)
        return EXIT_USAGE
    except (ConfigError, ValueError, ProxyFailed) as e:
        message = str(e)
        print(message if message.startswith("graphtape") else f"graphtape: {message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    return EXIT_USAGE


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
