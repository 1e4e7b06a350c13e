"""Sign-in in replay, what the session makes of it: its own outcome, counted apart in the summary and the report,
never a failure. (Where replay answers it, the pipeline's "offline answers" stage: tests/proxy_addon/
test_addon_signin.py.) And the command line's flags for it."""

from __future__ import annotations

from graphtape.model import FailOn, Mode, Outcome
from graphtape.session.exchanges import Session
from graphtape.session.report import session_report
from graphtape.session.verdict import failures

TOKEN_URL = "https://login.microsoftonline.us/contoso.onmicrosoft.com/oauth2/v2.0/token"


def test_a_signed_in_call_is_counted_apart_and_fails_nothing() -> None:
    session = Session(mode=Mode.REPLAY, cassette="c.yaml")
    ex = session.start("POST", TOKEN_URL)
    ex.outcome, ex.status = Outcome.SIGNED_IN, 200
    assert failures(session, set(FailOn)) == []
    assert "  sign-in calls answered offline 1 (graphtape's fake tokens, not recorded)" in session.summary_lines()
    assert session_report(session)["summary"]["signed_in_offline"] == 1
    assert not any("sign-in" in line for line in Session(mode=Mode.REPLAY, cassette="c.yaml").summary_lines())


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
