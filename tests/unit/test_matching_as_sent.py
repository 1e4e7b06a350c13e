"""Matcher.find looks a body sent byte for byte as recorded up by its bytes (``_as_sent``) instead of canonicalising
it again: it must serve exactly what the fingerprint alone serves, for bodies sent as recorded and bodies that are
not (JSON re-ordered, MIME with another Date, $batch with fresh ids, upload chunks, digests, other Content-Types)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import pytest

from graphtape.bodies.digest import BodyDigest
from graphtape.model import HttpRequest, HttpResponse, Interaction
from graphtape.replay import matching
from graphtape.replay.matching import Matcher

GRAPH = "https://graph.microsoft.com/v1.0"
JSON = [("Content-Type", "application/json")]
TEXT = [("Content-Type", "text/plain")]


def mime(date: str, subject: str = "Hi") -> bytes:
    raw = f"From: a@contoso.com\r\nTo: b@contoso.com\r\nDate: {date}\r\nSubject: {subject}\r\n\r\nBody\r\n"
    return base64.encodebytes(raw.encode())


def batch(ids: list[str]) -> bytes:
    items = [{"id": i, "method": "GET", "url": f"/me/messages/{n}"} for n, i in enumerate(ids)]
    return json.dumps({"requests": items}).encode()


def r(path: str, body: bytes = b"", headers: list[tuple[str, str]] | None = None, method: str = "POST",
      digest: BodyDigest | None = None) -> HttpRequest:
    return HttpRequest(method, f"{GRAPH}{path}", list(JSON if headers is None else headers), body, digest)


RECORDED = [
    r("/me/messages", b'{"subject":"one","importance":"low"}'),
    r("/me/messages", b'{"subject":"two"}'),
    r("/me/messages", b'{"subject":"one","importance":"low"}'),  # the same body twice
    r("/me/sendMail", mime("Mon, 1 Jan 2026 10:00:00 +0000"), TEXT),
    r("/me/sendMail", mime("Mon, 1 Jan 2026 10:00:00 +0000", "Other"), TEXT),
    r("/$batch", batch(["1", "2"])),
    r("/me/messages/A%3D/send"),
    r("/upload/x", b"chunk-bytes", [("Content-Range", "bytes 0-10/20")], method="PUT"),
    r("/upload/x", b"", [("Content-Range", "bytes 11-19/20")], method="PUT",
      digest=BodyDigest.of(b"rest-of-it")),
    r("/me/messages", b'{"subject":"one","importance":"low"}', [("Content-Type", "text/plain")]),
]
LIVE = [
    *RECORDED,
    r("/me/messages", b'{"importance":"low","subject":"one"}'),  # same JSON, other bytes
    r("/me/messages", b'{"subject": "two"}'),
    r("/me/sendMail", mime("Tue, 2 Jan 2026 11:00:00 +0000"), TEXT),  # a volatile Date
    r("/$batch", batch(["a9", "b7"])),  # fresh ids
    r("/me/messages/A=/send"),  # the same URL, spelt otherwise
    r("/upload/x", b"chunk-bytes", [("Content-Range", "bytes 0-10/20")], method="PUT"),
    r("/upload/x", b"rest-of-it", [("Content-Range", "bytes 11-19/20")], method="PUT"),
    r("/me/messages", b'{"subject":"one","importance":"low"}', [("Content-Type", "application/json; charset=utf-8")]),
    r("/me/messages", b'{"subject":"three"}'),
]


def served(matcher_of: Callable[[], Matcher], order: list[HttpRequest]) -> list[tuple[str, int | None, bool]]:
    m = matcher_of()
    out = []
    for q in order:
        got = m.find(q)
        out.append((str(got.kind), got.index, got.body_recorded))
        if got.index is not None:
            m.use(got.index)
    return out


@pytest.mark.parametrize("allow_repeats", [False, True])
@pytest.mark.parametrize("order", [LIVE, LIVE[::-1], LIVE + LIVE])
def test_the_same_interactions_are_served_as_by_the_fingerprint_alone(
        order: list[HttpRequest], allow_repeats: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    interactions = [Interaction(q, HttpResponse(200)) for q in RECORDED]

    def new() -> Matcher:
        return Matcher(interactions, allow_repeats=allow_repeats)

    fast = served(new, order)
    monkeypatch.setattr(matching, "_as_sent", lambda key, req: None)  # every body canonicalised, as before
    assert fast == served(new, order)
    assert sum(1 for kind, _, _ in fast if kind == "matched") >= len(RECORDED)
