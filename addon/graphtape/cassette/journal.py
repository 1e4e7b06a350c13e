"""The append-only journal beside a cassette being recorded: a call costs the same at call 10,000 as at call 1.

Rewriting the whole cassette after every call (aside, then rename) costs O(n) at call n. Instead, after its
first call a recorder appends each call's YAML chunk (``format.interaction_chunk``, made after redaction,
pseudonymization and the secret scan) to ``NAME.journal`` beside ``NAME``, in one ``write`` (and an fsync with
``--fsync``) before its client gets the answer. The journal names the exact cassette bytes it continues (their
SHA-256), so it is never applied to a file it was not written for.

Every reader sees what the journal holds: ``load_cassette`` reads the cassette with the journal's chunks put
after its last interaction (``format.extend``), and folds them into the file (atomically, then removes the
journal) when no recorder holds the cassette's lock. A recorder folds on close, and a new recorder folds what a
killed one left before it starts. An entry a kill cut short can only be the last one: it is dropped with a
warning (its client never got an answer); anything else that does not check out is refused, never dropped.

The file: a header line ``graphtape journal 1 <sha256 of the cassette it continues>``, then entries, each a
line ``@ <length> <sha256 of the chunk>`` followed by the chunk's ``length`` bytes.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from graphtape.cassette.atomicfile import atomic_write, sync_to_disk
from graphtape.cassette.format import CassetteError, extend, rendered_count

logger = logging.getLogger(__name__)

SUFFIX = ".journal"
_HEADER = re.compile(rb"graphtape journal 1 ([0-9a-f]{64})\n")
_ENTRY = re.compile(rb"@ (\d{1,12}) ([0-9a-f]{64})\n")
_APPEND = os.O_WRONLY | os.O_APPEND | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)


def journal_path(cassette: Path) -> Path:
    return cassette.with_name(cassette.name + SUFFIX)


def _sha(parts: Iterable[bytes]) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part)
    return h.hexdigest()


def entry(chunk: bytes) -> bytes:
    return b"@ %d %s\n" % (len(chunk), hashlib.sha256(chunk).hexdigest().encode()) + chunk


@dataclass
class Parsed:
    base: str  # the SHA-256 of the cassette bytes the entries continue
    chunks: list[bytes] = field(default_factory=list)
    torn: str = ""  # what was dropped at the end, if anything


def parse(where: Path, data: bytes) -> Parsed:
    """A journal's entries; a torn last entry is dropped (``torn`` says so), a bad earlier one is refused."""
    head = _HEADER.match(data)
    if head is None:
        raise CassetteError(where, "is not a graphtape journal (its first line is not graphtape's)", 1,
                            hint="move it away if it is not graphtape's; it was not applied")
    out, pos = Parsed(head.group(1).decode()), head.end()
    while pos < len(data):
        found = _ENTRY.match(data, pos)
        start = found.end() if found else len(data)
        size = int(found.group(1)) if found else 0
        chunk = data[start:start + size]
        if found and len(chunk) == size and hashlib.sha256(chunk).hexdigest().encode() == found.group(2):
            out.chunks.append(chunk)
            pos = start + size
            continue
        if (found is None and b"\n" in data[pos:]) or start + size < len(data):
            raise CassetteError(where, f"entry {len(out.chunks) + 1} (at byte {pos}) is damaged, and entries "
                                "follow it", hint="graphtape only ever cuts the last entry short; restore the "
                                "cassette and its journal from a backup, or re-record")
        out.torn = (f"dropped its last entry ({len(data) - pos} bytes at byte {pos}): cut short when the recorder "
                    "was killed while writing it; that call's client never got its answer")
        break
    return out


def apply(cassette: Path, data: bytes, journal: bytes) -> bytes:
    """The cassette's bytes with the journal's entries after its last interaction; ``data`` itself if the
    journal was folded into it already (a fold stopped before removing the journal). Raises CassetteError
    when the journal continues another file."""
    where = journal_path(cassette)
    parsed = parse(where, journal)
    if parsed.torn:
        logger.warning(f"graphtape: {where} {parsed.torn}")
    if _sha([data]) == parsed.base:
        try:
            return extend(data, parsed.chunks)
        except ValueError as e:
            raise CassetteError(cassette, f"{e}; its journal {where.name} cannot be applied to it") from None
    tail = b"".join(parsed.chunks)
    count = rendered_count(data)
    if count is not None and count >= len(parsed.chunks) and data.startswith(tail, _end_offset(data) - len(tail)):
        return data  # already folded
    raise CassetteError(where, f"does not continue {cassette.name} as it is now (was the cassette changed or "
                        "replaced while it was being recorded?)",
                        hint=f"graphtape left both as they are: keep {cassette.name} and delete the journal, "
                             "or restore the cassette it was recorded onto")


def _end_offset(data: bytes) -> int:
    return data.rfind(b"\n# end of graphtape cassette:") + 1


def _read(path: Path) -> bytes | None:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise CassetteError(path, f"cannot be read: {e.strerror or e}",
                            hint="it holds recorded calls not yet in the cassette") from None


def with_journal(cassette: Path, read: Callable[[Path], bytes]) -> bytes:
    """The cassette's bytes as ``read`` gives them, with its journal's entries if it has one; the journal is
    folded into the file when no recorder holds the cassette (and the folder can be written)."""
    if _read(journal_path(cassette)) is None:
        return read(cassette)
    from graphtape.cassette.lock import CassetteLock, CassetteLocked

    try:
        lock = CassetteLock(cassette)
    except (CassetteLocked, OSError):  # being recorded (it folds the journal when it stops), or read-only
        return _merged(cassette, read)
    try:
        return fold(cassette, read)
    except OSError as e:
        logger.warning(f"graphtape: could not fold {journal_path(cassette)} into {cassette}: {e}; "
                       "read both as they are")
        return _merged(cassette, read)
    finally:
        lock.release()


def _merged(cassette: Path, read: Callable[[Path], bytes]) -> bytes:
    """Both read as they are, journal first: a recorder that folds and stops meanwhile leaves a folded cassette.
    One that folded more entries than were read shows as a mismatch: read again, the journal is gone by then."""
    for _ in range(3):
        journal = _read(journal_path(cassette))
        data = read(cassette)
        if journal is None:
            return data
        try:
            return apply(cassette, data, journal)
        except CassetteError:
            if _read(journal_path(cassette)) == journal:
                raise  # not a recorder stopping under us: the journal is not this cassette's
    raise CassetteError(cassette, "keeps changing while it is read (a recorder starting and stopping?)",
                        hint="read it again once the recorder has stopped")


def fold(cassette: Path, read: Callable[[Path], bytes]) -> bytes:
    """Put the journal's entries into the cassette and remove the journal (the caller holds the cassette's
    lock); returns the cassette's bytes."""
    where = journal_path(cassette)
    journal = _read(where)
    data = read(cassette)
    if journal is None:
        return data
    merged = apply(cassette, data, journal)
    if merged is not data:
        atomic_write(cassette, merged, durable=False)
        sync_to_disk(cassette)  # the file and its name on the disk before the journal goes
    where.unlink()
    logger.info(f"graphtape: folded the journal {where.name} into {cassette}")
    return merged


class JournalWriter:
    """A journal being written: ``JournalWriter(cassette, base_parts)`` starts one after the cassette was
    written as ``base_parts``; ``append(chunk, fsync)`` adds an entry or raises OSError with the journal as it
    was. Opened for each entry, not held open: a disk with a file open for writing cannot be remounted
    read-only, and an open costs microseconds."""

    def __init__(self, cassette: Path, base: Iterable[bytes], *, fsync: bool):
        self.path = journal_path(cassette)
        header = b"graphtape journal 1 %s\n" % _sha(base).encode()
        atomic_write(self.path, header, durable=False)
        if fsync:
            sync_to_disk(self.path)  # the file and the folder: the journal's name must survive a power cut
        self.size = len(header)
        self.entries = 0
        self.usable = True  # False once an entry could not be undone: none may follow it

    def append(self, chunk: bytes, *, fsync: bool) -> None:
        assert self.usable, "append to a journal whose last entry could not be undone"
        data = entry(chunk)
        fd = os.open(self.path, _APPEND)
        try:
            done = os.write(fd, data)
            if done != len(data):
                raise OSError(errno.ENOSPC, f"No space left on device (wrote {done} of {len(data)} bytes)",
                              str(self.path))
            if fsync:
                os.fsync(fd)
        except BaseException:
            try:
                os.ftruncate(fd, self.size)  # the entry is not there, not half there
            except OSError:
                self.usable = False  # the recorder rewrites the file at the next call instead
            raise
        finally:
            os.close(fd)
        self.size += len(data)
        self.entries += 1

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
