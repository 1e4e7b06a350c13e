"""Which recorded interaction answers a request: pure, indexed, independent of mitmproxy.

A request matches an interaction with the same method and normalised URL (``graph.request_key``:
``//`` collapsed, percent-encoding normalised, query parameters as a set). Among those, one whose
body is equal (JSON parsed, base64 MIME decoded) is served first, else the next unused one in
recorded order. A ``$batch`` is equal to another with the same items whatever their ids (the SDKs make up new ones
every run); failing that, one whose items make the same calls (methods and paths) is served first.
Each interaction is served once unless repeats are allowed.

A recorded query value ``<redacted>`` (a secret the recorder replaced) stands for any value: a
request whose URL differs from a recording only in the values of those parameters matches it.

Lookups cost the same for a cassette of 10 or 10,000 interactions: everything is hashed up front.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from graphtape.bodies.batch import batch_fingerprint, batch_shape, is_batch
from graphtape.bodies.digest import digest_of
from graphtape.bodies.kinds import is_json_type, is_mime_upload_type
from graphtape.graph import parse_query, request_key
from graphtape.model import HttpRequest, Interaction, MatchKind, header
from graphtape.privacy.redaction import REDACTED, Redactor


def body_fingerprint(req: HttpRequest) -> str:
    """Equal for bodies that mean the same: JSON compared parsed, base64 MIME compared decoded (the request's view);
    a body recorded as its digest (an upload chunk) and a live one with a Content-Range, by their SHA-256."""
    body = req.body
    if req.body_digest is not None or (body and header(req.headers, "content-range")):
        return digest_of(body, req.body_digest).text()
    if not body:
        return ""
    data = body
    batch = batch_fingerprint(req) if is_batch(req) else None
    if batch is not None:  # the same batch sent again with fresh item ids is the same body
        data = b"batch:" + batch
    elif is_json_type(req.content_type):
        if req.json.ok:
            try:
                data = json.dumps(req.json.value, sort_keys=True, separators=(",", ":")).encode()
            except (ValueError, RecursionError):
                data = body
    elif is_mime_upload_type(req.content_type):
        decoded = req.mime_bytes
        if decoded is not None:
            data = b"mime:" + decoded
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


def _as_sent(key: str, req: HttpRequest) -> tuple[str, str, str, bytes] | None:
    """What ``body_fingerprint`` reads of a request with matching key ``key``, as sent (None: a digest body).

    Two requests with the same key and the same of these have the same fingerprint: it is a function of the
    body, the Content-Type, the Content-Range and whether the request is a ``$batch`` (its method and path, which
    the key holds). So a body sent as recorded is looked up by its bytes, without being canonicalised again."""
    if req.body_digest is not None:
        return None
    return key, req.content_type, header(req.headers, "content-range") or "", req.body


@dataclass(frozen=True)
class Match:
    kind: MatchKind
    index: int | None = None  # the recorded interaction served (0-based)
    body_recorded: bool = True  # EXHAUSTED: some recording of the URL has this body (else it was never recorded)


class Matcher:
    """Serves recorded interactions to requests; keeps which ones are used."""

    def __init__(self, interactions: Sequence[Interaction], *, allow_repeats: bool = False):
        self.interactions = interactions
        self.allow_repeats = allow_repeats
        self.used = [False] * len(interactions)
        by_key: dict[str, list[int]] = defaultdict(list)
        self._by_key_body: dict[tuple[str, str], list[int]] = defaultdict(list)
        self._batches: dict[str, list[int]] = defaultdict(list)  # a $batch's items' methods and paths
        self._next: dict[str, int] = defaultdict(int)  # position in _by_key[key] of the next unused
        self._fingerprints: dict[tuple[str, str, str, bytes], str] = {}  # a recorded body as sent -> its fingerprint
        for i, interaction in enumerate(interactions):
            key = interaction.request.key
            by_key[key].append(i)
            fingerprint = body_fingerprint(interaction.request)
            self._by_key_body[(key, fingerprint)].append(i)
            sent = _as_sent(key, interaction.request)
            if sent is not None:
                self._fingerprints.setdefault(sent, fingerprint)
            if is_batch(interaction.request):
                self._batches[batch_shape(interaction.request)].append(i)
        self._by_key: dict[str, tuple[int, ...]] = {key: tuple(indices) for key, indices in by_key.items()}
        # The sets of query parameters recorded as <redacted>: a live request's values of those are masked.
        masks = {_redacted_params(i.request) for i in interactions}
        self._masks = [Redactor(params=mask) for mask in sorted(masks - {frozenset()}, key=sorted)]

    def _key(self, req: HttpRequest) -> str:
        """The request's key; if no recording has it, its key with secret values masked as some recordings are."""
        key = req.key
        if key in self._by_key or not self._masks:
            return key
        for mask in self._masks:
            masked = request_key(req.method, mask.url(req.url), header(req.headers, "content-range") or "")
            if masked in self._by_key:
                return masked
        return key

    def _first_unused(self, indices: Sequence[int]) -> int | None:
        for i in indices:
            if not self.used[i]:
                return i
        return None

    def _next_unused(self, key: str) -> int | None:
        indices = self._by_key[key]
        pos = self._next[key]
        while pos < len(indices) and self.used[indices[pos]]:
            pos += 1
        self._next[key] = pos
        return indices[pos] if pos < len(indices) else None

    def find(self, req: HttpRequest) -> Match:
        """The interaction that would answer ``req``, without using it."""
        key = self._key(req)
        candidates = self._by_key.get(key)
        if not candidates:
            return Match(MatchKind.UNMATCHED)
        sent = _as_sent(key, req)
        fingerprint = self._fingerprints.get(sent) if sent is not None else None
        if fingerprint is None:  # a body no recording has byte for byte
            fingerprint = body_fingerprint(req)
        same_body = self._by_key_body.get((key, fingerprint), [])
        pick = self._first_unused(same_body)
        if pick is None and self._batches and is_batch(req):  # then a batch of the same calls, its bodies changed
            pick = self._first_unused(self._batches.get(batch_shape(req), []))
        if pick is not None:
            return Match(MatchKind.MATCHED, pick)
        pick = self._next_unused(key)
        if pick is not None:
            return Match(MatchKind.MATCHED, pick)
        if self.allow_repeats:
            if same_body:
                return Match(MatchKind.MATCHED, same_body[0])
            return Match(MatchKind.MATCHED, candidates[-1])
        return Match(MatchKind.EXHAUSTED, body_recorded=bool(same_body))

    def use(self, index: int) -> None:
        self.used[index] = True

    def unused(self) -> list[int]:
        return [i for i, u in enumerate(self.used) if not u]

    def nearest_keys(self, req: HttpRequest, limit: int = 3) -> list[int]:
        """Interactions whose method and URL look most like ``req`` (for 'did you mean')."""
        key = self._key(req)
        close = difflib.get_close_matches(key, list(self._by_key), n=limit, cutoff=0.0)
        return [self._by_key[k][0] for k in close]


def _redacted_params(req: HttpRequest) -> frozenset[str]:
    """The query parameters of a recorded URL whose value is ``<redacted>`` (lower case)."""
    if REDACTED not in req.url:
        return frozenset()
    parsed = req.graph_url  # an upload URL (outlook.office.com) is no Graph URL: its authtoken counts as well
    query = parsed.query if parsed is not None else parse_query(urlsplit(req.url).query)
    return frozenset(k.lower() for k, v in query if v == REDACTED)
