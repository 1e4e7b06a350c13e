"""``graphtape record|replay|inspect|simulate`` (the proxy in the foreground) and ``graphtape run`` (the proxy in
front of a command): the mitmproxy options a command line means, and running them."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from typing import Any

from graphtape.commands import episodes, expiry, matchon
from graphtape.commands import simulate as simulate_command
from graphtape.faults.cli import fault_options
from graphtape.graph import GRAPH_BASE
from graphtape.model import Mode
from graphtape.proxy.clients import client_env, proxy_url
from graphtape.proxy.runtime import ProxyRuntime
from graphtape.proxy.standalone import EXIT_SESSION_FAILED, EXIT_USAGE, is_loopback, url_host
from graphtape.proxyenv import apply_no_proxy


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
        opts.update(expiry.options(args))
        opts.update(matchon.options(args))  # --match-on
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


def run_env(args: argparse.Namespace, host: str, port: int) -> dict[str, str]:
    """The command's environment: behind the proxy (HTTPS_PROXY, the CA), or with --reverse the Graph base URL to
    use in GRAPHTAPE_GRAPH_URL and no proxy variables (a reverse proxy is not a forward proxy; no CA is needed)."""
    if args.reverse:
        return {**os.environ, "GRAPHTAPE_GRAPH_URL": f"http://{url_host(host)}:{port}"}
    env, notice = apply_no_proxy({**os.environ, **client_env(proxy_url(host, port, args.proxyauth), args.confdir)})
    if notice:
        print(notice, file=sys.stderr)
    return env


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
        env = run_env(args, host, port)
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


