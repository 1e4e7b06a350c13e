"""Writing a cassette while recording: each completed interaction lands on disk at once, atomically."""

from __future__ import annotations

import logging
from enum import StrEnum
from pathlib import Path
from typing import Any

from graphtape.cassette import (
    CassetteError,
    atomic_write,
    interaction_chunk,
    interaction_to_data,
    load_cassette,
    new_meta,
    render,
)
from graphtape.model import Interaction
from graphtape.redaction import Redactor, find_secrets

logger = logging.getLogger(__name__)


class RecordMode(StrEnum):
    NEW = "new"  # refuse to touch an existing cassette
    APPEND = "append"  # keep what it holds, add after it
    OVERWRITE = "overwrite"  # start it anew


class RecordRefused(Exception):
    """An interaction that was not written (a secret in it); the message says where."""


class Recorder:
    """Holds the cassette being recorded; rewrites it whole (aside, then rename) after each interaction.

    Every interaction's YAML is rendered once and kept, so a rewrite is a concatenation, not a re-dump.
    """

    def __init__(self, path: Path, mode: RecordMode, redactor: Redactor):
        self.path = path
        self.redactor = redactor
        self.meta: dict[str, Any] = new_meta()
        self.chunks: list[str] = []
        if path.exists():
            if mode is RecordMode.NEW:
                raise CassetteError(
                    path, "already exists; graphtape will not record over it",
                    hint="pass --append to add to it or --overwrite to start it anew "
                         "(or set graphtape_record_mode)",
                )
            if mode is RecordMode.APPEND:
                existing = load_cassette(path)  # a broken cassette is refused, never overwritten
                self.meta = {**existing.meta, "appended": new_meta()["created"]}
                self.chunks = [interaction_chunk(interaction_to_data(i)) for i in existing.interactions]
        self._write()

    def __len__(self) -> int:
        return len(self.chunks)

    def _write(self) -> None:
        atomic_write(self.path, render(self.meta, self.chunks))

    def add(self, interaction: Interaction) -> int:
        """Redact, scan and write one interaction; returns its 0-based index.

        Raises RecordRefused when a secret survives redaction, OSError when the write fails; in both
        cases the file on disk is what it was before.
        """
        data = interaction_to_data(self.redactor.interaction(interaction))
        hits = find_secrets(data)
        if hits:
            where = "; ".join(str(h) for h in hits[:5])
            raise RecordRefused(
                f"not written to {self.path}: it holds what looks like a token: {where}. "
                "Name the header with --redact-header or the parameter with --redact-param, "
                "or keep this call out of the recording"
            )
        chunk = interaction_chunk(data)
        self.chunks.append(chunk)
        try:
            self._write()
        except OSError:
            self.chunks.pop()
            raise
        return len(self.chunks) - 1
