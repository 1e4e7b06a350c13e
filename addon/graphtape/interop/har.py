"""A cassette as a HAR 1.2 file for other tools (devtools, Charles, Fiddler, HAR viewers), built by mitmproxy's own
HAR writer (``mitmproxy.addons.savehar.SaveHar.make_har``) from flows made of the cassette's interactions.

What the cassette holds is what the HAR holds: its secrets were redacted when it was recorded (``<redacted>``), a
pseudonymized cassette's identities stay fake, an upload chunk kept as a digest has no body.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mitmproxy import connection, http
from mitmproxy.addons.savehar import SaveHar

from graphtape.cassette.atomicfile import atomic_write
from graphtape.model import Interaction
from graphtape.proxy.flows import to_mitmproxy_response


def _started(interaction: Interaction) -> float:
    try:
        return _dt.datetime.fromisoformat(interaction.recorded_at.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def to_flow(interaction: Interaction) -> http.HTTPFlow:
    """One interaction as the flow mitmproxy would have seen: its request, its answer, its timing."""
    req, started = interaction.request, _started(interaction)
    ended = started + (interaction.duration_ms or 0) / 1000
    f = http.HTTPFlow(connection.Client(peername=("127.0.0.1", 0), sockname=("127.0.0.1", 0),
                                        timestamp_start=started), connection.Server(address=None))
    f.request = http.Request.make(req.method, req.url, req.body, [(k.encode(), v.encode()) for k, v in req.headers])
    f.request.timestamp_start = f.request.timestamp_end = started
    f.response = to_mitmproxy_response(interaction.response)
    f.response.timestamp_start, f.response.timestamp_end = started, ended
    return f


def make_har(interactions: Sequence[Interaction]) -> dict[str, Any]:
    """The HAR document of a cassette's interactions (pure: nothing is written)."""
    har: dict[str, Any] = SaveHar().make_har([to_flow(i) for i in interactions])
    har["log"]["creator"]["comment"] = "exported by graphtape from a cassette (secrets redacted when recorded)"
    return har


def write_har(path: Path, interactions: Sequence[Interaction]) -> None:
    atomic_write(path, json.dumps(make_har(interactions), indent=2, ensure_ascii=False).encode("utf-8"))
