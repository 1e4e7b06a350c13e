"""``--match-on`` for replay and run: what a request must share with a recording (``graphtape.cassette.matchon``)."""

from __future__ import annotations

import argparse
from typing import Any

from graphtape.cassette.matchon import ALLOWED_TEXT, resolve_match_on
from graphtape.config import load_project_config

MATCH_ON_HELP = (f"what a request must share with a recording to be served by it, comma-separated: {ALLOWED_TEXT} "
                 "(e.g. method,url,body); default: the cassette's meta.match_on, else [tool.graphtape] match_on, "
                 "else method,url")


def add_args(p: argparse._ActionsContainer) -> None:  # the parser, or its "replay" group
    p.add_argument("--match-on", default="", metavar="LIST", help=MATCH_ON_HELP)


def options(args: argparse.Namespace) -> dict[str, Any]:
    """The proxy option for ``--match-on``; a typo (here or in the project's) raises ValueError now, before the
    proxy starts."""
    chosen = resolve_match_on(args.match_on, None, load_project_config().raw, option_where="--match-on",
                              cassette_where="")
    return {"graphtape_match_on": chosen.text().replace(", ", ",") if args.match_on else ""}
