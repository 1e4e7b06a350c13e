"""Files replaced whole: readers, and a process killed at any moment, see the old file or the new one, never part.

The new content is written beside the file under a hidden name, then renamed over it. A cassette being
recorded is replaced this way after every call, so the fixed cost matters: a plain ``os.open`` of one name
per process (``O_EXCL``, so a planted file or symlink is never written through) and raw ``os.write``s cost
about a third of ``tempfile.mkstemp`` plus a buffered file object.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)


def _open_aside(path: Path) -> tuple[int, str]:
    """A new, empty file beside ``path``: ``.NAME.PID.tmp``, or ``.NAME.PID.RANDOM.tmp`` if that one is taken
    (the next recorder of the cassette removes those a killed process left: cassettelock.remove_leftovers)."""
    tmp = str(path.parent / f".{path.name}.{os.getpid()}.tmp")
    try:
        return os.open(tmp, _CREATE, 0o600), tmp
    except FileExistsError:  # left by a killed run, or planted: never reuse it
        return tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)


def check_writable(path: Path) -> None:
    """Raise OSError now if ``atomic_write(path, ...)`` could not even create its aside copy; ``path`` is
    left untouched."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _open_aside(path)
    os.close(fd)
    os.unlink(tmp)


def _iov_max() -> int:
    try:
        return max(16, min(os.sysconf("SC_IOV_MAX"), 1024))
    except (AttributeError, ValueError, OSError):
        return 16  # the least POSIX allows


_IOV_MAX = _iov_max()


def _write_all(fd: int, parts: Sequence[bytes]) -> None:
    """Write ``parts`` one after the other, gathered (``writev``), so they are never joined in memory."""
    for i in range(0, len(parts), _IOV_MAX):
        batch = parts[i:i + _IOV_MAX]
        done = os.writev(fd, batch) if hasattr(os, "writev") else 0
        if done < sum(map(len, batch)):  # a short write (or no writev): the rest of this batch, plainly
            view = memoryview(b"".join(batch))[done:]
            while view:
                view = view[os.write(fd, view):]


def atomic_write(path: Path, data: str | bytes | Sequence[bytes], *, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` (str is written as UTF-8; a sequence of bytes is written one part after
    the other), creating its folder if need be.

    ``durable`` fsyncs the new content before the rename, so it survives a power cut too; a killed process
    cannot tear the file either way. On any error the file is what it was and no temporary file is left.
    """
    parts = [data.encode("utf-8")] if isinstance(data, str) else [data] if isinstance(data, bytes) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _open_aside(path)
    try:
        try:
            _write_all(fd, parts)
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def sync_to_disk(path: Path) -> None:
    """fsync a file and the folder that names it (after writes made without ``durable``)."""
    for target, flags in ((path, os.O_RDONLY), (path.parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))):
        fd = os.open(target, flags)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
