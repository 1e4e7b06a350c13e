"""The ``graphtape`` command: record, replay, inspect, run, show."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from graphtape import __version__
from graphtape.cassette.format import CassetteError, load_cassette
from graphtape.commands import episodes
from graphtape.commands import har as har_commands
from graphtape.commands import simulate as simulate_command
from graphtape.commands.show import show_json
from graphtape.config import ConfigError, ignore_rules, load_project_config
from graphtape.diffing.core import diff_cassettes
from graphtape.faults.cli import add_fault_args, fault_options
from graphtape.model import FailOn, Mode
from graphtape.proxy.clients import client_env, proxy_url
from graphtape.proxy.runtime import ProxyFailed, ProxyRuntime
from graphtape.proxy.standalone import EXIT_SESSION_FAILED, is_loopback
from graphtape.proxyenv import apply_no_proxy
from graphtape.session.describe import short_path, subject_and_recipients
from graphtape.session.verdict import DEFAULT_FAIL_ON_TEXT

EXIT_USAGE = 2
GRAPH_BASE = "https://graph.microsoft.com"


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="graphtape",
        description="Record, replay and inspect Microsoft Graph mail traffic through mitmproxy.",
    )
    parser.add_argument("--version", action="version", version=f"graphtape {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("record", help="record Graph calls into a cassette")
    p.add_argument("cassette")
    _proxy_args(p, upstream=True)
    _record_args(p)

    p = sub.add_parser("replay", help="serve a cassette offline")
    p.add_argument("cassette")
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
    p.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- COMMAND...")

    p = sub.add_parser("show", help="list a cassette's interactions")
    p.add_argument("cassettes", nargs="+")
    p.add_argument("--json", action="store_true", help="one JSON document (a list, one entry per cassette)")

    p = sub.add_parser("check", help="validate every recorded request and response against the Graph contract")
    p.add_argument("cassettes", nargs="+", help="cassette files or folders (searched for *.yaml)")
    p.add_argument("--warnings", action="store_true", help="print warnings too (errors alone fail)")

    p = sub.add_parser("diff", help="compare two cassettes interaction by interaction (drift)")
    p.add_argument("old")
    p.add_argument("new")
    p.add_argument("--ignore", action="append", default=[], metavar="PATH", help="a deviation path to ignore")
    har_commands.add(sub, _record_args)  # import, export (commands/har.py): each sets args.run
    return parser


def proxy_options(args: argparse.Namespace, mode: Mode, cassette: str) -> dict[str, Any]:
    """mitmproxy and graphtape options for a command line (pure)."""
    opts: dict[str, Any] = {
        "listen_host": args.host,
        "listen_port": args.port,
        "confdir": args.confdir,
        "mode": [f"reverse:{GRAPH_BASE}"] if args.reverse else ["regular"],
        "connection_strategy": "lazy",
        "graphtape_mode": mode.value,
        "graphtape_cassette": cassette,
        "graphtape_quiet": args.quiet,
        "graphtape_report": args.report,
        "graphtape_junit": args.junit,
        "graphtape_policy": args.policy,
        **fault_options(args),
    }
    if args.proxyauth:
        if args.proxyauth.count(":") != 1 or args.proxyauth.startswith(":"):
            raise ValueError("graphtape: --proxyauth takes USER:PASS (one colon, a user name before it)")
        opts["proxyauth"] = args.proxyauth
    if getattr(args, "upstream", ""):
        opts["graphtape_upstream"] = args.upstream
    if getattr(args, "upstream_ca", ""):
        opts["ssl_verify_upstream_trusted_ca"] = args.upstream_ca
    if getattr(args, "upstream_insecure", False):
        opts["ssl_insecure"] = True
    if getattr(args, "upstream_signin", False):
        opts["graphtape_upstream_signin"] = True
    if getattr(args, "upstream_uploads", False):
        opts["graphtape_upstream_uploads"] = True
    if mode == Mode.RECORD:
        opts["graphtape_record_mode"] = "append" if args.append else "overwrite" if args.overwrite else "new"
        opts["graphtape_redact_headers"] = args.redact_header
        opts["graphtape_redact_params"] = args.redact_param
        opts["graphtape_pseudonymize"] = args.pseudonymize
        opts["graphtape_fsync"] = args.fsync
        opts["graphtape_upload_bodies"] = args.upload_bodies
    if mode == Mode.NEW_EPISODES:
        opts.update(episodes.options(args))
    if mode in (Mode.REPLAY, Mode.NEW_EPISODES):
        opts["graphtape_allow_repeats"] = args.allow_repeats
        opts["graphtape_ignore"] = args.ignore
        opts["graphtape_signin"] = not args.no_offline_signin
    if mode == Mode.SIMULATE:
        opts.update(simulate_command.simulate_options(args))
    if hasattr(args, "fail_on"):
        opts["graphtape_fail_on"] = args.fail_on
    return opts


def _warn_if_exposed(host: str) -> None:
    if not is_loopback(host):
        print(f"graphtape: warning: listening on {host}, reachable from other machines; the proxy sees "
              "mail and tokens in clear. Use --host 127.0.0.1 unless you mean it.", file=sys.stderr)


def cmd_proxy(args: argparse.Namespace, mode: Mode, cassette: str) -> int:
    _warn_if_exposed(args.host)

    async def main() -> int:
        proxy = ProxyRuntime(proxy_options(args, mode, cassette), log=True)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, proxy.stop_soon)
        await proxy.serve()
        return 1 if proxy.failures else 0

    return asyncio.run(main())


def cmd_run(args: argparse.Namespace) -> int:
    command = list(args.cmd)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        print("graphtape run: give the command after --, e.g. graphtape run --cassette c.yaml -- pytest",
              file=sys.stderr)
        return EXIT_USAGE
    mode = simulate_command.run_mode(args)  # ValueError: neither a cassette nor --simulate, or both
    _warn_if_exposed(args.host)

    async def main() -> int:
        proxy = ProxyRuntime(proxy_options(args, mode, args.cassette), log=True)
        host, port = await proxy.open()
        env, notice = apply_no_proxy({**os.environ, **client_env(proxy_url(host, port, args.proxyauth), args.confdir)})
        if notice:
            print(notice, file=sys.stderr)
        try:
            child = await asyncio.create_subprocess_exec(*command, env=env)
        except OSError as e:
            print(f"graphtape run: cannot start {command[0]!r}: {e.strerror or e}", file=sys.stderr)
            proxy.stop_soon()
            await proxy.closed()
            return 127
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, child.send_signal, sig)  # the command decides; the proxy stays up
        rc = await child.wait()
        proxy.stop_soon()
        await proxy.closed()
        if rc == 0 and proxy.failures:
            print(f"graphtape run: the command passed, but the session had {'; '.join(proxy.failures)}; "
                  f"exit status {EXIT_SESSION_FAILED}", file=sys.stderr)
            return EXIT_SESSION_FAILED
        return rc

    return asyncio.run(main())


def show_lines(path: str) -> list[str]:
    cassette = load_cassette(path)
    lines = [f"{path}: {len(cassette.interactions)} interaction(s), created {cassette.meta.get('created', '?')}"]
    for i, it in enumerate(cassette.interactions, 1):
        req, resp = it.request, it.response
        extra = subject_and_recipients(req)
        lines.append(f"{i:4}  {req.method:6} {short_path(req.url)}  {resp.status}" + (f"  {extra}" if extra else ""))
    return lines


def cmd_diff(args: argparse.Namespace) -> int:
    """Drift between two recordings; exit 1 when they differ beyond the ignore rules."""
    old, new = load_cassette(args.old), load_cassette(args.new)
    rules = ignore_rules(load_project_config().ignore, args.ignore, old.meta.get("ignore"), new.meta.get("ignore"))
    found = diff_cassettes(old.interactions, new.interactions, rules)
    for index, devs in found:
        for d in devs:
            print(f"{args.new}:{index + 1}: {d.line()}")
    total = sum(len(d) for _, d in found)
    print(f"graphtape diff: {len(old.interactions)} vs {len(new.interactions)} interactions, "
          f"{total} difference(s) in {len(found)} interaction(s)", file=sys.stderr)
    return 1 if total else 0


def _cassette_files(paths: Sequence[str]) -> list[Path]:
    files: list[Path] = []
    for name in paths:
        p = Path(name)
        files.extend(sorted(p.rglob("*.yaml")) + sorted(p.rglob("*.yml")) if p.is_dir() else [p])
    return files


def cmd_check(args: argparse.Namespace) -> int:
    """A lint for cassettes: ``file:interaction: rule: message``; exit 1 on a contract error, 2 if a cassette
    cannot be read (it is still reported with the others, and the rest are still checked)."""
    from graphtape.bodies.batch import answered_status
    from graphtape.contract import check_interactions

    errors = warnings = expected = broken = 0
    files = _cassette_files(args.cassettes)
    for path in files:
        try:
            cassette = load_cassette(path)
        except CassetteError as e:
            broken += 1
            print(f"{e}", file=sys.stderr)
            continue
        for index, f in check_interactions(cassette.interactions):
            item = cassette.interactions[index]
            answered = answered_status(item.request, item.response, f.location)  # a $batch item: its own status
            if f.severity == "error" and answered >= 400:
                # Graph refused it too: the cassette records a failure case on purpose.
                expected += 1
                if args.warnings:
                    print(f"{path}:{index + 1}: {f.rule}: expected (answered {answered}): {f.message}")
                continue
            if f.severity == "error":
                errors += 1
            else:
                warnings += 1
                if not args.warnings:
                    continue
            where = f" at {f.location}" if f.location else ""
            print(f"{path}:{index + 1}: {f.rule}: {f.severity}: {f.message}{where}")
    print(f"graphtape check: {len(files)} cassette(s), {errors} error(s), {warnings} warning(s), "
          f"{expected} error(s) the recording shows Graph refusing"
          + (f", {broken} unreadable" if broken else ""), file=sys.stderr)
    if broken:
        return EXIT_USAGE
    return 1 if errors else 0


def cmd_show(args: argparse.Namespace) -> int:
    if args.json:
        print(show_json(args.cassettes))
        return 0
    for path in args.cassettes:
        print("\n".join(show_lines(path)))
    return 0


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
