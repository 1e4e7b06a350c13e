"""``graphtape simulate``: the proxy answers every Graph mail call offline from a simulated mailbox.

    graphtape simulate [--seed FILE] [--clock ISO] [--id-seed N] [--dump FILE] [--host/--port/--reverse ...]
    graphtape run --simulate [--seed FILE ...] -- COMMAND...

The same proxy options as ``replay`` (``--host``, ``--port``, ``--reverse``, ``--report``, ``--junit``,
``--policy``, ``--fail-on``); the mode itself is ``graphtape.proxy.modes.simulate``.
"""

from __future__ import annotations

import argparse
from typing import Any

from graphtape.model import FailOn, Mode
from graphtape.session.verdict import DEFAULT_FAIL_ON_TEXT


def add_parser(sub: Any) -> None:
    """The ``simulate`` subcommand on ``sub`` (cli.build_parser's subparsers)."""
    from graphtape.cli import _proxy_args

    p = sub.add_parser("simulate", help="answer Graph mail calls offline from a simulated mailbox")
    _proxy_args(p, upstream=False)
    add_simulate_args(p)


def add_run_args(p: argparse.ArgumentParser) -> None:
    """``graphtape run --simulate [--seed ...] -- COMMAND``: the command runs against a simulated mailbox."""
    p.add_argument("--simulate", action="store_true", help="answer from a simulated mailbox (no cassette)")
    add_simulate_args(p, verdict=False)  # run has replay's --fail-on and --no-offline-signin already


def run_mode(args: argparse.Namespace) -> Mode:
    """``graphtape run``'s mode: replay or record a ``--cassette``, or ``--simulate`` (ValueError for neither, both)."""
    if args.simulate == bool(args.cassette) or (args.simulate and args.record):
        raise ValueError("graphtape run: give --cassette PATH (replay, or --record), or --simulate without one")
    return Mode.SIMULATE if args.simulate else Mode.RECORD if args.record else Mode.REPLAY


def add_simulate_args(p: argparse.ArgumentParser, *, verdict: bool = True) -> None:
    g = p.add_argument_group("simulate")
    g.add_argument("--seed", metavar="FILE", default="",
                   help="start from these mailboxes: a fixture YAML, or a cassette (its recorded messages); "
                        "default: one empty mailbox (/me) with the well-known folders")
    g.add_argument("--clock", metavar="ISO", default="",
                   help="a fixed start time such as 2026-01-05T09:00:00Z (each answer advances it a step), so two "
                        "runs give the same bytes; default: the wall clock")
    g.add_argument("--id-seed", type=int, default=0, metavar="N", help="ids and change keys derive from N (default 0)")
    g.add_argument("--dump", metavar="FILE", default="",
                   help="when the session ends, write the mailboxes' state to FILE as a fixture YAML (a seed)")
    if not verdict:
        return
    g.add_argument("--fail-on", default=DEFAULT_FAIL_ON_TEXT, metavar="LIST",
                   help=f"what fails the session: any of {','.join(FailOn)} (default {DEFAULT_FAIL_ON_TEXT}); "
                        "a call the simulator does not answer counts as unmatched")
    g.add_argument("--no-offline-signin", action="store_true",
                   help="do not answer sign-in calls (token, discovery) offline: they get graphtape.UnmatchedRequest")


def simulate_options(args: argparse.Namespace) -> dict[str, Any]:
    """The ``graphtape_simulate_*`` options of a command line (pure; checked when the mode opens); cli.proxy_options
    adds them for the simulate mode."""
    return {
        "graphtape_simulate_seed": args.seed,
        "graphtape_simulate_clock": args.clock,
        "graphtape_simulate_id_seed": args.id_seed,
        "graphtape_simulate_dump": args.dump,
        "graphtape_signin": not args.no_offline_signin,
    }


def run(args: argparse.Namespace) -> int:
    from graphtape.cli import cmd_proxy

    return cmd_proxy(args, Mode.SIMULATE, "")
