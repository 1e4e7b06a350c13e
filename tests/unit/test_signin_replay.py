"""Replay's sign-in step: answered offline first, counted as its own outcome (not unmatched, no interaction used),
named in the summary and the report; without the step, the old 404."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from graphtape.diffing.ignore import IgnoreRules
from graphtape.model import FailOn, HttpRequest, HttpResponse, Interaction, Mode, Outcome
from graphtape.proxy.replay_mode import replay_steps
from graphtape.replay.pipeline import Replayer, Steps
from graphtape.session.exchanges import Session
from graphtape.session.report import session_report
from graphtape.session.verdict import failures
from graphtape.signin import answer

TOKEN_URL = "https://login.microsoftonline.us/contoso.onmicrosoft.com/oauth2/v2.0/token"
FORM = [("Content-Type", "application/x-www-form-urlencoded")]
GOOD = urlencode({"grant_type": "client_credentials", "client_id": "app", "client_secret": "-".join("xy"),
                  "scope": "https://graph.microsoft.us/.default"}).encode()
SEND = HttpRequest("POST", "https://graph.microsoft.com/v1.0/me/sendMail", [("Content-Type", "application/json")],
                   b'{"message":{"subject":"s","toRecipients":[{"emailAddress":{"address":"a@b.c"}}]}}')


def replayer(steps: Steps) -> tuple[Replayer, Session]:
    session = Session(mode=Mode.REPLAY, cassette="c.yaml")
    return Replayer("c.yaml", [Interaction(SEND, HttpResponse(202, "Accepted"))], session, steps=steps), session


def test_sign_in_is_answered_offline_and_counted_apart() -> None:
    r, session = replayer(Steps(signin=answer))
    ex, resp = r.handle(HttpRequest("POST", TOKEN_URL, FORM, GOOD))
    assert resp.status == 200 and json.loads(resp.body)["token_type"] == "Bearer"
    assert (ex.outcome, ex.status, ex.interaction, ex.note) == (Outcome.SIGNED_IN, 200, None, "")
    ex, resp = r.handle(SEND)
    assert (ex.outcome, resp.status) == (Outcome.MATCHED, 202)
    r.finish()
    assert session.unused == [] and failures(session, set(FailOn)) == []
    assert "  sign-in calls answered offline 1 (graphtape's fake tokens, not recorded)" in session.summary_lines()
    assert session_report(session)["summary"]["signed_in_offline"] == 1


def test_a_malformed_sign_in_gets_entras_error_and_says_why() -> None:
    r, _ = replayer(Steps(signin=answer))
    ex, resp = r.handle(HttpRequest("POST", TOKEN_URL, FORM, b"grant_type=client_credentials"))
    assert resp.status == 400 and json.loads(resp.body)["error_codes"] == [900144]
    assert ex.outcome == Outcome.SIGNED_IN and "AADSTS900144" in ex.note and "'client_id'" in ex.note


def test_without_the_step_sign_in_is_unmatched_as_before() -> None:
    r, session = replayer(Steps())
    ex, resp = r.handle(HttpRequest("POST", TOKEN_URL, FORM, GOOD))
    assert resp.status == 404 and json.loads(resp.body)["error"]["code"] == "graphtape.UnmatchedRequest"
    assert ex.outcome == Outcome.UNMATCHED
    assert not any("sign-in" in line for line in session.summary_lines())


def test_replay_steps_take_the_option() -> None:
    assert replay_steps(IgnoreRules(), enforce=True).signin is answer
    assert replay_steps(IgnoreRules(), enforce=True, signin=False).signin is None


def test_command_line_flags() -> None:
    from graphtape.cli import build_parser, proxy_options

    def opts(*argv: str) -> dict[str, object]:
        args = build_parser().parse_args(list(argv))
        return proxy_options(args, Mode.REPLAY if args.command == "replay" else Mode.RECORD, "c.yaml")

    assert opts("replay", "c.yaml")["graphtape_signin"] is True
    assert opts("replay", "c.yaml", "--no-offline-signin")["graphtape_signin"] is False
    assert "graphtape_upstream_signin" not in opts("record", "c.yaml", "--upstream", "https://127.0.0.1:1")
    assert opts("record", "c.yaml", "--upstream", "https://127.0.0.1:1", "--upstream-signin")[
        "graphtape_upstream_signin"] is True
