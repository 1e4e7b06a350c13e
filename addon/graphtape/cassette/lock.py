"""One recorder per cassette, and what a killed recorder left beside it cleaned up by the next one.

The lock is ``fcntl.flock`` on ``.NAME.lock`` beside the cassette. The kernel releases it when its process
ends, however it ends, so a lock left by a killed recorder never blocks; what the file holds (pid, host,
start time, command) only says who holds it. A recorder that stops cleanly removes the file while it still
holds the lock; whoever opened the old file then sees it is no longer the one at that name, and tries again.

Leftovers are only files of graphtape's own naming, beside the cassette, made by a process that is gone:
``.NAME.PID.tmp`` / ``.NAME.PID.RANDOM.tmp`` (atomicfile's aside copies) and ``.NAME.PID.recording`` (the
pytest plugin's recording, with its own aside copies, journal and lock), and only regular files, never a
symlink. A cassette's own journal (``NAME.journal``) is never a leftover: the recorder folds it in.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import fcntl
import os
import re
import socket
import sys
from pathlib import Path

from graphtape.cassette.format import CassetteError
from graphtape.cassette.journal import journal_path

# Held read-only: an open writable file would keep its disk from being remounted read-only.
_OPEN = os.O_RDONLY | os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
_SECRET_OPTIONS = ("--proxyauth",)


class CassetteLocked(CassetteError):
    """Another recorder holds the cassette; the message says which process, since when."""


def lock_path(cassette: Path) -> Path:
    return cassette.with_name(f".{cassette.name}.lock")


def _command() -> str:
    """This process's command line for the lock file, secrets (``--proxyauth``'s value) left out."""
    program = Path(sys.argv[0]) if sys.argv and sys.argv[0] else Path("?")
    args = ["graphtape" if program.parent.name == "graphtape" else program.name, *sys.argv[1:]]
    out: list[str] = []
    hide = False
    for arg in args:
        if hide:
            out.append("<redacted>")
            hide = False
        elif arg in _SECRET_OPTIONS:
            out.append(arg)
            hide = True
        else:
            out.append(f"{arg.split('=', 1)[0]}=<redacted>" if arg.startswith(_SECRET_OPTIONS) else arg)
    return " ".join(out)[:500]


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, 2000, 0).decode("utf-8", "replace")
    except OSError:
        text = ""
    fields = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    if not fields.get("pid"):
        return "a process that has not said who it is yet"
    return (f"pid {fields['pid']} on {fields.get('host', '?')}, since {fields.get('since', '?')} "
            f"({fields.get('command', '?')})")


class CassetteLock:
    """``CassetteLock(cassette)`` holds the lock or raises CassetteLocked; ``release()`` gives it back."""

    def __init__(self, cassette: Path):
        self.fd: int | None = None  # first: __del__ runs even when the folder cannot be made
        self.path = lock_path(cassette)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(20):  # a lock file removed between our open and our flock: open the new one
            fd = os.open(self.path, _OPEN, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as e:
                who = _holder(fd)
                os.close(fd)
                if e.errno not in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES):
                    raise
                raise CassetteLocked(cassette, f"is being recorded by another graphtape: {who}",
                                     hint="two recorders on one cassette would lose each other's calls; "
                                          "wait for that one to stop, stop it, or record another cassette"
                                     ) from None
            if _same_file(fd, self.path):
                self.fd = fd
                break
            os.close(fd)
        else:
            raise CassetteLocked(cassette, f"cannot take the lock {self.path}: it keeps being replaced")
        since = _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
        info = f"pid={os.getpid()}\nhost={socket.gethostname()}\nsince={since}\ncommand={_command()}\n"
        try:
            with open(self.path, "w", encoding="utf-8", errors="replace") as fh:  # the lock stays on self.fd
                fh.write(info)
        except OSError:
            self.release()
            raise

    def release(self) -> None:
        fd, self.fd = self.fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.unlink(self.path)  # while still holding it: see the module's docstring
        os.close(fd)

    def __del__(self) -> None:  # a recorder dropped without close(): the lock must not outlive it
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = None


def _same_file(fd: int, path: Path) -> bool:
    try:
        st = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    mine = os.fstat(fd)
    return (st.st_dev, st.st_ino) == (mine.st_dev, mine.st_ino)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # a leftover of ours from before? we hold the lock, so not one being written
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _leftover_pattern(name: str) -> re.Pattern[str]:
    n = re.escape(name)
    return re.compile(rf"\.{n}\.(\d+)(?:\.[A-Za-z0-9_]+)?\.tmp|\.{n}\.(\d+)\.recording")


def remove_leftovers(cassette: Path) -> list[Path]:
    """Remove what killed recorders of ``cassette`` left beside it (call it holding the lock); returns them."""
    names = [cassette.name]
    m = re.fullmatch(r"\.(.+)\.\d+\.recording", cassette.name)
    if m:  # the pytest plugin's recording of a cassette: its killed siblings are leftovers too
        names.append(m.group(1))
    removed: list[Path] = []
    try:
        entries = list(os.scandir(cassette.parent))
    except OSError:
        return removed
    patterns = [_leftover_pattern(n) for n in names]
    for entry in entries:
        for pattern in patterns:
            found = pattern.fullmatch(entry.name)
            if found is None or entry.path == str(cassette):
                continue
            pid = int(found.group(1) or found.group(2))
            if _alive(pid) or not entry.is_file(follow_symlinks=False):
                continue
            if found.group(2) and not _remove_recording(Path(entry.path)):
                continue
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def _remove_recording(recording: Path) -> bool:
    """A dead run's ``.recording``: its own aside copies and lock go with it, unless someone holds that lock."""
    try:
        lock = CassetteLock(recording)
    except (CassetteLocked, OSError):
        return False
    try:
        remove_leftovers_of(recording)
    finally:
        lock.release()
    return True


def remove_leftovers_of(path: Path) -> None:
    """A dead run's ``.recording``'s aside copies and journal (the recording itself goes: it was not kept)."""
    pattern = _leftover_pattern(path.name)
    with contextlib.suppress(OSError):
        os.unlink(journal_path(path))
    with contextlib.suppress(OSError):
        for entry in os.scandir(path.parent):
            found = pattern.fullmatch(entry.name)
            if found and found.group(1) and entry.is_file(follow_symlinks=False):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
