"""A request whose URL was recorded but never with its body, once the recordings of that URL are used: the 410
says the body differs (and how), not only that every answer was served."""

from __future__ import annotations

import json

from graphtape.model import HttpRequest, HttpResponse, Interaction, Mode, Outcome
from graphtape.replay.matching import Matcher
from graphtape.replay.pipeline import EXHAUSTED_STATUS, Replayer
from graphtape.session.exchanges import Session

URL = "https://graph.microsoft.com/v1.0/me/messages"


def post(subject: str) -> HttpRequest:
    return HttpRequest("POST", URL, [("Content-Type", "application/json")], json.dumps({"subject": subject}).encode())


def one_recording() -> list[Interaction]:
    return [Interaction(post("first"), HttpResponse(201, "Created", [("Content-Type", "application/json")], b"{}"))]


def test_the_matcher_says_whether_the_body_was_ever_recorded() -> None:
    m = Matcher(one_recording())
    m.use(0)
    assert m.find(post("first")).body_recorded is True
    assert m.find(post("never recorded")).body_recorded is False


def test_a_never_recorded_body_at_a_used_url_is_said_to_differ() -> None:
    session = Session(mode=Mode.REPLAY, cassette="c.yaml")
    r = Replayer("c.yaml", one_recording(), session)
    r.handle(post("first"))
    ex, resp = r.handle(post("never recorded"))
    assert resp.status == EXHAUSTED_STATUS
    message = json.loads(resp.body)["error"]["message"]
    assert "not with this body" in message and "subject" in message, message
    assert "already served" in message and "record the call" in message, message
    assert ex.outcome == Outcome.EXHAUSTED and "body differs" in ex.note, ex.note


def test_a_repeat_of_a_recorded_body_is_still_just_exhausted() -> None:
    session = Session(mode=Mode.REPLAY, cassette="c.yaml")
    r = Replayer("c.yaml", one_recording(), session)
    r.handle(post("first"))
    ex, resp = r.handle(post("first"))
    message = json.loads(resp.body)["error"]["message"]
    assert "each recorded answer was already served" in message and "body" not in message, message
    assert "body differs" not in ex.note
