"""The plugin's ``--graphtape-mode=new_episodes`` (pytest-recording's name): the test's cassette is copied to the
hidden recording beside it and served there in ``new_episodes`` (replayed where it matches, appended where it
does not); the recording replaces the cassette only if the test passes, so a failing test loses nothing the
cassette held and adds nothing to it."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graphtape.cassette.format import new_meta, save_cassette
from graphtape.cassette.recorder import user_settings
from graphtape.model import Mode

if TYPE_CHECKING:
    from graphtape.proxy.inprocess import ProxyThread


def start_recording(proxy: ProxyThread, mode: Mode, target: Path, recording: Path, **switch_opts: Any) -> None:
    """Switch the proxy to record ``recording`` (new_episodes: a copy of ``target`` appended to); ``switch_opts``
    go to ``switch`` as they are (the test's faults). A re-recording keeps the user's settings of ``target``
    (``meta.ignore``, ``meta.match_on``): the recording starts as ``target``'s head, which the recorder's
    overwrite keeps."""
    if mode != Mode.NEW_EPISODES:
        settings = user_settings(target) if target.exists() else {}
        if settings:
            save_cassette(recording, [], {**new_meta(), **settings})
        proxy.switch(Mode.RECORD, recording, **switch_opts)
        return
    if target.exists():
        shutil.copyfile(target, recording)
    proxy.switch(Mode.NEW_EPISODES, recording, **switch_opts)
