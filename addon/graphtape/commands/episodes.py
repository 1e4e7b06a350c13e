"""``graphtape replay CASSETTE --record-missing [--upstream URL]``: replay what the cassette has, record (append)
what it lacks: VCR.py's ``new_episodes`` (proxy/modes/episodes.py)."""

from __future__ import annotations

import argparse
from typing import Any

from graphtape.model import Mode


def add_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("record what is missing (new_episodes)")
    g.add_argument("--record-missing", action="store_true",
                   help="a call the cassette has no unused answer for goes on to Graph (or --upstream) and is "
                        "appended to the cassette; the rest is replayed offline. Nothing recorded is rewritten. "
                        "Example: graphtape replay c.yaml --record-missing --upstream https://127.0.0.1:8443")
    g.add_argument("--upstream", metavar="URL", default="",
                   help="with --record-missing: send the missing calls to this base URL instead of Graph")
    g.add_argument("--upstream-ca", metavar="FILE", default="", help="trust this CA (PEM) for the upstream")
    g.add_argument("--upstream-insecure", action="store_true", help="do not verify the upstream's certificate")
    g.add_argument("--redact-header", action="append", default=[], metavar="NAME",
                   help="with --record-missing: another header to redact (repeatable)")
    g.add_argument("--redact-param", action="append", default=[], metavar="NAME",
                   help="with --record-missing: another query parameter to redact (repeatable)")


def mode(args: argparse.Namespace) -> Mode:
    """The mode ``replay`` runs in; ValueError for an upstream given to a replay that stays offline."""
    if getattr(args, "record_missing", False):
        return Mode.NEW_EPISODES
    given = [flag for flag, value in (("--upstream", args.upstream), ("--upstream-ca", args.upstream_ca),
                                      ("--upstream-insecure", args.upstream_insecure),
                                      ("--redact-header", args.redact_header), ("--redact-param", args.redact_param))
             if value]
    if given:
        raise ValueError(f"graphtape: {', '.join(given)} needs --record-missing: replay alone is offline and "
                         "sends nothing on")
    return Mode.REPLAY


def options(args: argparse.Namespace) -> dict[str, Any]:
    """What a new_episodes session records with (the upstream options are read by cli.proxy_options)."""
    return {"graphtape_redact_headers": args.redact_header, "graphtape_redact_params": args.redact_param}
