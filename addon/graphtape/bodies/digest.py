"""A body kept as its SHA-256 and size instead of its bytes (upload-session chunks: up to 150 MB an upload).

In a cassette it is the body form ``{sha256: <64 hex digits>, size: <bytes>}``; replay compares a live body's
digest with it, so a chunk whose bytes differ from the recorded ones is a deviation (``body.sha256``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from graphtape.model import Deviation

DIGEST_KEYS = ("sha256", "size")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_CACHE_PREFIX = "sha256:"


@dataclass(frozen=True)
class BodyDigest:
    sha256: str  # 64 lower-case hex digits
    size: int  # bytes

    @classmethod
    def of(cls, body: bytes) -> BodyDigest:
        return cls(hashlib.sha256(body).hexdigest(), len(body))

    def node(self) -> dict[str, Any]:
        """The cassette body node."""
        return {"sha256": self.sha256, "size": self.size}

    @classmethod
    def from_node(cls, node: dict[str, Any]) -> BodyDigest:
        """The digest a cassette body node holds; ValueError saying what is wrong."""
        unknown = sorted(set(node) - set(DIGEST_KEYS))
        if unknown:
            raise ValueError(f"{unknown[0]!r} is not a key of a sha256 body (it has sha256 and size)")
        sha, size = node.get("sha256"), node.get("size")
        if not isinstance(sha, str) or not _HEX64.fullmatch(sha):
            raise ValueError("body.sha256 must be 64 lower-case hex digits (the SHA-256 of the body)")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ValueError(f"body.size must be the body's length in bytes, not {size!r}")
        return cls(sha, size)

    def text(self) -> str:
        """One string (the parse cache's form): ``sha256:<hex>:<size>``."""
        return f"{_CACHE_PREFIX}{self.sha256}:{self.size}"

    @classmethod
    def from_text(cls, text: str) -> BodyDigest | None:
        """``text()`` read back; None for any other string."""
        if not text.startswith(_CACHE_PREFIX):
            return None
        sha, _, size = text[len(_CACHE_PREFIX):].partition(":")
        if not _HEX64.fullmatch(sha) or not size.isdigit():
            return None
        return cls(sha, int(size))

    def short(self) -> str:
        return self.sha256[:16]


def digest_of(body: bytes, recorded: BodyDigest | None) -> BodyDigest:
    """A request body's digest: the recorded one when the body was kept as one, else computed."""
    return recorded if recorded is not None else BodyDigest.of(body)


def diff_digests(prefix: str, recorded: BodyDigest, actual: BodyDigest) -> list[Deviation]:
    """``body.sha256`` (16 hex digits shown) and ``body.size`` deviations; [] for the same bytes."""
    if recorded == actual:
        return []
    out = [Deviation(f"{prefix}.sha256", "changed", recorded.short(), actual.short())]
    if recorded.size != actual.size:
        out.append(Deviation(f"{prefix}.size", "changed", recorded.size, actual.size))
    return out
