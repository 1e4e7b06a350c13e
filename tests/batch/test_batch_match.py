"""Replay matching of a $batch: the same items with fresh ids are the same batch; else the same calls first."""

from __future__ import annotations

from graphtape.model import HttpResponse, Interaction, MatchKind
from graphtape.replay.matching import Matcher, body_fingerprint

from .batches import batch_request, draft, send, send_mime


def test_fresh_item_ids_do_not_change_the_fingerprint_but_a_body_does() -> None:
    a = batch_request(draft("1"), send("2", after="1"))
    b = batch_request(draft("x"), send("y", after="x"))
    assert body_fingerprint(a) == body_fingerprint(b)
    assert body_fingerprint(a) != body_fingerprint(batch_request(draft("1", "other"), send("2", after="1")))
    assert body_fingerprint(a) != body_fingerprint(batch_request(draft("1"), send("2")))  # dependsOn counts


def test_a_batch_is_served_the_recording_of_the_same_items_then_of_the_same_calls() -> None:
    recorded = [batch_request(draft("1"), send("2", after="1")), batch_request(send_mime("1"), send_mime("2"))]
    matcher = Matcher([Interaction(r, HttpResponse(200)) for r in recorded])
    assert matcher.find(batch_request(send_mime("u"), send_mime("v"))).index == 1  # same items, other ids
    changed = batch_request(send_mime("u", subject="changed"), send_mime("v", body="bad!"))
    assert matcher.find(changed).index == 1  # the same calls: sendMail twice
    other = batch_request(draft("u", "changed"), send("v", after="u"))
    assert matcher.find(other).index == 0
    assert matcher.find(batch_request(draft("z"))).kind == MatchKind.MATCHED  # else the next unused, in order
