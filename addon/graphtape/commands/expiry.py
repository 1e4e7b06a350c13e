"""``--max-age`` / ``--on-expiry`` for replay and run, and ``graphtape check --max-age`` (the expired interactions
of each cassette, with their age and number). The judgement itself is ``graphtape.replay.expiry``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from graphtape.cassette.format import CassetteError, load_cassette
from graphtape.config import load_project_config
from graphtape.replay.expiry import ON_EXPIRY, Expiry, age_text, expired_in, expiry_from, undated

MAX_AGE_HELP = ("an interaction recorded longer ago than this is expired when served (90d, 12h, 2w, P90D; judged "
                "by its own recorded_at; default: [tool.graphtape] max_age, else none expire)")
ON_EXPIRY_HELP = "what an expired interaction does: warn (default; listed) or fail (the session fails)"


def add_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("expiry")
    g.add_argument("--max-age", default="", metavar="DURATION", help=MAX_AGE_HELP)
    g.add_argument("--on-expiry", choices=ON_EXPIRY, default="", help=ON_EXPIRY_HELP)


def options(args: argparse.Namespace) -> dict[str, Any]:
    """The proxy options for ``--max-age``/``--on-expiry``; a bad value (or project value) raises ValueError now,
    before the proxy starts."""
    expiry_from(args.max_age, args.on_expiry, load_project_config().raw)
    return {"graphtape_max_age": args.max_age, "graphtape_on_expiry": args.on_expiry}


def add_check(p: argparse.ArgumentParser, contract_check: Callable[[argparse.Namespace], int]) -> None:
    """``graphtape check --max-age``: the contract check, then the expired interactions."""
    add_args(p)
    p.set_defaults(run=lambda args: run_check(args, contract_check))


def run_check(args: argparse.Namespace, contract_check: Callable[[argparse.Namespace], int]) -> int:
    """Exit status: the contract check's (0, 1 errors, 2 unreadable), or 1 when it passed but an interaction is
    expired and on_expiry is fail."""
    expiry = expiry_from(args.max_age, args.on_expiry, load_project_config().raw)  # ValueError: exit 2, first
    status = contract_check(args)
    if expiry is None:
        return status
    from graphtape.commands.check import _cassette_files  # the files and folders as the contract check takes them

    lines, expired, files, no_date = check_lines(_cassette_files(args.cassettes), expiry)
    for line in lines:
        print(line)
    print(f"graphtape check: {expired} expired interaction(s) in {files} cassette(s) (max age {expiry.text}, "
          f"on_expiry {'fail' if expiry.fail else 'warn'}), {no_date} without recorded_at (never expire)",
          file=sys.stderr)
    return 1 if status == 0 and expired and expiry.fail else status


def check_lines(files: Sequence[Path], expiry: Expiry) -> tuple[list[str], int, int, int]:
    """``path:N: cassette.expired: ...`` lines, the expired count, the files read and the undated count."""
    lines: list[str] = []
    expired = read = no_date = 0
    for path in files:
        try:
            cassette = load_cassette(path)
        except CassetteError:
            continue  # the contract check has reported it
        read += 1
        stamps = [i.recorded_at for i in cassette.interactions]
        for index, age in expired_in(expiry, stamps):
            expired += 1
            lines.append(f"{path}:{index + 1}: cassette.expired: recorded {stamps[index].strip()}, "
                         f"{age_text(age)} ago (max age {expiry.text})")
        no_date += len(undated(stamps))
    return lines, expired, read, no_date

