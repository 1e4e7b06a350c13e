"""Deterministic ids and times for the simulator: the same ``id_seed`` and ``clock`` give the same bytes.

Every id is derived from ``(id_seed, kind, n)`` by SHA-256, so two runs that make the same calls in the same order
answer with the same ids, change keys and conversation ids. The shapes are Graph's (base64, as Exchange writes its
ids): a message id ``AAMkA...AAA=``, a folder id ``AAMkA...AAEPAAA=``, a change key ``CQAAABYAAAA...``.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import itertools
import re
import threading
from dataclasses import dataclass, field

STEP = _dt.timedelta(seconds=1)  # how far a fixed clock moves for each answer
_ID = re.compile(r"^[A-Za-z0-9+/_-]+={0,2}$")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode().replace("+", "-").replace("/", "_")  # Graph's REST ids: URL-safe


@dataclass
class Ids:
    """Ids from one seed: ``message()``, ``folder(name)``, ``change_key()``, ``conversation()``..."""

    seed: int = 0
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _digest(self, kind: str, extra: str = "") -> bytes:
        with self.lock:
            n = next(self.counter)
        return hashlib.sha256(f"{self.seed}:{kind}:{n}:{extra}".encode()).digest()

    def message(self) -> str:
        return "AAMkA" + _b64(self._digest("message")[:24]).rstrip("=") + "AAA="

    def folder(self, name: str) -> str:
        digest = hashlib.sha256(f"{self.seed}:folder:{name.lower()}".encode()).digest()
        return "AAMkA" + _b64(digest[:18]) + "AAEPAAA="

    def attachment(self) -> str:
        return "AAMkA" + _b64(self._digest("attachment")[:30]).rstrip("=") + "BEgAQA="

    def change_key(self) -> str:
        return "CQAAABYAAAA" + _b64(self._digest("changekey")[:21])

    def conversation(self) -> str:
        return "AAQkA" + _b64(self._digest("conversation")[:15]) + "="

    def conversation_index(self) -> str:
        return base64.b64encode(b"\x01" + self._digest("index")[:21]).decode()

    def upload_session(self) -> str:
        return "AAMkA" + _b64(self._digest("upload")[:15]) + "AAA="

    def token(self) -> str:
        return base64.urlsafe_b64encode(self._digest("token")[:24]).decode().rstrip("=")

    def request_id(self) -> str:
        h = self._digest("request").hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"

    def hexname(self, kind: str) -> str:
        return self._digest(kind).hex()[:24].upper()


def is_well_formed(item_id: str) -> bool:
    """An id Exchange could have written: base64 text (either alphabet), at least 8 characters. Others are
    ``ErrorInvalidIdMalformed`` (400); a well-formed id of nothing is ``ErrorItemNotFound`` (404)."""
    return len(item_id) >= 8 and _ID.fullmatch(item_id) is not None


@dataclass
class Clock:
    """``now()``: a fixed start moved one ``STEP`` on each ``tick()``, or the wall clock (``start`` None)."""

    start: _dt.datetime | None = None
    ticks: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def tick(self) -> None:
        with self.lock:
            self.ticks += 1

    def now(self) -> _dt.datetime:
        if self.start is None:
            return _dt.datetime.now(_dt.UTC).replace(microsecond=0)
        start = self.start if self.start.tzinfo else self.start.replace(tzinfo=_dt.UTC)
        with self.lock:
            return (start + STEP * self.ticks).astimezone(_dt.UTC).replace(microsecond=0)

    def iso(self) -> str:
        """``2017-12-23T07:29:57Z``: how Graph writes a message's times."""
        return self.now().strftime("%Y-%m-%dT%H:%M:%SZ")
