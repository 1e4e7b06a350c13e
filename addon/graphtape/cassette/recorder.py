"""Writing a cassette while recording: each completed interaction lands on disk at once, before its answer.

The first call of a session rewrites the whole file (aside, then renamed over); every later one is appended
to the cassette's journal (journal.py) in one write, so a call costs the same at call 10,000 as at call 1,
and a proxy killed at any moment leaves a cassette (with its journal, which every reader applies) holding
every interaction its client got an answer for. Closing folds the journal into the file. With ``fsync``
each write is also forced to the disk (it then survives a power cut too); without it, the file is forced
to the disk once, when the recording is closed: an fsync costs more than all the rest of recording a call.

A recorder holds its cassette's lock (cassettelock.py) from start to close: a second recorder of the same
cassette is refused. An existing cassette (``append``, ``overwrite``) is not touched until the first call
is recorded: a session that records nothing leaves it byte for byte as it was. A ``new`` cassette is
written, empty, at start (so a session without calls still leaves one that loads, and an unwritable
folder is found at once).
"""

from __future__ import annotations

import errno
import logging
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from graphtape.cassette.atomicfile import check_writable, sync_to_disk
from graphtape.cassette.format import (
    CassetteError,
    assemble,
    interaction_chunk,
    interaction_to_data,
    load_cassette,
    new_meta,
    parse_cassette,
    render_head,
    write_cassette_file,
)
from graphtape.cassette.journal import JournalWriter, fold, journal_path
from graphtape.cassette.lock import CassetteLock, remove_leftovers
from graphtape.cassette.read import end_marker, max_cassette_bytes, read_bytes, too_big
from graphtape.model import Interaction
from graphtape.privacy.pseudonymize import META_KEY, Pseudonymizer
from graphtape.privacy.redaction import Redactor, find_secrets
from graphtape.uploads.chunks import chunk_digest

logger = logging.getLogger(__name__)


class RecordMode(StrEnum):
    NEW = "new"  # refuse to touch an existing cassette
    APPEND = "append"  # keep what it holds, add after it
    OVERWRITE = "overwrite"  # start it anew


class UploadBodies(StrEnum):
    """How upload-session chunks are kept (``graphtape_upload_bodies``)."""

    DIGEST = "digest"  # their SHA-256 and size: replay tells a chunk with other bytes (body.sha256)
    FULL = "full"  # their bytes, in base64 (a 150 MB upload is a 200 MB cassette)


class RecordRefused(Exception):
    """An interaction that was not written (a secret in it); the message says where."""


class RecorderClosed(Exception):
    """An interaction that came after the recording was closed; not written."""


class Recorder:
    """Holds the cassette being recorded: rewrites it whole (aside, then rename) at its first interaction,
    appends the later ones to its journal, and folds the journal into it on close.

    Every interaction's YAML is rendered once and kept (as UTF-8), and so is the file's head, so a rewrite
    (the first call's, the fold) is a concatenation, not a re-dump.
    """

    def __init__(self, path: Path, mode: RecordMode, redactor: Redactor, *, pseudonymize: bool = False,
                 fsync: bool = False, upload_bodies: str = UploadBodies.DIGEST):
        self.path = path
        self.redactor = redactor
        self.fsync = fsync
        self.upload_bodies = UploadBodies(upload_bodies)
        self.meta: dict[str, Any] = new_meta()
        self.chunks: list[bytes] = []
        self.closed = False
        self._unsynced = False
        self._journal: JournalWriter | None = None  # open from the call after the last rewrite
        self._size = 0  # of the whole file, as it would be folded now
        self._lock = CassetteLock(path)  # raises CassetteLocked: another recorder has it
        try:
            self._open(mode, pseudonymize)
        except BaseException:
            self._lock.release()
            raise

    def _open(self, mode: RecordMode, pseudonymize: bool) -> None:
        path = self.path
        for leftover in remove_leftovers(path):
            logger.info(f"graphtape: removed {leftover}, left by a recorder that was killed")
        if journal_path(path).exists():  # a killed recorder's calls: into the file before anything else
            fold(path, read_bytes)
        untouched = path.exists() or path.is_symlink()
        if untouched:
            if mode is RecordMode.NEW:
                raise CassetteError(
                    path, "already exists; graphtape will not record over it",
                    hint="pass --append to add to it or --overwrite to start it anew "
                         "(or set graphtape_record_mode)",
                )
            if mode is RecordMode.APPEND:
                existing = load_cassette(path)  # a broken cassette is refused, never overwritten
                self.meta = {**existing.meta, "appended": new_meta()["created"]}
                self.chunks = [interaction_chunk(interaction_to_data(i)).encode() for i in existing.interactions]
                _check_rewrite(path, self.meta, self.chunks, existing.interactions)
            else:  # overwrite: the recordings start anew, the user's settings for the cassette stay
                self.meta.update(user_settings(path))
        self.pseudonymizer = pseudonymizer_for(path, self.meta, pseudonymize, has_interactions=bool(self.chunks))
        if self.pseudonymizer is not None:
            self.meta[META_KEY] = self.pseudonymizer.meta()
        self._head = render_head(self.meta)
        self._untouched = untouched  # the file on disk is still the user's: kept until the first call
        if untouched:
            check_writable(path)  # an unwritable folder is found now, not at the first call
        else:
            self._write(journal=False)

    def __len__(self) -> int:
        return len(self.chunks)

    def _write(self, *, journal: bool = True) -> None:
        """The whole file, as it is now, in place (aside, then rename); then a new journal for the next calls."""
        parts = assemble(self._head, self.chunks)
        write_cassette_file(self.path, parts, durable=self.fsync)
        self._unsynced = not self.fsync
        self._size = sum(map(len, parts))
        self._journal = None  # an old one (a failed append could not be undone) is replaced next
        if not journal:  # the empty new cassette: its first call rewrites it anyway
            return
        try:
            self._journal = JournalWriter(self.path, parts, fsync=self.fsync)
        except OSError as e:  # the call is in the file all the same; the next one rewrites it again
            logger.warning(f"graphtape: cannot start the journal of {self.path}: {e}")

    def _persist(self, chunk: bytes) -> None:
        """Write one more interaction down: appended to the journal, or (the first, or with no journal) by
        rewriting the file; on any error neither the file, the journal nor ``self.chunks`` changed."""
        journal = self._journal
        if journal is None or not journal.usable:
            self.chunks.append(chunk)
            try:
                self._write()
            except BaseException:
                self.chunks.pop()
                raise
            return
        n = len(self.chunks)
        size = self._size + len(chunk) + len(end_marker(n + 1)) - len(end_marker(n))
        if size > (limit := max_cassette_bytes()):
            raise OSError(errno.EFBIG, too_big(size, limit), str(self.path))
        journal.append(chunk, fsync=self.fsync)
        self.chunks.append(chunk)
        self._size = size
        self._unsynced = True

    def close(self) -> None:
        """Fold the journal into the file and force it to the disk (with ``fsync`` and no journal, every write
        already was), then give the cassette's lock back. Later ``add`` calls raise RecorderClosed."""
        if self.closed:
            return
        self.closed = True
        try:
            if self._journal is not None:
                self._fold()
            elif self._unsynced:
                sync_to_disk(self.path)
                self._unsynced = False
        finally:
            self._lock.release()

    def _fold(self) -> None:
        assert self._journal is not None
        journal, self._journal = self._journal, None
        if not journal.entries:  # nothing appended since the file was written: it is whole already
            journal.remove()
            if self._unsynced:
                sync_to_disk(self.path)
                self._unsynced = False
            return
        try:
            write_cassette_file(self.path, assemble(self._head, self.chunks), durable=False)
            sync_to_disk(self.path)
        except OSError as e:
            raise OSError(e.errno, f"{e.strerror or e}; the calls are safe in {self.path} and {journal.path.name}, "
                                   "which the next load or recording of it folds in", str(self.path)) from e
        journal.remove()  # a power cut may bring it back: it then reads as folded already (journal.apply)
        self._unsynced = False

    @property
    def untouched(self) -> bool:
        """True while an existing cassette has not been rewritten (nothing recorded into it yet)."""
        return self._untouched

    def add(self, interaction: Interaction) -> int:
        """Redact, scan and write one interaction; returns its 0-based index.

        Raises RecordRefused when a secret survives redaction, OSError when the write fails, RecorderClosed
        after ``close``; in each case the file on disk is what it was before.
        """
        if self.closed:
            raise RecorderClosed(f"not written to {self.path}: the recording had already stopped")
        digest = chunk_digest(interaction.request) if self.upload_bodies is UploadBodies.DIGEST else None
        if digest is not None:  # an upload chunk: its bytes are not kept, so not redacted or scanned either
            interaction = replace(interaction, request=replace(interaction.request, body=b""))
        if self.pseudonymizer is not None:
            interaction = self.pseudonymizer.interaction(interaction)
        interaction = self.redactor.interaction(interaction)
        if digest is not None:
            interaction = replace(interaction, request=replace(interaction.request, body_digest=digest))
        data = interaction_to_data(interaction)
        hits = find_secrets(data)
        if hits:
            where = "; ".join(str(h) for h in hits[:5])
            raise RecordRefused(
                f"not written to {self.path}: it holds what looks like a token: {where}. "
                "Name the header with --redact-header or the parameter with --redact-param, "
                "or keep this call out of the recording"
            )
        self._persist(interaction_chunk(data).encode())
        self._untouched = False
        return len(self.chunks) - 1


SETTINGS = ("ignore", "match_on")  # meta keys a person sets for the cassette (not about one recording)
_HEAD_END = b"\ninteractions:"


def user_settings(path: Path) -> dict[str, Any]:
    """The user's settings in an existing cassette's meta (``SETTINGS``), read from its head only (the text before
    ``interactions:``); none from a file that cannot be read so: an overwrite never fails for it."""
    try:
        data = read_bytes(path)
        cut = data.find(_HEAD_END)
        head = data[:cut if cut >= 0 else len(data)].decode("utf-8")
        meta = parse_cassette(path, head + "\ninteractions: []\n" + end_marker(0)).meta
    except (OSError, UnicodeDecodeError, CassetteError):
        return {}
    return {key: meta[key] for key in SETTINGS if key in meta}


def _check_rewrite(path: Path, meta: dict[str, Any], chunks: list[bytes], held: list[Interaction]) -> None:
    """Appending rewrites the whole file: refuse to start if what it holds would not read back the same."""
    text = b"".join(assemble(render_head(meta), chunks)).decode("utf-8")
    try:
        again = parse_cassette(path, text).interactions
    except CassetteError as e:
        again, detail = [], e.detail
    else:
        detail = ""
    for index, (before, after) in enumerate(zip(held, again, strict=False)):
        if before != after:
            detail = f"interaction {index + 1} would change"
            break
    if detail or len(again) != len(held):
        raise CassetteError(path, f"graphtape cannot rewrite it faithfully to append to it ({detail or 'the count'}); "
                                  "it is left as it is", hint="record into a new cassette, and report this bug")


def pseudonymizer_for(path: Path, meta: dict[str, Any], wanted: bool, *,
                      has_interactions: bool) -> Pseudonymizer | None:
    """A cassette recorded pseudonymized stays so (same salt); real values are never mixed with fake ones."""
    existing = Pseudonymizer.from_meta(meta)
    if existing is not None:
        return existing
    if wanted and has_interactions:
        raise CassetteError(path, "holds real (not pseudonymized) values; --pseudonymize cannot append to it",
                            hint="record a new cassette with --pseudonymize, or append without it")
    return Pseudonymizer.new() if wanted else None
