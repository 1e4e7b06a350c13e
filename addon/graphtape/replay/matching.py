"""Which recorded interaction answers a request: pure, indexed, independent of mitmproxy.

A request matches an interaction with the same method and normalised URL (``graph.request_key``:
``//`` collapsed, percent-encoding normalised, query parameters as a set). Among those, one whose
body is equal (JSON parsed, base64 MIME decoded) is served first, else the next unused one in
recorded order. A ``$batch`` is equal to another with the same items whatever their ids (the SDKs make up new ones
every run); failing that, one whose items make the same calls (methods and paths) is served first.
Each interaction is served once unless repeats are allowed.

``match_on`` (``cassette/matchon.py``) narrows or widens that: without ``method`` or ``url`` requests are indexed
by what is left of the key; with ``body`` or ``headers:NAME`` (``replay/criteria.py``) only the recordings meeting
them may serve, and a request none of its recordings meets is unmatched (``Match.refused`` names them).

A recorded query value ``<redacted>`` (a secret the recorder replaced) stands for any value: a
request whose URL differs from a recording only in the values of those parameters matches it.

Lookups cost the same for a cassette of 10 or 10,000 interactions: everything is hashed up front.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from graphtape.bodies.batch import batch_fingerprint, batch_shape, is_batch
from graphtape.bodies.digest import digest_of
from graphtape.bodies.kinds import is_json_type, is_mime_upload_type
from graphtape.cassette.matchon import DEFAULT, MatchOn
from graphtape.diffing.ignore import DEFAULT_IGNORE, IgnoreRules
from graphtape.graph import parse_query, request_key
from graphtape.model import HttpRequest, Interaction, MatchKind, header
from graphtape.privacy.redaction import REDACTED, Redactor
from graphtape.replay.criteria import Criteria


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
    """What ``body_fingerprint`` reads of a request with key ``key`` (its whole key, method and URL, whatever
    ``match_on`` leaves out), as sent (None: a digest body).

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
    refused: tuple[int, ...] = ()  # UNMATCHED: the recordings of its method and URL that match_on refused


class Matcher:
    """Serves recorded interactions to requests; keeps which ones are used."""

    def __init__(self, interactions: Sequence[Interaction], *, allow_repeats: bool = False,
                 match_on: MatchOn = DEFAULT, rules: IgnoreRules = DEFAULT_IGNORE):
        self.interactions = interactions
        self.allow_repeats = allow_repeats
        self.match_on = match_on
        self.used = [False] * len(interactions)
        by_key: dict[str, list[int]] = defaultdict(list)
        self._by_key_body: dict[tuple[str, str], list[int]] = defaultdict(list)
        self._batches: dict[str, list[int]] = defaultdict(list)  # a $batch's items' methods and paths
        self._next: dict[str, int] = defaultdict(int)  # position in _by_key[key] of the next unused
        fingerprints: list[str] = []
        self._fingerprints: dict[tuple[str, str, str, bytes], str] = {}  # a recorded body as sent -> its fingerprint
        for i, interaction in enumerate(interactions):
            key = match_on.slot(interaction.request.key)
            by_key[key].append(i)
            fingerprints.append(body_fingerprint(interaction.request))
            self._by_key_body[(key, fingerprints[-1])].append(i)
            sent = _as_sent(interaction.request.key, interaction.request)  # the whole key: see _as_sent
            if sent is not None:
                self._fingerprints.setdefault(sent, fingerprints[-1])
            if is_batch(interaction.request):
                self._batches[batch_shape(interaction.request)].append(i)
        self._by_key: dict[str, tuple[int, ...]] = {key: tuple(indices) for key, indices in by_key.items()}
        # The sets of query parameters recorded as <redacted>: a live request's values of those are masked.
        masks = {_redacted_params(i.request) for i in interactions}
        self._masks = [Redactor(params=mask) for mask in sorted(masks - {frozenset()}, key=sorted)]
        self.criteria = (Criteria(match_on, [i.request for i in interactions], fingerprints, rules)
                         if match_on.strict else None)

    def retuned(self, match_on: MatchOn, rules: IgnoreRules) -> Matcher:
        """This matcher under another ``match_on``, the interactions used so far kept used."""
        if match_on == self.match_on:
            if self.criteria is not None:
                self.criteria.rules = rules
            return self
        other = Matcher(self.interactions, allow_repeats=self.allow_repeats, match_on=match_on, rules=rules)
        other.used = self.used
        return other

    def _key(self, req: HttpRequest) -> str:
        """The request's key; if no recording has it, its key with secret values masked as some recordings are."""
        key = self.match_on.slot(req.key)
        if key in self._by_key or not self._masks:
            return key
        for mask in self._masks:
            masked = self.match_on.slot(
                request_key(req.method, mask.url(req.url), header(req.headers, "content-range") or ""))
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
        sent = _as_sent(req.key, req)
        fingerprint = self._fingerprints.get(sent) if sent is not None else None
        if fingerprint is None:  # a body no recording has byte for byte
            fingerprint = body_fingerprint(req)
        same_body = self._by_key_body.get((key, fingerprint), [])
        if self.criteria is not None:
            return self._find_meeting(req, key, candidates, same_body, self.criteria.checker(req, fingerprint))
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

    def _find_meeting(self, req: HttpRequest, key: str, candidates: Sequence[int], same_body: Sequence[int],
                      ok: Callable[[int], bool]) -> Match:
        """``find`` under match_on's body or header criteria: the same preferences, among the recordings that
        meet them (``ok``); the unused ones first (lazily: the first that meets them ends the search), and only then
        are the used ones looked at."""
        batch = self._batches.get(batch_shape(req), ()) if self._batches and is_batch(req) else ()
        start = self._next_unused(key)
        in_order = itertools.islice(candidates, self._next[key], None) if start is not None else ()
        unused = (i for i in itertools.chain(same_body, (i for i in batch if i in candidates), in_order)
                  if not self.used[i])
        pick = next((i for i in unused if ok(i)), None)
        if pick is not None:
            return Match(MatchKind.MATCHED, pick)
        met = [i for i in candidates if self.used[i] and ok(i)]
        if not met:
            return Match(MatchKind.UNMATCHED, refused=tuple(candidates))
        if self.allow_repeats:
            return Match(MatchKind.MATCHED, next((i for i in same_body if ok(i)), met[-1]))
        return Match(MatchKind.EXHAUSTED, body_recorded=bool(same_body) or self.match_on.body)

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
