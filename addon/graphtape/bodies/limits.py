"""How big a body graphtape holds in memory, and decoding that stops at that size (no gzip bombs).

One limit, ``MAX_BODY_BYTES`` (32 MB, ``GRAPHTAPE_MAX_BODY_MB`` to change), for both sides of it:

- on the wire: mitmproxy's ``stream_large_bodies`` is set to it in record and inspect, so a bigger body
  streams through without being held (and is not recorded); in replay, ``body_size_limit`` is set to it,
  so a bigger request is refused with 413 at once (replay never forwards anything).
- decoded: a ``Content-Encoding`` (gzip, deflate, br, zstd) is undone only up to it; a body that
  inflates beyond it is not validated, diffed or recorded (``BodyTooLarge``).

Graph itself takes at most 4 MB per request body (150 MB attachments go in upload-session chunks), and
PyYAML reads and writes about 1 MB/s, so a bigger body in a cassette would stall the proxy anyway.
"""

from __future__ import annotations

import io
import math
import os
import zlib

MAX_BODY_ENV = "GRAPHTAPE_MAX_BODY_MB"
DEFAULT_MAX_BODY_MB = 32


class BodyTooLarge(Exception):
    """A body over the limit (on the wire or once decoded); the message says which and what to do."""


_READ: dict[tuple[str, str, float], int] = {}  # (name, value, default) -> bytes: the parse of a value seen before


def megabytes_from_env(name: str, default_mb: float) -> int:
    """A size limit in bytes from the environment variable ``name`` (in MB), else ``default_mb``; read each call
    (a test may change it), parsed once per value."""
    key = (name, os.environ.get(name, ""), default_mb)
    known = _READ.get(key)
    if known is None:
        known = _READ[key] = _megabytes(name, key[1].strip(), default_mb)
    return known


def _megabytes(name: str, raw: str, default_mb: float) -> int:
    try:
        mb = float(raw) if raw else default_mb
    except ValueError:
        mb = math.nan
    if not math.isfinite(mb) or mb <= 0:  # inf and nan parse as floats; 0 or less would refuse every body
        raise ValueError(f"graphtape: {name}={raw!r} is not a positive number of megabytes (unset it for the "
                         f"default, {default_mb:g})")
    return max(1, int(mb * 1024 * 1024))


def max_body_bytes() -> int:
    return megabytes_from_env(MAX_BODY_ENV, DEFAULT_MAX_BODY_MB)


def mitmproxy_size(limit: int) -> str:
    """A byte count as mitmproxy's size options spell it (``32m``, ``1500k``, ``100``)."""
    for suffix, unit in (("m", 1024 * 1024), ("k", 1024)):
        if limit % unit == 0:
            return f"{limit // unit}{suffix}"
    return str(limit)


def too_large(what: str, limit: int) -> BodyTooLarge:
    return BodyTooLarge(f"{what} is over graphtape's {limit / (1024 * 1024):g} MB body limit, so it is not "
                        f"checked or recorded (set {MAX_BODY_ENV} to raise it)")


def decode_bounded(raw: bytes, encoding: str, limit: int) -> bytes:
    """``raw`` with its Content-Encoding undone, never producing more than ``limit`` bytes.

    Raises BodyTooLarge past the limit. An unknown encoding or undecodable data gives ``raw`` back
    unchanged (as mitmproxy's non-strict ``get_content`` does).
    """
    enc = encoding.strip().lower()
    if enc in ("", "identity", "none"):
        out = raw
    else:
        try:
            out = _decode(raw, enc, limit)
        except BodyTooLarge:
            raise
        except Exception:  # corrupt data: keep the bytes as sent
            out = raw
    if len(out) > limit:
        raise too_large(f"the body ({'decoded ' if out is not raw else ''}{len(out)} bytes or more)", limit)
    return out


def _decode(raw: bytes, enc: str, limit: int) -> bytes:
    if enc in ("gzip", "x-gzip", "deflate", "deflateraw"):
        if enc == "deflate":
            try:
                return _zlib(raw, zlib.MAX_WBITS, limit)
            except zlib.error:
                return _zlib(raw, -zlib.MAX_WBITS, limit)  # many servers send raw deflate
        wbits = -zlib.MAX_WBITS if enc == "deflateraw" else 16 + zlib.MAX_WBITS
        return _zlib(raw, wbits, limit)
    if enc == "br":
        import brotli

        dec = brotli.Decompressor()
        out = dec.process(raw, output_buffer_limit=limit + 1)
        if len(out) > limit or not dec.is_finished():
            if len(out) > limit or not dec.can_accept_more_data():
                raise too_large("the body, decoded,", limit)
            raise ValueError("truncated brotli data")
        return bytes(out)
    if enc == "zstd":
        import zstandard

        with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw), read_across_frames=True) as reader:
            out = reader.read(limit + 1)
        if len(out) > limit:
            raise too_large("the body, decoded,", limit)
        return out
    raise ValueError(f"unknown encoding {enc!r}")


def _zlib(raw: bytes, wbits: int, limit: int) -> bytes:
    dec = zlib.decompressobj(wbits)
    out = dec.decompress(raw, limit + 1)
    if len(out) > limit:
        raise too_large("the body, decoded,", limit)
    if not dec.eof:
        raise zlib.error("incomplete or truncated stream")
    return out
