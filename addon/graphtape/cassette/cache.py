"""A cache of parsed cassettes keyed by their content, as ``.pyc`` files are for modules.

PyYAML composes about 2 MB/s: a 10,000-interaction cassette (18 MB) takes ~9 s to parse; the same
result read back from JSON takes ~0.45 s. So a cassette of at least ``MIN_BYTES``, once it has passed
the strict YAML parse, is stored here as JSON under the key

    sha256(fingerprint of the parser's code + sha256 of the cassette's bytes)

and the next load of the same bytes by the same code is served from the entry. Anything else is a
miss and goes through the YAML parse, which stays the one validator (with its line numbers): a file
that does not parse is never stored. The cache is never fatal and never wrong: a missing, unreadable,
corrupt, truncated or odd-shaped entry, an unwritable or full folder, two processes writing the same
entry, all end in a miss (one debug log line), never in another result or another error.

Where: ``GRAPHTAPE_CACHE_DIR``, else ``$XDG_CACHE_HOME/graphtape``, else ``~/.cache/graphtape``;
``GRAPHTAPE_CACHE_DIR=off`` turns it off. A folder other users can write to is not used. At most
``MAX_ENTRIES`` entries and ``MAX_TOTAL_BYTES``; the least recently used go first.

An entry (``<key>.json``) is two lines: a header ``{"graphtape_cache": 1, "key": ..., "bytes": ...,
"sha256": ...}`` describing the second line, ``{"meta": {...}, "interactions": [[method, url,
[[name, value], ...], body, status, reason, [[name, value], ...], body, recorded_at, duration_ms, body_as_sent],
...]}`` with bodies in base64. It is JSON, not pickle: reading a tampered one runs no code.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import importlib.util
import itertools
import json
import logging
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml

from graphtape import __version__
from graphtape.bodies.digest import BodyDigest
from graphtape.cassette.atomicfile import atomic_write
from graphtape.model import Headers, HttpRequest, HttpResponse, Interaction

logger = logging.getLogger(__name__)

DIR_ENV = "GRAPHTAPE_CACHE_DIR"
OFF = "off"
# Parsing 256 KB of cassette takes ~0.13 s; smaller ones (one per test, the common case) never touch the cache.
MIN_BYTES = 256 * 1024
MAX_ENTRIES = 32
MAX_TOTAL_BYTES = 512 * 1024 * 1024
ENTRY_FORMAT = 2
# The code that makes a parse result: the cassette and bodies packages whole, the model, and the package's
# __init__ (FORMAT_VERSION and __version__ are in these). A change to any of their files is a new fingerprint, so
# a dev tree never serves a result its current parser would not give; a needless miss costs one parse. A test
# holds the parser to these packages: it imports nothing from outside them.
PARSER_PACKAGES = ("graphtape.cassette", "graphtape.bodies")


def _modules_of(packages: tuple[str, ...]) -> tuple[str, ...]:
    top = Path(__file__).resolve().parent.parent
    names = ["graphtape", "graphtape.model", "graphtape.collector"]  # the reader pauses the collector
    for package in packages:
        folder = top.joinpath(*package.split(".")[1:])
        names += [package, *sorted(f"{package}.{p.stem}" for p in folder.glob("*.py") if p.stem != "__init__")]
    return tuple(names)


PARSER_MODULES = _modules_of(PARSER_PACKAGES)
_ENTRY_NAME = re.compile(r"[0-9a-f]{64}\.json")
_STALE_TEMP_S = 3600  # a temp file this old was left by a killed process

Parsed = tuple[list[Interaction], dict[str, Any]]


class ParseResult(Protocol):
    """What ``store`` needs of a Cassette (this module sits below cassette.py, which imports it)."""

    interactions: list[Interaction]
    meta: dict[str, Any]


@dataclass
class Stats:
    """Counts in this process, for tests and the benchmark."""

    hits: int = 0
    misses: int = 0
    stores: int = 0


stats = Stats()


class BadEntry(ValueError):
    """An entry that is not exactly what ``encode_entry`` writes for its key."""


# --------------------------------------------------------------------------- pure parts


def cache_dir(environ: Any = os.environ) -> Path | None:
    """The cache folder the environment names, or None when the cache is off."""
    raw = environ.get(DIR_ENV, "").strip()
    if raw.lower() == OFF:
        return None
    if raw:
        return Path(raw).expanduser()
    xdg = environ.get("XDG_CACHE_HOME", "").strip()
    if xdg and os.path.isabs(xdg):  # the XDG spec: a relative value is ignored
        return Path(xdg) / "graphtape"
    try:
        return Path.home() / ".cache" / "graphtape"
    except RuntimeError:  # no home folder to be found
        return None


@functools.cache
def fingerprint() -> bytes | None:
    """A digest of the parser's code and versions (once per process); None if a source cannot be read."""
    h = hashlib.sha256(f"graphtape {__version__} cache {ENTRY_FORMAT} python {sys.version_info[:3]} "
                       f"pyyaml {yaml.__version__} libyaml {yaml.__with_libyaml__}".encode())
    for name in PARSER_MODULES:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.origin:
            return None
        try:
            source = Path(spec.origin).read_bytes()
        except OSError:
            return None
        h.update(b"\0" + name.encode() + b"\0" + hashlib.sha256(source).digest())
    return h.digest()


def entry_key(content: bytes, code: bytes) -> str:
    return hashlib.sha256(code + hashlib.sha256(content).digest()).hexdigest()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def encode_entry(key: str, interactions: list[Interaction], meta: dict[str, Any]) -> bytes:
    """The entry file for a parse result; raises TypeError/ValueError for a meta JSON cannot hold."""
    rows = [[i.request.method, i.request.url, i.request.headers,
             i.request.body_digest.text() if i.request.body_digest is not None else _b64(i.request.body),
             i.response.status,
             i.response.reason, i.response.headers, _b64(i.response.body), i.recorded_at, i.duration_ms,
             i.response.body_as_sent]
            for i in interactions]
    body = json.dumps({"meta": meta, "interactions": rows}, separators=(",", ":"), allow_nan=False).encode("ascii")
    header = {"graphtape_cache": ENTRY_FORMAT, "key": key, "bytes": len(body),
              "sha256": hashlib.sha256(body).hexdigest()}
    return json.dumps(header).encode("ascii") + b"\n" + body


def _str(value: Any) -> str:
    if type(value) is not str:
        raise BadEntry(f"expected a string, got {type(value).__name__}")
    return value


def _headers(value: Any) -> Headers:
    # type checks a set at a time (in C): a 10,000-interaction cassette has 340,000 header strings
    if type(value) is not list or not set(map(type, value)) <= {list}:
        raise BadEntry("headers are not a list of [name, value] pairs")
    out: Headers = [(name, text) for name, text in value]  # ValueError unless each has two
    if not set(map(type, itertools.chain.from_iterable(out))) <= {str}:
        raise BadEntry("a header name or value is not a string")
    return out


def _body(value: Any) -> bytes:
    return base64.b64decode(_str(value), validate=True)  # binascii.Error is a ValueError


def _request(method: Any, url: Any, headers: Any, body: Any) -> HttpRequest:
    """A request row; its body is base64, or ``BodyDigest.text()`` for a body kept as its digest."""
    digest = BodyDigest.from_text(_str(body))
    return HttpRequest(_str(method), _str(url), _headers(headers), b"" if digest else _body(body), digest)


def _interaction(row: Any) -> Interaction:
    if type(row) is not list or len(row) != 11:
        raise BadEntry("an interaction is not a list of 11 fields")
    method, url, req_headers, req_body, status, reason, resp_headers, resp_body, recorded_at, duration, as_sent = row
    if type(status) is not int:
        raise BadEntry("status is not an integer")
    if duration is not None and type(duration) is not float:
        raise BadEntry("duration_ms is not a float")
    if type(as_sent) is not bool:
        raise BadEntry("body_as_sent is not a boolean")
    return Interaction(
        request=_request(method, url, req_headers, req_body),
        response=HttpResponse(status, _str(reason), _headers(resp_headers), _body(resp_body), as_sent),
        recorded_at=_str(recorded_at),
        duration_ms=duration,
    )


def decode_entry(key: str, data: bytes) -> Parsed:
    """The parse result an entry holds; raises BadEntry (a ValueError) for anything else."""
    head, newline, body = data.partition(b"\n")
    header = json.loads(head)
    if (not newline or type(header) is not dict or header.get("graphtape_cache") != ENTRY_FORMAT
            or header.get("key") != key or header.get("bytes") != len(body)):
        raise BadEntry("the header does not describe this entry")
    if header.get("sha256") != hashlib.sha256(body).hexdigest():
        raise BadEntry("the content does not match its checksum")
    payload = json.loads(body)
    if type(payload) is not dict or type(payload.get("meta")) is not dict or type(payload.get("interactions")) \
            is not list:
        raise BadEntry("not a mapping of meta and interactions")
    return [_interaction(row) for row in payload["interactions"]], payload["meta"]


# --------------------------------------------------------------------------- the folder


def _private_folder(folder: Path) -> bool:
    """Ours and not writable by others: an entry there is only one this user wrote."""
    st = folder.stat()
    if hasattr(os, "getuid") and (st.st_uid != os.getuid() or st.st_mode & 0o022):
        logger.debug("graphtape cache: not using %s (another user owns it or may write to it)", folder)
        return False
    return True


def _enabled(content: bytes) -> tuple[Path, str] | None:
    """The folder and key for ``content``, or None when the cache is off or the cassette is small."""
    if len(content) < MIN_BYTES:
        return None
    folder, code = cache_dir(), fingerprint()
    if folder is None or code is None:
        return None
    return folder, entry_key(content, code)


def lookup(content: bytes) -> Parsed | None:
    """The cached parse result of a cassette's bytes, or None (a miss, whatever went wrong)."""
    where = _enabled(content)
    if where is None:
        return None
    folder, key = where
    path = folder / f"{key}.json"
    parsed: Parsed | None = None
    try:
        if _private_folder(folder):
            parsed = decode_entry(key, path.read_bytes())
    except FileNotFoundError:
        pass
    except Exception as e:  # never fatal: any other failure is a miss too, and the YAML parse decides
        logger.debug("graphtape cache: ignoring entry %s: %s: %s", path, type(e).__name__, e)
    if parsed is None:
        stats.misses += 1
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # recently used: pruned last
    stats.hits += 1
    logger.debug("graphtape cache: loaded %d interactions from %s", len(parsed[0]), path)
    return parsed


def store(content: bytes, cassette: ParseResult) -> Path | None:
    """Keep ``cassette`` as the parse result of ``content``; returns the entry written, or None.

    ``cassette`` must be exactly what ``parse_cassette`` gives for ``content`` (as ``load_cassette`` has
    it after a miss): that is not checked, a hit returns it as given. A meta JSON cannot hold as it is
    (a date, a tuple) is not stored. Never raises. Faster with the cyclic GC paused, as load_cassette does.
    """
    where = _enabled(content)
    if where is None:
        return None
    folder, key = where
    try:
        if json.loads(json.dumps(cassette.meta)) != cassette.meta:  # TypeError for a date, a set, bytes
            raise BadEntry("meta does not survive JSON (a tuple or a non-string key in it?)")
        data = encode_entry(key, cassette.interactions, cassette.meta)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private_folder(folder):
            return None
        path = folder / f"{key}.json"
        atomic_write(path, data, durable=False)  # no fsync: an entry a power cut tears fails its checksum
    except Exception as e:  # never fatal: a full or read-only folder only means no entry
        logger.debug("graphtape cache: not stored: %s: %s", type(e).__name__, e)
        return None
    stats.stores += 1
    logger.debug("graphtape cache: stored %d interactions as %s", len(cassette.interactions), path)
    with contextlib.suppress(OSError):
        prune(folder, keep=path)
    return path


def prune(folder: Path, keep: Path | None = None, max_entries: int | None = None,
          max_bytes: int | None = None) -> None:
    """Delete the least recently used entries beyond the bounds (``keep`` stays), and stale temp files."""
    max_entries = MAX_ENTRIES if max_entries is None else max_entries
    max_bytes = MAX_TOTAL_BYTES if max_bytes is None else max_bytes
    entries: list[tuple[bool, float, int, Path]] = []
    now = time.time()
    for path in folder.iterdir():
        try:
            st = path.stat()
            if _ENTRY_NAME.fullmatch(path.name):
                entries.append((path == keep, st.st_mtime, st.st_size, path))
            elif path.name.endswith(".tmp") and now - st.st_mtime > _STALE_TEMP_S:
                path.unlink()
        except OSError:
            continue  # another process pruned it first
    entries.sort(reverse=True)  # ``keep`` first, then the most recently used
    count = total = 0
    for is_kept, _, size, path in entries:
        count, total = count + 1, total + size
        if not is_kept and (count > max_entries or total > max_bytes):
            count, total = max_entries, max_bytes  # everything older goes too
            with contextlib.suppress(OSError):
                path.unlink()
