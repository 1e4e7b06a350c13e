"""replay: match -> diff -> serve (the proxy pipeline validated first), graphtape's own answers in Graph's error
shape."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from graphtape.diffing.ignore import DEFAULT_IGNORE, IgnoreRules
from graphtape.model import Deviation, Finding, HttpRequest, HttpResponse, Interaction, Mode, Outcome
from graphtape.replay.pipeline import EXHAUSTED_STATUS, UNMATCHED_STATUS, Replayer
from graphtape.session.exchanges import Session

GRAPH = "https://graph.microsoft.com/v1.0"
CASSETTE = "cassettes/send.yaml"
WARNING = Finding("json.style", "warning", "/subject", "just a warning")
ERROR = Finding("json.subject", "error", "/subject", "subject is bad")


def post(path: str, body: dict[str, Any] | None = None) -> HttpRequest:
    data = json.dumps(body, separators=(",", ":")).encode() if body is not None else b""
    return HttpRequest("POST", f"{GRAPH}{path}", [("Content-Type", "application/json")] if data else [], data)


def recorded() -> list[Interaction]:
    return [
        Interaction(post("/me/messages", {"subject": "first"}),
                    HttpResponse(201, "Created", [("Content-Type", "application/json")], b'{"id":"AAMk1="}')),
        Interaction(post("/me/messages/AAMk1%3D/send"), HttpResponse(202, "Accepted")),
        Interaction(post("/me/messages", {"subject": "second"}),
                    HttpResponse(201, "Created", [("Content-Type", "application/json")], b'{"id":"AAMk2="}')),
    ]


def replayer(interactions: Sequence[Interaction] | None = None, allow_repeats: bool = False,
             rules: IgnoreRules = DEFAULT_IGNORE) -> tuple[Replayer, Session]:
    session = Session(mode=Mode.REPLAY, cassette=CASSETTE)
    r = Replayer(CASSETTE, recorded() if interactions is None else interactions, session,
                 allow_repeats=allow_repeats, rules=rules)
    return r, session


def error_of(resp: HttpResponse) -> dict[str, Any]:
    doc = json.loads(resp.body)
    assert set(doc) == {"error"}
    assert set(doc["error"]) == {"code", "message", "innerError"}
    assert {"request-id", "date"} <= set(doc["error"]["innerError"])
    return dict(doc["error"])


def test_matched_serves_the_recorded_response() -> None:
    r, session = replayer()
    ex, resp = r.handle(post("/me/messages", {"subject": "second"}))
    assert resp.body == b'{"id":"AAMk2="}'
    assert (ex.outcome, ex.status, ex.interaction, ex.number) == (Outcome.MATCHED, 201, 2, 1)
    ex, resp = r.handle(HttpRequest("POST", f"{GRAPH}//me/messages/AAMk1=/send"))  # SDK spelling
    assert (ex.outcome, ex.status, ex.interaction) == (Outcome.MATCHED, 202, 1)
    assert session.count(Outcome.MATCHED) == 2


def test_unmatched_answers_404_naming_cassette_and_nearest() -> None:
    r, session = replayer()
    ex, resp = r.handle(post("/me/sendMail", {"Message": {}}))
    assert resp.status == UNMATCHED_STATUS == 404
    err = error_of(resp)
    assert err["code"] == "graphtape.UnmatchedRequest"
    assert CASSETTE in err["message"]
    assert "POST /v1.0/me/sendMail" in err["message"]
    assert "Nearest recorded: #" in err["message"]
    assert "POST /v1.0/me/messages" in err["message"]
    assert (ex.outcome, ex.status, ex.interaction) == (Outcome.UNMATCHED, 404, None)
    assert ex.note.startswith("nearest: #")
    assert session.unmatched == 1


def test_unmatched_in_an_empty_cassette() -> None:
    r, _ = replayer(interactions=[])
    ex, resp = r.handle(post("/me/messages", {"subject": "x"}))
    assert resp.status == 404
    assert "The cassette is empty" in error_of(resp)["message"]
    assert ex.note == "the cassette has no interactions"


def test_exhausted_answers_410() -> None:
    r, session = replayer()
    r.handle(post("/me/messages/AAMk1=/send"))
    ex, resp = r.handle(post("/me/messages/AAMk1=/send"))
    assert resp.status == EXHAUSTED_STATUS == 410
    err = error_of(resp)
    assert err["code"] == "graphtape.CassetteExhausted"
    assert CASSETTE in err["message"] and "--allow-repeats" in err["message"]
    assert ex.outcome == Outcome.EXHAUSTED
    assert session.unmatched == 1 and session.count(Outcome.EXHAUSTED) == 1


def test_allow_repeats_serves_again() -> None:
    r, _ = replayer(allow_repeats=True)
    for _ in range(3):
        ex, resp = r.handle(post("/me/messages/AAMk1=/send"))
        assert (ex.outcome, resp.status) == (Outcome.MATCHED, 202)


def test_findings_given_are_the_exchanges_and_do_not_stop_a_match() -> None:
    r, session = replayer()
    ex, resp = r.handle(post("/me/messages", {"subject": "first"}), [WARNING, ERROR])
    assert (ex.outcome, ex.interaction, resp.status) == (Outcome.MATCHED, 0, 201)  # enforcing is the proxy's
    assert ex.findings == [WARNING, ERROR] and ex.errors == [ERROR]
    assert "contract errors 1, warnings 1" in "\n".join(session.summary_lines())


def test_a_served_request_is_diffed_against_its_recording() -> None:
    r, session = replayer()
    ex, _ = r.handle(post("/me/messages", {"subject": "first", "importance": "high"}))
    assert (ex.outcome, ex.interaction) == (Outcome.MATCHED, 0)
    assert ex.deviations == [Deviation("body.importance", "added", None, "high")]
    assert "deviations 1" in "\n".join(session.summary_lines())


def test_ignore_rules_hide_a_deviation_and_retune_changes_them() -> None:
    r, _ = replayer(rules=IgnoreRules.parse(["body.importance"]), allow_repeats=True)
    ex, _ = r.handle(post("/me/messages", {"subject": "first", "importance": "high"}))
    assert ex.outcome == Outcome.MATCHED and ex.deviations == []
    r.retune(allow_repeats=True, rules=DEFAULT_IGNORE)
    ex, _ = r.handle(post("/me/messages", {"subject": "first", "importance": "high"}))
    assert ex.interaction == 2 and "body.importance" in [d.path for d in ex.deviations]  # the unused one first
    r.retune(allow_repeats=False, rules=DEFAULT_IGNORE)
    ex, _ = r.handle(post("/me/messages", {"subject": "first"}))  # no repeats now: both are used up
    assert ex.outcome == Outcome.EXHAUSTED


def test_a_miss_names_the_nearest_recordings_with_their_differences() -> None:
    r, _ = replayer()
    ex, resp = r.handle(post("/me/message", {"subject": "first"}))
    msg = error_of(resp)["message"]
    assert "Nearest recorded: #1 POST /v1.0/me/messages [" in msg
    assert ex.note.startswith("nearest: #1 POST /v1.0/me/messages")


def test_finish_fills_unused() -> None:
    r, session = replayer()
    r.handle(post("/me/messages", {"subject": "first"}))
    r.finish()
    assert session.unused == [1, 2]


def test_summary_lines() -> None:
    r, session = replayer()
    r.handle(post("/me/messages", {"subject": "first"}), [WARNING])  # matched, with a warning
    rejected = session.start("POST", f"{GRAPH}/me/messages")  # as the proxy pipeline answers a contract error
    rejected.outcome, rejected.findings, rejected.note = Outcome.REJECTED, [ERROR], ERROR.line()
    for req in (post("/me/sendMail", {"Message": {}}), post("/me/messages/AAMk1=/send"),
                post("/me/messages/AAMk1=/send")):  # unmatched, matched, exhausted
        r.handle(req, [WARNING])
    r.finish()
    lines = session.summary_lines()
    assert lines[0] == f"graphtape: replay session ({CASSETTE}): 5 requests"
    assert lines[1] == ("  matched 2, unmatched 1, exhausted 1, rejected by contract 1, unused interactions 1")
    assert lines[2] == "  contract errors 1, warnings 4, deviations 0"  # a warning on each non-rejected call
    assert any(line.startswith(f"  #2 POST {GRAPH}/me/messages: rejected - error: json.subject") for line in lines)
    assert any(line.startswith(f"  #3 POST {GRAPH}/me/sendMail: unmatched - nearest:") for line in lines)
    assert f"  #5 POST {GRAPH}/me/messages/AAMk1=/send: exhausted - every recorded interaction for it was " \
           "already served" in lines
    assert not any(line.startswith("  #1 ") or line.startswith("  #4 ") for line in lines)
    assert lines[-1] == "  never used: interaction 3"


def test_summary_singular_and_other_modes() -> None:
    s = Session(mode=Mode.RECORD)
    s.start("GET", f"{GRAPH}/me").outcome = Outcome.RECORDED
    lines = s.summary_lines()
    assert lines[0] == "graphtape: record session: 1 request"
    assert lines[1] == "  recorded 1, not recorded 0, upstream failures 0"
    s.problems.append("cannot write c.yaml")
    assert s.summary_lines()[-1] == "  problem: cannot write c.yaml"


def test_summary_lists_at_most_20_unused() -> None:
    s = Session(mode=Mode.REPLAY, unused=list(range(25)))
    last = s.summary_lines()[-1]
    assert last.startswith("  never used: interaction 1, 2, 3")
    assert last.endswith("20 and 5 more")
