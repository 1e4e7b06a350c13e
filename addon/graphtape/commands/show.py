"""``graphtape show --json CASSETTE...``: the listing of ``show`` as one JSON document, for tools (jq, CI)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from graphtape.cassette.format import load_cassette
from graphtape.model import Interaction
from graphtape.session.describe import request_summary, short_path


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
