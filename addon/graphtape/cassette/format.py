"""The cassette file: YAML a person reviews in a pull request, loaded with a safe loader only.

Reading (``cassette_read``, ``cassette_nodes``) is strict: an unknown format version, a malformed or
truncated file, a missing, unknown or mistyped field, or a YAML alias is refused with the file, the line and
what to do. A broken cassette is never treated as empty and never written over.

Writing is atomic (write aside, then rename), so a proxy killed at any moment leaves the previous,
loadable file; and every piece written is one the reader loads back as it was.
"""

from __future__ import annotations

import datetime as _dt
import errno
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from graphtape import __version__
from graphtape.cassette.atomicfile import atomic_write
from graphtape.cassette.bodycodec import encode_body
from graphtape.cassette.nodes import AS_SENT, CassetteError, UnwritableInteraction, check_writable
from graphtape.cassette.read import (
    DEFAULT_MAX_CASSETTE_MB,
    FORMAT_VERSION,
    HEADER_COMMENT,
    MAX_CASSETTE_ENV,
    VERSION_KEY,
    Cassette,
    end_marker,
    load_cassette,
    max_cassette_bytes,
    parse_cassette,
    too_big,
)
from graphtape.cassette.yamldump import dump_quoted, dump_yaml
from graphtape.model import Headers, Interaction

__all__ = ["DEFAULT_MAX_CASSETTE_MB", "FORMAT_VERSION", "MAX_CASSETTE_ENV", "VERSION_KEY", "Cassette",
           "CassetteError", "UnwritableInteraction", "assemble", "dump_yaml", "extend", "interaction_chunk",
           "interaction_to_data", "load_cassette", "max_cassette_bytes", "new_meta", "parse_cassette", "render",
           "render_head", "rendered_count", "save_cassette", "write_cassette_file"]


def mitmproxy_version() -> str:
    try:
        from mitmproxy.version import VERSION

        return VERSION
    except ImportError:  # pragma: no cover - mitmproxy is a dependency
        return "unknown"


def new_meta() -> dict[str, Any]:
    now = _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return {"created": now, "graphtape_version": __version__, "mitmproxy_version": mitmproxy_version()}


# --------------------------------------------------------------------------- writing


def _headers_node(headers: Headers) -> list[dict[str, str]]:
    return [{name: value} for name, value in headers]


def interaction_to_data(interaction: Interaction) -> dict[str, Any]:
    """The interaction as cassette data; raises UnwritableInteraction (a ValueError) for one the reader would
    refuse (a CR or LF in a header, a header name with a space), so it is never written."""
    check_writable(interaction)
    req, resp = interaction.request, interaction.response
    data: dict[str, Any] = {
        "request": {
            "method": req.method,
            "url": req.url,
            "headers": _headers_node(req.headers),
            "body": req.body_digest.node() if req.body_digest is not None else encode_body(req.body, req.content_type),
        },
        "response": {
            "status": resp.status,
            "reason": resp.reason,
            "headers": _headers_node(resp.headers),
            "body": encode_body(resp.body, resp.content_type),
        },
    }
    if resp.body_as_sent and data["response"]["body"] is not None:
        data["response"]["body"][AS_SENT] = True
    if interaction.recorded_at:
        data["recorded_at"] = interaction.recorded_at
    if interaction.duration_ms is not None:
        data["duration_ms"] = round(interaction.duration_ms, 1)
    return data


# A chunk is one item of the top-level list: its first line starts it, every other line is indented or empty.
_NOT_ONE_ITEM = re.compile(r"\n(?=[^ \n])")


def interaction_chunk(data: dict[str, Any]) -> str:
    """One interaction as the YAML text of one item of the top-level ``interactions`` list: chunks and the end
    line can be put one after the other in any number and still load (checked here, not assumed)."""
    text = dump_yaml([data])
    if not text.startswith("- ") or not text.endswith("\n") or _NOT_ONE_ITEM.search(text, 0, len(text) - 1):
        text = dump_quoted([data])
    return text


def render_head(meta: dict[str, Any]) -> bytes:
    """Everything before the first interaction: the comment, the version, meta and the ``interactions:`` key."""
    return (HEADER_COMMENT + dump_yaml({VERSION_KEY: FORMAT_VERSION, "meta": meta}) + "interactions:").encode()


def assemble(head: bytes, chunks: Sequence[bytes]) -> list[bytes]:
    """The whole file, in parts to write one after the other, from its head (``render_head``) and its
    interactions' chunks (UTF-8)."""
    middle = [b"\n", *chunks] if chunks else [b" []\n"]
    return [head, *middle, end_marker(len(chunks)).encode()]


_END = re.compile(rb"# end of graphtape cassette: (\d+) interactions?\n\Z")


def rendered_count(data: bytes) -> int | None:
    """The number in the end line of a cassette as ``assemble`` renders it, or None (not such a file)."""
    found = _END.search(data)
    if found is None or not data.endswith(end_marker(int(found.group(1))).encode()):
        return None
    return int(found.group(1))


def extend(data: bytes, chunks: Sequence[bytes]) -> bytes:
    """A file ``assemble`` rendered, with ``chunks`` after its last interaction (as ``assemble`` would have
    rendered it with them); raises ValueError for a file ``assemble`` did not render."""
    count = rendered_count(data)
    if count is None:
        raise ValueError("graphtape: not a cassette as graphtape renders it (its end line is missing)")
    if not chunks:
        return data
    body = data[:len(data) - len(end_marker(count))]
    if count == 0:
        if not body.endswith(b" []\n"):
            raise ValueError("graphtape: not a cassette as graphtape renders it (no empty list)")
        body = body[:-4] + b"\n"
    return b"".join([body, *chunks, end_marker(count + len(chunks)).encode()])


def render(meta: dict[str, Any], chunks: Sequence[str]) -> str:
    return b"".join(assemble(render_head(meta), [c.encode() for c in chunks])).decode()


def write_cassette_file(path: Path, parts: Sequence[bytes], *, durable: bool = True) -> None:
    """Put a rendered cassette (``assemble``'s parts) in place atomically, unless it is over the size limit
    (OSError EFBIG): a cassette graphtape writes is always one it can read back."""
    size, limit = sum(map(len, parts)), max_cassette_bytes()
    if size > limit:
        raise OSError(errno.EFBIG, too_big(size, limit), str(path))
    atomic_write(path, parts, durable=durable)


def save_cassette(path: Path, interactions: Sequence[Interaction], meta: dict[str, Any] | None = None) -> None:
    """Write a whole cassette at once, through the same size check as the recorder (OSError EFBIG)."""
    chunks = [interaction_chunk(interaction_to_data(i)).encode() for i in interactions]
    write_cassette_file(path, assemble(render_head(meta or new_meta()), chunks))
