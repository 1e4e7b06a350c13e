"""JUnit: a request that fails the session is a failed test case, whatever the reason."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from graphtape.model import FailOn, Mode, Outcome
from graphtape.session.exchanges import Session
from graphtape.session.report import junit_xml
from graphtape.session.verdict import failures


@pytest.mark.parametrize(("mode", "outcome"), [
    (Mode.REPLAY, Outcome.UNMATCHED),
    (Mode.REPLAY, Outcome.EXHAUSTED),
    (Mode.REPLAY, Outcome.FAILED),  # graphtape's own 500: a bug in replay
    (Mode.RECORD, Outcome.FAILED),  # the upstream did not answer: the cassette lacks the call
    (Mode.RECORD, Outcome.NOT_RECORDED),  # a failed write (507) or a refused secret
])
def test_an_exchange_that_fails_the_session_is_a_failed_case(mode: Mode, outcome: Outcome) -> None:
    session = Session(mode=mode, cassette="c.yaml")
    ex = session.start("POST", "https://graph.microsoft.com/v1.0/me/sendMail")
    ex.outcome, ex.note = outcome, "what went wrong"
    if outcome in (Outcome.FAILED, Outcome.NOT_RECORDED):
        session.problems.append(f"#1 POST /me/sendMail: {ex.note}")  # as the addon records them
    assert failures(session, frozenset({FailOn.UNMATCHED, FailOn.VIOLATION}))  # the session fails ...
    suite = ET.fromstring(junit_xml(session))
    assert suite.get("failures") == "1"  # ... and so does its test case
    failure = suite.find("testcase/failure")
    assert failure is not None and outcome.value in (failure.get("message") or "")
    assert failure.text == "what went wrong"


def test_a_matched_or_recorded_exchange_is_a_passing_case() -> None:
    session = Session(mode=Mode.RECORD, cassette="c.yaml")
    session.start("POST", "https://graph.microsoft.com/v1.0/me/sendMail").outcome = Outcome.RECORDED
    suite = ET.fromstring(junit_xml(session))
    assert suite.get("failures") == "0" and suite.find("testcase/failure") is None
