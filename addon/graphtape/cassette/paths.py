"""Where a cassette may live: names given by users or derived from test ids stay inside their folder."""

from __future__ import annotations

import os
from pathlib import Path, PureWindowsPath


class UnsafeCassettePath(ValueError):
    """A cassette name that would put the file outside its cassette folder."""


def safe_cassette_path(root: str | os.PathLike[str], name: str | os.PathLike[str]) -> Path:
    """``root / name``, resolved, refusing any name that leaves ``root``.

    Refused: an empty name, an absolute path, a ``..`` part, a NUL byte, and a path that a symlink
    (of a folder or of the file itself) sends outside ``root``. Pure apart from resolving symlinks.
    """
    text = os.fspath(name)
    why = ""
    if not text or text in (".", "./"):
        why = "is empty"
    elif "\x00" in text:
        why = "contains a NUL byte"
    elif os.path.isabs(text) or PureWindowsPath(text).drive or PureWindowsPath(text).is_absolute():
        why = "is an absolute path"  # on any system: the cassette folder may be shared with Windows
    elif ".." in Path(text).parts:
        why = "contains '..'"
    base = Path(root).expanduser().resolve()
    target = (base / text).resolve() if not why else base
    if not why and (target == base or not target.is_relative_to(base)):
        why = f"resolves to {target}, outside the cassette folder (through a symlink?)"
    if why:
        raise UnsafeCassettePath(f"graphtape: cassette name {text!r} {why}; cassettes must stay under {base}")
    return target
