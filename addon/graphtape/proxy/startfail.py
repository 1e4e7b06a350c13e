"""Why the proxy could not start, in graphtape's words (mitmproxy's own suggest its ``--mode regular@PORT``)."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

_IN_USE = re.compile(r"failed to listen on (?P<host>\S+):(?P<port>\d+) with .*address already in use", re.S)


def start_failure(messages: Sequence[str], status: object) -> str:
    """The ProxyFailed message for the errors mitmproxy logged while starting (pure)."""
    for message in messages:
        m = _IN_USE.search(message)
        if m:
            return (f"graphtape: port {m['port']} on {m['host']} is in use (another proxy, or a graphtape still "
                    "running?): stop it, or choose another port with --port (--port 0 picks a free one)")
    reason = "; ".join(m.splitlines()[0] for m in messages if m.strip())
    return f"graphtape: the proxy could not start: {reason or f'mitmproxy exited with status {status}'}"


class HideInUse(logging.Filter):
    """Keeps mitmproxy's port-in-use error off the terminal log: graphtape says it (start_failure)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not _IN_USE.search(record.getMessage())
