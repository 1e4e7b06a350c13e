"""replay: validate -> match -> diff -> serve, with graphtape's own answers in Graph's error shape."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from graphtape.model import Deviation, Finding, HttpRequest, HttpResponse, Interaction, Mode, Outcome
from graphtape.replay.pipeline import EXHAUSTED_STATUS, UNMATCHED_STATUS, Replayer, Steps
from graphtape.session.exchanges import Session

GRAPH = "https://graph.microsoft.com/v1.0"
CASSETTE = "cassettes/send.yaml"


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


def replayer(steps: Steps | None = None, interactions: Sequence[Interaction] | None = None,
             allow_repeats: bool = False) -> tuple[Replayer, Session]:
    session = Session(mode=Mode.REPLAY, cassette=CASSETTE)
    r = Replayer(CASSETTE, recorded() if interactions is None else interactions, session,
                 allow_repeats=allow_repeats, steps=steps or Steps())
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


def test_non_graph_url_is_unmatched_without_touching_the_cassette() -> None:
    r, _ = replayer()
    for url in ("https://example.com/v1.0/me/messages", "https://login.microsoftonline.com/common/oauth2/token",
                "https://graph.microsoft.com/v2.0/me/messages"):
        ex, resp = r.handle(HttpRequest("POST", url, [("Content-Type", "application/json")], b'{"subject":"first"}'))
        assert (ex.outcome, resp.status) == (Outcome.UNMATCHED, 404)
        assert error_of(resp)["code"] == "graphtape.UnmatchedRequest"
        assert "outside Microsoft Graph" in error_of(resp)["message"]
    r.finish()
    assert r.session.unused == [0, 1, 2]


def _rejects_bad_subject(req: HttpRequest) -> list[Finding]:
    if b'"bad"' in req.body:
        return [Finding("json.subject", "error", "/subject", "subject is bad")]
    return [Finding("json.style", "warning", "/subject", "just a warning")]


def _graph_400(req: HttpRequest, findings: Sequence[Finding]) -> HttpResponse | None:
    return HttpResponse(400, "Bad Request", [("Content-Type", "application/json")],
                        b'{"error":{"code":"ErrorInvalidRequest","message":"bad"}}')


def test_rejected_request_does_not_consume_the_interaction() -> None:
    r, session = replayer(Steps(validate=_rejects_bad_subject, enforce=_graph_400))
    ex, resp = r.handle(post("/me/messages", {"subject": "bad"}))
    assert (ex.outcome, resp.status) == (Outcome.REJECTED, 400)
    assert ex.interaction is None
    assert "error: json.subject at /subject: subject is bad" in ex.note
    ex, resp = r.handle(post("/me/messages", {"subject": "other"}))
    assert (ex.outcome, ex.interaction, resp.status) == (Outcome.MATCHED, 0, 201)  # the first is still there
    assert [f.severity for f in ex.findings] == ["warning"]
    assert session.count(Outcome.REJECTED) == 1


def test_enforce_returning_none_serves_anyway() -> None:
    r, _ = replayer(Steps(validate=_rejects_bad_subject, enforce=lambda req, findings: None))
    ex, resp = r.handle(post("/me/messages", {"subject": "bad"}))
    assert (ex.outcome, resp.status) == (Outcome.MATCHED, 201)
    assert len(ex.errors) == 1


def test_validate_without_enforce_only_reports() -> None:
    r, session = replayer(Steps(validate=_rejects_bad_subject))
    ex, _ = r.handle(post("/me/messages", {"subject": "bad"}))
    assert ex.outcome == Outcome.MATCHED and len(ex.errors) == 1
    assert "contract errors 1, warnings 0" in "\n".join(session.summary_lines())


def test_diff_step_gets_recorded_and_actual() -> None:
    calls: list[tuple[HttpRequest, HttpRequest]] = []

    def diff(rec: HttpRequest, actual: HttpRequest) -> list[Deviation]:
        calls.append((rec, actual))
        return [Deviation("body.subject", "changed", "first", "changed")]

    r, session = replayer(Steps(diff=diff))
    actual = post("/me/messages", {"subject": "changed"})
    ex, _ = r.handle(actual)
    assert calls == [(recorded()[0].request, actual)]
    assert ex.deviations == [Deviation("body.subject", "changed", "first", "changed")]
    assert "deviations 1" in "\n".join(session.summary_lines())


def test_diff_not_called_on_a_miss() -> None:
    calls: list[HttpRequest] = []

    def diff(rec: HttpRequest, actual: HttpRequest) -> list[Deviation]:
        calls.append(actual)
        return []

    r, _ = replayer(Steps(diff=diff))
    r.handle(post("/me/sendMail", {}))
    assert calls == []


def test_nearest_step_text_in_unmatched_message() -> None:
    def nearest(req: HttpRequest, recorded_requests: Sequence[Any]) -> list[tuple[int, list[Deviation]]]:
        return [(2, [Deviation("url", "changed", "/me/messages", "/me/message")])]

    r, _ = replayer(Steps(nearest=nearest))
    ex, resp = r.handle(post("/me/message", {"subject": "x"}))
    msg = error_of(resp)["message"]
    assert "Nearest recorded: #3 POST /v1.0/me/messages [url: '/me/messages' -> '/me/message']" in msg
    assert ex.note.startswith("nearest: #3")


def test_finish_fills_unused() -> None:
    r, session = replayer()
    r.handle(post("/me/messages", {"subject": "first"}))
    r.finish()
    assert session.unused == [1, 2]


def test_summary_lines() -> None:
    r, session = replayer(Steps(validate=_rejects_bad_subject, enforce=_graph_400))
    r.handle(post("/me/messages", {"subject": "first"}))  # matched, with a warning
    r.handle(post("/me/messages", {"subject": "bad"}))  # rejected
    r.handle(post("/me/sendMail", {"Message": {}}))  # unmatched
    r.handle(post("/me/messages/AAMk1=/send"))  # matched
    r.handle(post("/me/messages/AAMk1=/send"))  # exhausted
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
