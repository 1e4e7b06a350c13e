"""``graphtape diff OLD NEW`` (drift between two recordings) and ``graphtape check CASSETTE...`` (a contract lint)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from graphtape.cassette.format import CassetteError, load_cassette
from graphtape.config import ignore_rules, load_project_config
from graphtape.diffing.core import diff_cassettes
from graphtape.diffing.ids import explain, map_ids, remap, with_conflicts
from graphtape.diffing.ignore import DEFAULT_IGNORE, IgnoreRules
from graphtape.privacy.output import scrub_deviations, scrub_text
from graphtape.proxy.standalone import EXIT_USAGE


def cmd_diff(args: argparse.Namespace) -> int:
    """Drift between two recordings; exit 1 when they differ beyond the ignore rules. Server ids are mapped
    between them first (``diffing.ids``) unless ``--no-id-map``."""
    old, new = load_cassette(args.old), load_cassette(args.new)
    rules = ignore_rules(load_project_config().ignore, args.ignore, old.meta.get("ignore"), new.meta.get("ignore"))
    ids = None if args.no_id_map else map_ids(old.interactions, new.interactions)
    found = diff_cassettes(old.interactions, new.interactions, rules,
                           remap=(lambda item: remap(item, ids)) if ids is not None else None)
    if ids is not None:  # conflicts: under the user's own ignore rules, not the volatile ones mapping replaces
        own = IgnoreRules.parse(p for p in rules.patterns if p not in DEFAULT_IGNORE.patterns)
        found = with_conflicts(found, ids, lambda devs: scrub_deviations(own.apply(devs)))
    for index, devs in found:
        for d in devs:
            note = explain(ids, index, d) if ids is not None else ""
            print(f"{args.new}:{index + 1}: {d.line()}" + (f" ({scrub_text(note)})" if note else ""))
    total = sum(len(d) for _, d in found)
    mapped = ("server ids not mapped (--no-id-map)" if ids is None else
              f"{ids.mapped} server id(s) mapped between the recordings"
              + (f", {len(ids.conflicts)} id conflict(s)" if ids.conflicts else ""))
    print(f"graphtape diff: {len(old.interactions)} vs {len(new.interactions)} interactions, "
          f"{total} difference(s) in {len(found)} interaction(s); {mapped}", file=sys.stderr)
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


