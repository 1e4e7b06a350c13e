"""Reading a cassette file: strict, line-precise, with a safe YAML loader only.

An unknown format version, a malformed, truncated or hand-damaged file, a missing, unknown, repeated or
mistyped field, or a YAML alias is refused with the file, the line and what to do. A file that is not a
regular file (a FIFO, a device, a folder) is refused before anything is read from it. A broken cassette
is never treated as empty and never written over.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from graphtape import __version__, collector
from graphtape.bodies.limits import megabytes_from_env
from graphtape.cassette import cache, fastread, fastyaml
from graphtape.cassette.nodes import CassetteError, Reader
from graphtape.model import Interaction

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
VERSION_KEY = "graphtape_cassette"
TOP_KEYS = (VERSION_KEY, "meta", "interactions")
# PyYAML reads about 1 MB/s and holds ~15 bytes per byte read: a 64 MB cassette already takes a minute and
# a gigabyte. Bigger files are refused at once (before reading); GRAPHTAPE_MAX_CASSETTE_MB raises the limit.
MAX_CASSETTE_ENV = "GRAPHTAPE_MAX_CASSETTE_MB"
DEFAULT_MAX_CASSETTE_MB = 64
HEADER_COMMENT = (
    "# graphtape cassette: recorded Microsoft Graph traffic, replayed by 'graphtape replay'.\n"
    "# Bodies are stored decoded (JSON as YAML, base64 MIME as its RFC 5322 text); secrets are redacted.\n"
)
_END_LINE = re.compile(r"# end of graphtape cassette: (\d+) interactions?")
_BOM = "\ufeff"


def end_marker(count: int) -> str:
    return f"# end of graphtape cassette: {count} interaction{'s' * (count != 1)}\n"


@dataclass
class Cassette:
    path: Path
    interactions: list[Interaction] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


_LoaderBase: Any = yaml.SafeLoader
if yaml.__with_libyaml__:
    from yaml._yaml import CParser
    from yaml.composer import Composer
    from yaml.constructor import SafeConstructor
    from yaml.resolver import Resolver

    class _LibyamlSafeLoader(CParser, Composer, SafeConstructor, Resolver):
        """SafeLoader's parts with libyaml's scanner and parser (C) under PyYAML's own composer, so that
        ``compose_node`` still sees every event: a 10,000-interaction cassette loads ~6x faster."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

        get_single_node = Composer.get_single_node  # CParser's own composes in C, past compose_node

    _LoaderBase = _LibyamlSafeLoader


class _StrictLoader(_LoaderBase):
    """SafeLoader that refuses anchors and aliases (no alias bombs, no shared nodes)."""

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.MarkedYAMLError(
                None, None, "YAML aliases are not allowed in a cassette", event.start_mark
            )
        event = self.peek_event()
        if getattr(event, "anchor", None):
            raise yaml.MarkedYAMLError(
                None, None, "YAML anchors are not allowed in a cassette", event.start_mark
            )
        return super().compose_node(parent, index)


def _decode_text(path: Path, data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise CassetteError(
            path, f"not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start})", line,
            "a cassette is UTF-8 YAML; was it saved by another tool or corrupted?",
        ) from None
    return text[1:] if text.startswith(_BOM) else text  # an editor's byte order mark is no part of the YAML


def _bad_character(path: Path, text: str, e: yaml.reader.ReaderError) -> CassetteError:
    """A character YAML does not allow (NUL, other controls), with its line."""
    at = text.count("\n", 0, e.position) + 1 if isinstance(e.position, int) else None
    char = f"U+{e.character:04X}" if isinstance(e.character, int) else repr(e.character)
    return CassetteError(path, f"invalid YAML: character {char} is not allowed in YAML", at,
                         "is the file corrupted, or not a cassette?")


def _compose(path: Path, text: str) -> tuple[Node | None, Any]:
    try:
        loader = _StrictLoader(text)  # PyYAML's reader refuses control characters (a NUL) here; libyaml's later
    except yaml.reader.ReaderError as e:
        raise _bad_character(path, text, e) from None
    try:
        return loader.get_single_node(), loader
    except yaml.reader.ReaderError as e:
        raise _bad_character(path, text, e) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        raise CassetteError(path, f"invalid YAML: {e.problem or e.context}", line,
                            "is the file truncated or hand-edited?") from None
    except yaml.YAMLError as e:
        raise CassetteError(path, f"invalid YAML: {e}", 1) from None
    except RecursionError:
        raise CassetteError(path, "invalid YAML: nested too deeply", 1) from None
    finally:
        loader.dispose()


@dataclass
class ReadStats:
    """How the cassettes this process parsed were read (for tests and the benchmark)."""

    fast: int = 0
    strict: int = 0


read_stats = ReadStats()


def parse_cassette(path: Path, text: str) -> Cassette:
    """Parse cassette text; raises CassetteError with the line on anything malformed.

    The fast reader (``fastyaml`` and ``fastread``: the YAML graphtape writes, straight to plain data) goes first;
    on any doubt the strict one (PyYAML's node tree, ``nodes.Reader``) reads the file and decides. Both give the
    same cassette for a file the fast one reads; only the strict one words errors."""
    text = text[1:] if text.startswith(_BOM) else text
    parsed = _parse_fast(text)
    if parsed is None:
        read_stats.strict += 1
        return parse_strict(path, text)
    read_stats.fast += 1
    _check_complete(path, text, len(parsed[0]))
    return Cassette(path=path, interactions=parsed[0], meta=parsed[1])


def _parse_fast(text: str) -> tuple[list[Interaction], dict[str, Any]] | None:
    """The interactions and meta by the fast reader, or None: it doubts, and the strict reader decides."""
    if not yaml.__with_libyaml__:
        return None  # the fast reader reads as libyaml does; PyYAML's own scanner differs in corners
    try:
        root = fastyaml.plain_data(text)
        version = root.get(VERSION_KEY)
        if not root.keys() <= set(TOP_KEYS) or type(version) is not int or version != FORMAT_VERSION:
            raise fastyaml.Doubt(0, "not a cassette of this format version")
        return fastread.interactions(root.get("interactions")), fastread.meta(root.get("meta"))
    except Exception as e:  # a Doubt, or anything a value the strict reader refuses raised: it decides
        logger.debug("graphtape: the strict reader reads this cassette (%s: %s)", type(e).__name__, e)
        return None


def parse_strict(path: Path, text: str) -> Cassette:
    """Parse cassette text through PyYAML's node tree, every error with its line (``parse_cassette`` without its
    fast reader)."""
    text = text[1:] if text.startswith(_BOM) else text
    root, loader = _compose(path, text)
    reader = Reader(path, loader)
    if root is None:
        raise CassetteError(path, "the file is empty, not a cassette", 1,
                            hint="record one with 'graphtape record' or delete the file")
    if not isinstance(root, MappingNode):
        raise reader.fail(root, "not a graphtape cassette (the top level is not a mapping)")
    top = reader.fields(root, "the cassette")
    if VERSION_KEY not in top:
        raise reader.fail(root, f"not a graphtape cassette (no '{VERSION_KEY}' version key)",
                          "graphtape only reads files it wrote; VCR.py cassettes are not supported")
    version = reader.value(top[VERSION_KEY])
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise reader.fail(top[VERSION_KEY], f"unknown cassette format version {version!r}",
                          f"this graphtape ({__version__}) reads version {FORMAT_VERSION}; upgrade graphtape "
                          "or re-record the cassette")
    reader.fields(root, "the cassette", TOP_KEYS)
    meta = reader.meta(top["meta"]) if "meta" in top else {}
    node = top.get("interactions")
    if node is None or (isinstance(node, ScalarNode) and reader.value(node) is None):
        items: list[Interaction] = []
    elif isinstance(node, SequenceNode) and node.tag == "tag:yaml.org,2002:seq":
        items = [reader.interaction(n, i) for i, n in enumerate(node.value)]
    else:
        raise reader.fail(node, "interactions must be a list")
    _check_complete(path, text, len(items))
    return Cassette(path=path, interactions=items, meta=meta)


def _check_complete(path: Path, text: str, count: int) -> None:
    """A file graphtape wrote ends with its end line; one cut short (a bad copy, a full disk) does not."""
    if not text.startswith(HEADER_COMMENT.splitlines()[0]):
        return  # written by hand: nothing to check against
    last = _last_line(text)
    found = _END_LINE.fullmatch(last)
    if found is None or last != end_marker(int(found.group(1))).strip():
        raise CassetteError(path, "the file ends early: no end-of-cassette line after the last interaction, "
                            "so it was cut short", len(_content_lines(text)) + 1,
                            "restore it from version control or re-record it; graphtape itself writes atomically")
    said = int(found.group(1))
    if said != count:
        raise CassetteError(path, f"the end line says {said} interaction{'s' * (said != 1)}, the file holds {count}"
                            " — was one deleted or added by hand?", len(_content_lines(text)),
                            "fix the number in the end line, or remove the end line")


def _content_lines(text: str) -> list[str]:
    """The text's lines (LF, CRLF as git's autocrlf leaves them, or CR alike), without the blank ones at the end."""
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def _last_line(text: str) -> str:
    """The last line of ``_content_lines``, stripped, found at the end of the text (18 MB need not be split)."""
    tail = _content_lines(text[-4096:])
    if len(tail) < 2 and len(text) > 4096:  # the line may have started before the tail: split it all
        tail = _content_lines(text)
    return tail[-1].strip() if tail else ""


def max_cassette_bytes() -> int:
    """The size limit for reading and writing a cassette (GRAPHTAPE_MAX_CASSETTE_MB, default 64)."""
    return megabytes_from_env(MAX_CASSETTE_ENV, DEFAULT_MAX_CASSETTE_MB)


def too_big(size: int, limit: int) -> str:
    return (f"the file is {size / (1024 * 1024):.1f} MB, over the {limit / (1024 * 1024):g} MB limit for a "
            f"cassette (reading it would take minutes and gigabytes); set {MAX_CASSETTE_ENV} to raise the limit, "
            "or split the recording")


def read_bytes(p: Path) -> bytes:
    """The file's bytes; only a regular file under the size limit is read (a FIFO or /dev/zero never ends)."""
    try:
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise CassetteError(p, "no such cassette", hint="record it first with 'graphtape record'") from None
    except IsADirectoryError:
        raise CassetteError(p, "is a folder, not a cassette file") from None
    except PermissionError:
        raise CassetteError(p, "cannot be read (permission denied)") from None
    except OSError as e:
        what = "a symbolic link loop" if e.errno == errno.ELOOP else (e.strerror or str(e))
        raise CassetteError(p, f"cannot be opened: {what}", hint="point graphtape at the cassette file") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise CassetteError(p, "is a folder, not a cassette file")
        if not stat.S_ISREG(st.st_mode):
            raise CassetteError(p, "is not a regular file (a pipe, a device or a socket), not a cassette",
                                hint="save the cassette to a file and pass its path")
        limit = max_cassette_bytes()
        if st.st_size > limit:
            raise CassetteError(p, too_big(st.st_size, limit))
        with os.fdopen(os.dup(fd), "rb") as f:
            data = f.read(limit + 1)
    except OSError as e:
        raise CassetteError(p, f"cannot be read: {e.strerror or e}") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise CassetteError(p, too_big(len(data), limit))
    return data


def load_cassette(path: str | os.PathLike[str]) -> Cassette:
    """Read a cassette from disk, with the calls its journal holds (journal.py): folded into it unless a
    recorder holds it; the cassette is otherwise never modified."""
    from graphtape.cassette.journal import with_journal

    p = Path(path)
    data = with_journal(p, read_bytes)
    with _gc_paused():
        hit = cache.lookup(data)  # a big cassette parsed before (same bytes, same parser code): no YAML
        if hit is not None:
            return Cassette(path=p, interactions=hit[0], meta=hit[1])
        cassette = parse_cassette(p, _decode_text(p, data))
        cache.store(data, cassette)
    return cassette


def _gc_paused() -> contextlib.AbstractContextManager[None]:
    """PyYAML's node tree is a great many small containers, and the cyclic GC re-walks them all as the tree
    grows: a 10,000-interaction cassette loaded in 20 s with it, 7.5 s without. Nothing here makes cycles."""
    return collector.paused()
