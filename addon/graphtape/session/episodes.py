"""The summary lines of a ``new_episodes`` session: what was replayed, and what was appended (each call named)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from graphtape.model import Outcome
from graphtape.session.describe import short_path

if TYPE_CHECKING:
    from graphtape.session.exchanges import Session


def episodes_lines(session: Session) -> list[str]:
    appended = [e for e in session.exchanges if e.outcome == Outcome.RECORDED and e.interaction is not None]
    lines = [f"  replayed {session.count(Outcome.MATCHED)}, appended {len(appended)}, "
             f"not recorded {session.count(Outcome.NOT_RECORDED)}, upstream failures {session.count(Outcome.FAILED)}, "
             f"rejected by contract {session.count(Outcome.REJECTED)}, unused interactions {len(session.unused)}"]
    lines += [f"  appended #{e.number} {e.method} {short_path(e.url)} -> {e.status} as interaction {e.interaction + 1}"
              for e in appended if e.interaction is not None]
    return lines
