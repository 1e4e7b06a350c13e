"""The command line's ``--faults-scale`` and ``--faults-time-scale`` (in the ``--faults`` group), as the options
``graphtape_faults_scale`` and ``graphtape_faults_time_scale``."""

from __future__ import annotations

import argparse
from typing import Any

from graphtape.faults.limitsconfig import parse_scale

FLAGS = {"faults_scale": "graphtape_faults_scale", "faults_time_scale": "graphtape_faults_time_scale"}


def _scale(name: str) -> Any:
    def read(text: str) -> str:
        try:
            parse_scale(text, name)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e).removeprefix("graphtape: ")) from e
        return text

    return read


def add_scale_flags(group: Any) -> None:
    """Add the two flags to an argparse group (the ``--faults`` one)."""
    group.add_argument("--faults-scale", type=_scale("--faults-scale"), default=None, metavar="X",
                       help="multiply Outlook's limits by X: requests and bytes per window, and the concurrency "
                            "(rounded, at least 1); 0.01 reaches them in seconds")
    group.add_argument("--faults-time-scale", type=_scale("--faults-time-scale"), default=None, metavar="X",
                       help="multiply every wait by X (the limits' windows, Retry-After: whole seconds, at least 1); "
                            "the Retry-After check holds retries to the shortened wait")


def scale_options(args: argparse.Namespace) -> dict[str, str]:
    """The options the flags given set (none given: none, so the defaults stand)."""
    return {opt: getattr(args, flag) for flag, opt in FLAGS.items() if getattr(args, flag, None) is not None}
