"""The command line's fault options, on every proxy command (``cli._proxy_args`` adds them): ``--faults FILE``,
``--faults-seed N``, ``--faults-scale X`` and ``--faults-time-scale X``, as the ``graphtape_faults*`` options."""

from __future__ import annotations

import argparse
from typing import Any

from graphtape.faults.scaleflags import add_scale_flags, scale_options


def add_fault_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("faults")
    g.add_argument("--faults", metavar="FILE", default="",
                   help="inject the faults this YAML file describes (Graph's 429/5xx answers, resets, empty or "
                        "truncated answers, latency, Outlook's limits; see the README's Faults)")
    g.add_argument("--faults-seed", metavar="N", type=int, default=None,
                   help="the seed for the random faults and latencies (default: the file's seed:, else a new one; "
                        "the summary prints it)")
    add_scale_flags(g)  # --faults-scale, --faults-time-scale


def fault_options(args: argparse.Namespace) -> dict[str, Any]:
    """The options for the command line's fault arguments (none when --faults was not given)."""
    if not getattr(args, "faults", ""):
        return {}
    return {"graphtape_faults": args.faults, "graphtape_faults_seed": args.faults_seed, **scale_options(args)}
