"""The cassette file: YAML a person reviews in a pull request, loaded with a safe loader only.

Reading is strict: an unknown format version, a malformed or truncated file, a missing or mistyped
field, or a YAML alias is refused with the file, the line and what to do. A broken cassette is never
treated as empty and never written over.

Writing is atomic (write aside, then rename), so a proxy killed at any moment leaves the previous,
loadable file.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import gc
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from graphtape import __version__, cache
from graphtape.atomicfile import atomic_write
from graphtape.bodycodec import BodyFormatError, decode_body, encode_body
from graphtape.limits import megabytes_from_env
from graphtape.model import Headers, HttpRequest, HttpResponse, Interaction
from graphtape.yamldump import dump_yaml

FORMAT_VERSION = 1
VERSION_KEY = "graphtape_cassette"
# PyYAML reads about 1 MB/s and holds ~15 bytes per byte read: a 64 MB cassette already takes a minute and
# a gigabyte. Bigger files are refused at once (before reading); GRAPHTAPE_MAX_CASSETTE_MB raises the limit.
MAX_CASSETTE_ENV = "GRAPHTAPE_MAX_CASSETTE_MB"
DEFAULT_MAX_CASSETTE_MB = 64


class CassetteError(Exception):
    """A cassette that cannot be read: says which file, which line, what is wrong and what to do."""

    def __init__(self, path: str | os.PathLike[str], message: str, line: int | None = None, hint: str = ""):
        self.path = str(path)
        self.line = line
        self.detail = message
        self.hint = hint
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {message}" + (f" ({hint})" if hint else ""))


@dataclass
class Cassette:
    path: Path
    interactions: list[Interaction] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


def mitmproxy_version() -> str:
    try:
        from mitmproxy.version import VERSION

        return VERSION
    except ImportError:  # pragma: no cover - mitmproxy is a dependency
        return "unknown"


def new_meta() -> dict[str, Any]:
    now = _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return {"created": now, "graphtape_version": __version__, "mitmproxy_version": mitmproxy_version()}


# --------------------------------------------------------------------------- reading


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


class _Reader:
    """Walks the composed YAML nodes so every error can name its line."""

    def __init__(self, path: Path, loader: _StrictLoader):
        self.path = path
        self.loader = loader

    def fail(self, node: Node | None, message: str, hint: str = "") -> CassetteError:
        line = node.start_mark.line + 1 if node is not None else None
        return CassetteError(self.path, message, line, hint)

    def value(self, node: Node) -> Any:
        try:
            return self.loader.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, TypeError, RecursionError) as e:  # e.g. a !!python/... tag
            raise self.fail(node, f"cannot read this value: {getattr(e, 'problem', None) or e}") from None

    def mapping(self, node: Node, what: str) -> dict[str, Node]:
        if not isinstance(node, MappingNode):
            raise self.fail(node, f"{what} must be a mapping")
        out: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = self.value(key_node)
            if not isinstance(key, str):
                raise self.fail(key_node, f"{what}: keys must be strings, got {key!r}")
            if key in out:
                raise self.fail(key_node, f"{what}: duplicate key {key!r}")
            out[key] = value_node
        return out

    def required(self, fields: dict[str, Node], parent: Node, key: str, what: str) -> Node:
        if key not in fields:
            raise self.fail(parent, f"{what} has no {key!r}")
        return fields[key]

    def string(self, node: Node, what: str) -> str:
        value = self.value(node)
        if not isinstance(value, str):
            raise self.fail(node, f"{what} must be a string, got {value!r}")
        return value

    def headers(self, node: Node | None, what: str) -> Headers:
        if node is None:
            return []
        if not isinstance(node, SequenceNode):
            raise self.fail(node, f"{what} must be a list of 'Name: value' entries")
        out: Headers = []
        for item in node.value:
            pairs = self.mapping(item, f"{what} entry")
            if len(pairs) != 1:
                raise self.fail(item, f"{what} entry must have exactly one 'Name: value'")
            ((name, value_node),) = pairs.items()
            value = self.value(value_node)
            if value is None:
                value = ""
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                raise self.fail(value_node, f"{what} {name!r} must be a string")
            out.append((name, str(value)))
        return out

    def body(self, node: Node | None, what: str) -> bytes:
        if node is None:
            return b""
        try:
            return decode_body(self.value(node))
        except BodyFormatError as e:
            raise self.fail(node, f"{what}: {e}") from None

    def request(self, node: Node, what: str) -> HttpRequest:
        f = self.mapping(node, what)
        method = self.string(self.required(f, node, "method", what), f"{what}.method")
        url = self.string(self.required(f, node, "url", what), f"{what}.url")
        if not url.startswith(("http://", "https://")):
            raise self.fail(f["url"], f"{what}.url must be an absolute http(s) URL, got {url!r}")
        return HttpRequest(
            method=method.upper(),
            url=url,
            headers=self.headers(f.get("headers"), f"{what}.headers"),
            body=self.body(f.get("body"), f"{what}.body"),
        )

    def response(self, node: Node, what: str) -> HttpResponse:
        f = self.mapping(node, what)
        status_node = self.required(f, node, "status", what)
        status = self.value(status_node)
        if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
            raise self.fail(status_node, f"{what}.status must be an HTTP status code, got {status!r}")
        reason = self.value(f["reason"]) if "reason" in f else ""
        return HttpResponse(
            status=status,
            reason=str(reason or ""),
            headers=self.headers(f.get("headers"), f"{what}.headers"),
            body=self.body(f.get("body"), f"{what}.body"),
        )

    def interaction(self, node: Node, index: int) -> Interaction:
        what = f"interaction {index + 1}"
        f = self.mapping(node, what)
        recorded_at = self.value(f["recorded_at"]) if "recorded_at" in f else ""
        duration = self.value(f["duration_ms"]) if "duration_ms" in f else None
        if duration is not None and not isinstance(duration, (int, float)):
            raise self.fail(f["duration_ms"], f"{what}.duration_ms must be a number")
        return Interaction(
            request=self.request(self.required(f, node, "request", what), f"{what}.request"),
            response=self.response(self.required(f, node, "response", what), f"{what}.response"),
            recorded_at=str(recorded_at or ""),
            duration_ms=float(duration) if duration is not None else None,
        )


def _decode_text(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise CassetteError(
            path, f"not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start})", line,
            "a cassette is UTF-8 YAML; was it saved by another tool or corrupted?",
        ) from None


def _bad_character(path: Path, text: str, e: yaml.reader.ReaderError) -> CassetteError:
    """A character YAML does not allow (NUL, other controls), with its line."""
    at = text.count("\n", 0, e.position) + 1 if isinstance(e.position, int) else None
    char = f"U+{e.character:04X}" if isinstance(e.character, int) else repr(e.character)
    return CassetteError(path, f"invalid YAML: character {char} is not allowed in YAML", at,
                         "is the file corrupted, or not a cassette?")


def parse_cassette(path: Path, text: str) -> Cassette:
    """Parse cassette text; raises CassetteError with the line on anything malformed."""
    try:
        loader = _StrictLoader(text)  # PyYAML's reader refuses control characters (a NUL) here; libyaml's later
    except yaml.reader.ReaderError as e:
        raise _bad_character(path, text, e) from None
    try:
        root = loader.get_single_node()
    except yaml.reader.ReaderError as e:
        raise _bad_character(path, text, e) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        raise CassetteError(path, f"invalid YAML: {e.problem or e.context}", line,
                            "is the file truncated or hand-edited?") from None
    except yaml.YAMLError as e:
        raise CassetteError(path, f"invalid YAML: {e}") from None
    except RecursionError:
        raise CassetteError(path, "invalid YAML: nested too deeply") from None
    finally:
        loader.dispose()
    reader = _Reader(path, loader)
    if root is None:
        raise CassetteError(path, "the file is empty, not a cassette",
                            hint="record one with 'graphtape record' or delete the file")
    if not isinstance(root, MappingNode):
        raise reader.fail(root, "not a graphtape cassette (the top level is not a mapping)")
    top = reader.mapping(root, "the cassette")
    if VERSION_KEY not in top:
        raise reader.fail(root, f"not a graphtape cassette (no '{VERSION_KEY}' version key)",
                          "graphtape only reads files it wrote; VCR.py cassettes are not supported")
    version = reader.value(top[VERSION_KEY])
    if version != FORMAT_VERSION:
        raise reader.fail(top[VERSION_KEY], f"unknown cassette format version {version!r}",
                          f"this graphtape ({__version__}) reads version {FORMAT_VERSION}; upgrade graphtape "
                          "or re-record the cassette")
    meta: dict[str, Any] = {}
    if "meta" in top:
        meta_value = reader.value(top["meta"])
        if meta_value is not None and not isinstance(meta_value, dict):
            raise reader.fail(top["meta"], "meta must be a mapping")
        meta = dict(meta_value or {})
    interactions_node = top.get("interactions")
    if interactions_node is None or (isinstance(interactions_node, ScalarNode)
                                     and reader.value(interactions_node) is None):
        _check_complete(path, text, 0)
        return Cassette(path=path, interactions=[], meta=meta)
    if not isinstance(interactions_node, SequenceNode):
        raise reader.fail(interactions_node, "interactions must be a list")
    items = [reader.interaction(n, i) for i, n in enumerate(interactions_node.value)]
    _check_complete(path, text, len(items))
    return Cassette(path=path, interactions=items, meta=meta)


def max_cassette_bytes() -> int:
    """The size limit for reading and writing a cassette (GRAPHTAPE_MAX_CASSETTE_MB, default 64)."""
    return megabytes_from_env(MAX_CASSETTE_ENV, DEFAULT_MAX_CASSETTE_MB)


def _too_big(size: int, limit: int) -> str:
    return (f"the file is {size / (1024 * 1024):.1f} MB, over the {limit / (1024 * 1024):g} MB limit for a "
            f"cassette (reading it would take minutes and gigabytes); set {MAX_CASSETTE_ENV} to raise the limit, "
            "or split the recording")


def load_cassette(path: str | os.PathLike[str]) -> Cassette:
    """Read a cassette from disk (never modifies it)."""
    p = Path(path)
    try:
        size, limit = p.stat().st_size, max_cassette_bytes()
        if size > limit and p.is_file():
            raise CassetteError(p, _too_big(size, limit))
        data = p.read_bytes()
    except FileNotFoundError:
        raise CassetteError(p, "no such cassette", hint="record it first with 'graphtape record'") from None
    except IsADirectoryError:
        raise CassetteError(p, "is a folder, not a cassette file") from None
    except PermissionError:
        raise CassetteError(p, "cannot be read (permission denied)") from None
    with _gc_paused():
        hit = cache.lookup(data)  # a big cassette parsed before (same bytes, same parser code): no YAML
        if hit is not None:
            return Cassette(path=p, interactions=hit[0], meta=hit[1])
        cassette = parse_cassette(p, _decode_text(p, data))
        cache.store(data, cassette)
    return cassette


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """PyYAML's node tree is a great many small containers, and the cyclic GC re-walks them all as the tree
    grows: a 10,000-interaction cassette loaded in 20 s with it, 7.5 s without. Nothing here makes cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# --------------------------------------------------------------------------- writing


def _headers_node(headers: Headers) -> list[dict[str, str]]:
    return [{name: value} for name, value in headers]


def interaction_to_data(interaction: Interaction) -> dict[str, Any]:
    req, resp = interaction.request, interaction.response
    data: dict[str, Any] = {
        "request": {
            "method": req.method,
            "url": req.url,
            "headers": _headers_node(req.headers),
            "body": encode_body(req.body, req.content_type),
        },
        "response": {
            "status": resp.status,
            "reason": resp.reason,
            "headers": _headers_node(resp.headers),
            "body": encode_body(resp.body, resp.content_type),
        },
    }
    if interaction.recorded_at:
        data["recorded_at"] = interaction.recorded_at
    if interaction.duration_ms is not None:
        data["duration_ms"] = round(interaction.duration_ms, 1)
    return data


def interaction_chunk(data: dict[str, Any]) -> str:
    """One interaction as the YAML text of one item of the top-level ``interactions`` list."""
    return dump_yaml([data])


_HEADER_COMMENT = (
    "# graphtape cassette: recorded Microsoft Graph traffic, replayed by 'graphtape replay'.\n"
    "# Bodies are stored decoded (JSON as YAML, base64 MIME as its RFC 5322 text); secrets are redacted.\n"
)


def _end_marker(count: int) -> str:
    return f"# end of graphtape cassette: {count} interaction{'s' * (count != 1)}\n"


def render_head(meta: dict[str, Any]) -> bytes:
    """Everything before the first interaction: the comment, the version, meta and the ``interactions:`` key."""
    return (_HEADER_COMMENT + dump_yaml({VERSION_KEY: FORMAT_VERSION, "meta": meta}) + "interactions:").encode()


def assemble(head: bytes, chunks: Sequence[bytes]) -> list[bytes]:
    """The whole file, in parts to write one after the other, from its head (``render_head``) and its
    interactions' chunks (UTF-8)."""
    middle = [b"\n", *chunks] if chunks else [b" []\n"]
    return [head, *middle, _end_marker(len(chunks)).encode()]


def render(meta: dict[str, Any], chunks: Sequence[str]) -> str:
    return b"".join(assemble(render_head(meta), [c.encode() for c in chunks])).decode()


def _check_complete(path: Path, text: str, count: int) -> None:
    """A file graphtape wrote ends with its end line; one cut short (a bad copy, a full disk) does not."""
    if not text.startswith(_HEADER_COMMENT.splitlines()[0]):
        return  # written by hand: nothing to check against
    last = text.rstrip("\n").rsplit("\n", 1)[-1] + "\n"
    if last != _end_marker(count):
        line = text.count("\n") + 1
        raise CassetteError(path, "the file ends early: no end-of-cassette line after the last interaction, "
                            "so it was cut short", line,
                            "restore it from version control or re-record it; graphtape itself writes atomically")


def write_cassette_file(path: Path, parts: Sequence[bytes], *, durable: bool = True) -> None:
    """Put a rendered cassette (``assemble``'s parts) in place atomically, unless it is over the size limit
    (OSError EFBIG): a cassette graphtape writes is always one it can read back."""
    size, limit = sum(map(len, parts)), max_cassette_bytes()
    if size > limit:
        raise OSError(errno.EFBIG, _too_big(size, limit), str(path))
    atomic_write(path, parts, durable=durable)


def save_cassette(path: Path, interactions: Sequence[Interaction], meta: dict[str, Any] | None = None) -> None:
    chunks = [interaction_chunk(interaction_to_data(i)) for i in interactions]
    atomic_write(path, render(meta or new_meta(), chunks))
