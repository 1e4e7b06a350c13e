"""The summary's counts and the failure line agree: each reason a session fails for is a count the summary shows,
under the same name, in every mode."""

from __future__ import annotations

import re

import pytest

from graphtape.model import Deviation, FailOn, Finding, Mode, Outcome
from graphtape.session.exchanges import Exchange, Session
from graphtape.session.verdict import failures

URL = "https://graph.microsoft.com/v1.0/me/sendMail"
ERROR = Finding("mime.base64", "error", "mime:body", "not base64")
TOO_SOON = Finding("retry.too-soon", "warning", "header:Retry-After", "came 1 s after a 429 asked for 5 s")
DEVIATION = Deviation("body.subject", "changed", "a", "b")
COSMETIC = Deviation("header.Accept", "added", None, "application/json", cosmetic="header Accept")
# A failure reason's count and noun -> the summary's label for the same count.
LABELS = [(r"(\d+) unmatched request\(s\)", "unmatched"), (r"(\d+) exhausted request\(s\)", "exhausted"),
          (r"(\d+) contract error\(s\)", "contract errors"), (r"(\d+) deviation\(s\)", "deviations"),
          (r"(\d+) cosmetic deviation\(s\)", "cosmetic"),
          (r"(\d+) retry\(ies\) before Retry-After", "retries too soon"),
          (r"(\d+) recorded interaction\(s\) never used", "unused interactions")]


def _ex(number: int, outcome: Outcome, **kw) -> Exchange:
    return Exchange(number=number, method="POST", url=URL, outcome=outcome, **kw)


def _failing_session(mode: Mode) -> Session:
    served = Outcome.RECORDED if mode == Mode.RECORD else Outcome.MATCHED
    return Session(mode=mode, cassette="c.yaml", unused=[4] if mode != Mode.RECORD else [], exchanges=[
        _ex(1, Outcome.UNMATCHED), _ex(2, Outcome.EXHAUSTED), _ex(3, Outcome.EXHAUSTED),
        _ex(4, served, findings=[ERROR, TOO_SOON, TOO_SOON], deviations=[DEVIATION, COSMETIC, COSMETIC])])


@pytest.mark.parametrize("mode", [Mode.REPLAY, Mode.RECORD, Mode.NEW_EPISODES])
def test_every_reason_to_fail_is_a_count_the_summary_shows(mode: Mode) -> None:
    session = _failing_session(mode)
    reasons = failures(session, set(FailOn))
    summary = "\n".join(session.summary_lines())
    named = 0
    for reason in reasons:
        for pattern, label in LABELS:
            m = re.match(pattern, reason)
            if m:
                named += 1
                assert re.search(rf"\b{label} {m.group(1)}\b", summary), (reason, summary)
    assert named == len(reasons), reasons  # no reason the table does not know
    assert "2 exhausted request(s) (each recorded answer was already served)" in reasons
    assert "1 unmatched request(s)" in reasons
