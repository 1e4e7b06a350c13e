"""``graphtape show CASSETTE...``: a cassette's interactions, one line each, or (``--json``) as one JSON document
for tools (jq, CI)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

from graphtape.cassette.format import load_cassette
from graphtape.model import Interaction
from graphtape.session.describe import request_summary, short_path, subject_and_recipients


def interaction_json(number: int, interaction: Interaction) -> dict[str, Any]:
    req, resp = interaction.request, interaction.response
    return {"number": number, "method": req.method, "path": short_path(req.url), "status": resp.status,
            "recorded_at": interaction.recorded_at or None, "duration_ms": interaction.duration_ms,
            "request": request_summary(req)}


def cassette_json(path: str) -> dict[str, Any]:
    """One cassette: its file, when it was created, and each interaction (numbered from 1, as ``show`` lists them)."""
    cassette = load_cassette(path)
    return {"cassette": path, "created": cassette.meta.get("created"),
            "interactions": [interaction_json(n, i) for n, i in enumerate(cassette.interactions, 1)]}


def show_json(paths: Sequence[str]) -> str:
    return json.dumps([cassette_json(p) for p in paths], indent=2, ensure_ascii=False, default=str)


def show_lines(path: str) -> list[str]:
    cassette = load_cassette(path)
    lines = [f"{path}: {len(cassette.interactions)} interaction(s), created {cassette.meta.get('created', '?')}"]
    for i, it in enumerate(cassette.interactions, 1):
        req, resp = it.request, it.response
        extra = subject_and_recipients(req)
        lines.append(f"{i:4}  {req.method:6} {short_path(req.url)}  {resp.status}" + (f"  {extra}" if extra else ""))
    return lines


def cmd_show(args: argparse.Namespace) -> int:
    if args.json:
        print(show_json(args.cassettes))
        return 0
    for path in args.cassettes:
        print("\n".join(show_lines(path)))
    return 0
