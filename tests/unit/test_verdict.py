"""session.verdict: the one place that decides what fails a session, and the vocabulary's wire values."""

from __future__ import annotations

import json

import pytest

from graphtape.model import Deviation, FailOn, Finding, MatchKind, Mode, Outcome, PluginMode
from graphtape.session.exchanges import Exchange, Session
from graphtape.session.report import session_report
from graphtape.session.verdict import (
    DEFAULT_FAIL_ON,
    DEFAULT_FAIL_ON_TEXT,
    STRICT_ADDS,
    bypassed,
    fail_on_for,
    fail_on_text,
    failures,
    parse_fail_on,
)

URL = "https://graph.microsoft.com/v1.0/me/sendMail"
ERROR = Finding("mime.base64", "error", "mime:body", "not base64")
WARNING = Finding("mime.date", "warning", "mime:header:Date", "no Date")
DEVIATION = Deviation("body.subject", "changed", "a", "b")
COSMETIC = Deviation("body.importance", "changed", "low", "Low", cosmetic="enum case")


def _session(*exchanges: Exchange, unused: tuple[int, ...] = (), problems: tuple[str, ...] = ()) -> Session:
    return Session(mode=Mode.REPLAY, cassette="c.yaml", exchanges=list(exchanges), unused=list(unused),
                   problems=list(problems))


def _ex(number: int, outcome: Outcome = Outcome.MATCHED, **kw) -> Exchange:
    return Exchange(number=number, method="POST", url=URL, outcome=outcome, **kw)


CLEAN = _session(_ex(1), _ex(2, findings=[WARNING]))
UNMATCHED = _session(_ex(1, Outcome.UNMATCHED), _ex(2, Outcome.EXHAUSTED))
VIOLATION = _session(_ex(1, findings=[ERROR, WARNING]), _ex(2, Outcome.REJECTED, findings=[ERROR]))
DEVIATED = _session(_ex(1, deviations=[DEVIATION, DEVIATION]))
COSMETIC_ONLY = _session(_ex(1, deviations=[COSMETIC]), _ex(2, deviations=[COSMETIC, COSMETIC]))
UNUSED = _session(_ex(1), unused=(1, 2, 3))


@pytest.mark.parametrize(("item", "session", "reason"), [
    (FailOn.UNMATCHED, UNMATCHED, "1 unmatched request(s)"),  # exhausted fails on unmatched too (below)
    (FailOn.VIOLATION, VIOLATION, "2 contract error(s)"),  # warnings do not count
    (FailOn.DEVIATION, DEVIATED, "2 deviation(s) from the recording"),
    (FailOn.COSMETIC, COSMETIC_ONLY, "3 cosmetic deviation(s) from the recording"),  # not under deviation
    (FailOn.UNUSED, UNUSED, "3 recorded interaction(s) never used"),
])
def test_each_fail_on_item_fails_its_own_kind_only(item: FailOn, session: Session, reason: str) -> None:
    assert failures(session, {item})[0] == reason
    assert failures(session, set(FailOn) - {item}) == []
    assert failures(CLEAN, {item}) == []


def test_the_default_is_unmatched_and_violation() -> None:
    assert {FailOn.UNMATCHED, FailOn.VIOLATION} == DEFAULT_FAIL_ON
    assert DEFAULT_FAIL_ON_TEXT == "unmatched,violation"  # the --fail-on and graphtape_fail_on default, as before
    assert failures(UNMATCHED, DEFAULT_FAIL_ON) == [  # named as the summary counts them
        "1 unmatched request(s)", "1 exhausted request(s) (each recorded answer was already served)"]
    assert failures(VIOLATION, DEFAULT_FAIL_ON) == ["2 contract error(s)"]
    assert failures(DEVIATED, DEFAULT_FAIL_ON) == [] and failures(UNUSED, DEFAULT_FAIL_ON) == []
    assert failures(COSMETIC_ONLY, DEFAULT_FAIL_ON) == []


def test_cosmetic_deviations_count_apart_from_the_others() -> None:
    mixed = _session(_ex(1, deviations=[DEVIATION, COSMETIC]))
    assert failures(mixed, {FailOn.DEVIATION}) == ["1 deviation(s) from the recording"]
    assert failures(mixed, {FailOn.COSMETIC}) == ["1 cosmetic deviation(s) from the recording"]
    assert failures(mixed, {FailOn.DEVIATION, FailOn.COSMETIC}) == [
        "1 deviation(s) from the recording", "1 cosmetic deviation(s) from the recording"]
    assert "deviations 1, cosmetic 1" in "\n".join(mixed.summary_lines())
    assert failures(COSMETIC_ONLY, fail_on_for(True)) == []  # strict adds deviations, not cosmetic ones


def test_strict_adds_deviations_and_unused_to_what_was_asked() -> None:
    assert fail_on_for(False) == DEFAULT_FAIL_ON
    assert fail_on_for(True) == set(FailOn) - {FailOn.RETRY, FailOn.EXPIRED, FailOn.COSMETIC}  # deviations, unused
    assert {FailOn.DEVIATION, FailOn.UNUSED} == STRICT_ADDS
    assert fail_on_for(True, {FailOn.UNMATCHED}) == {FailOn.UNMATCHED, FailOn.DEVIATION, FailOn.UNUSED}
    assert fail_on_for(False, set()) == set()
    assert failures(DEVIATED, fail_on_for(False)) == []
    assert failures(DEVIATED, fail_on_for(True)) == ["2 deviation(s) from the recording"]
    assert failures(UNUSED, fail_on_for(True)) == ["3 recorded interaction(s) never used"]


def test_problems_fail_whatever_fail_on_says() -> None:
    session = _session(_ex(1), problems=("cannot write c.yaml",))
    assert failures(session, set()) == ["cannot write c.yaml"]
    assert failures(session, set(FailOn)) == ["cannot write c.yaml"]


def test_since_judges_only_what_came_later_and_not_unused_again() -> None:
    session = _session(_ex(1, Outcome.UNMATCHED), _ex(2, findings=[ERROR]), unused=(0,), problems=("p1", "p2"))
    everything = set(FailOn)
    assert failures(session, everything) == ["1 unmatched request(s)", "1 contract error(s)",
                                             "1 recorded interaction(s) never used", "p1", "p2"]
    assert failures(session, everything, since=(1, 1)) == ["1 contract error(s)", "p2"]
    assert failures(session, everything, since=(2, 2)) == []


def test_parse_fail_on_and_its_text() -> None:
    assert parse_fail_on(" deviation , unused,") == {FailOn.DEVIATION, FailOn.UNUSED}
    assert parse_fail_on("") == set()
    assert all(isinstance(item, FailOn) for item in parse_fail_on("unmatched,violation"))
    choices = "unmatched, violation, deviation, unused, retry, expired, cosmetic"
    with pytest.raises(ValueError, match=rf"unknown everything \(choose from {choices}\)"):
        parse_fail_on("unmatched,everything")
    assert fail_on_text({FailOn.UNUSED, FailOn.UNMATCHED}) == "unmatched,unused"  # declaration order, stable
    assert parse_fail_on(fail_on_text(set(FailOn))) == set(FailOn)


def test_the_vocabulary_keeps_its_wire_values() -> None:
    """Option values, cassettes and reports carry these strings: they must never change."""
    assert [m.value for m in Mode] == ["record", "replay", "inspect", "off", "simulate", "new_episodes"]
    assert [m.value for m in PluginMode] == ["replay", "record", "once", "simulate", "new_episodes"]
    assert [m.value for m in MatchKind] == ["matched", "unmatched", "exhausted"]
    assert [m.value for m in FailOn] == ["unmatched", "violation", "deviation", "unused", "retry", "expired",
                                         "cosmetic"]
    assert [o.value for o in Outcome] == ["", "matched", "unmatched", "exhausted", "rejected", "recorded",
                                          "not-recorded", "observed", "failed", "signed-in", "simulated", "faulted"]
    assert Outcome.NOT_RECORDED == "not-recorded" and f"{Outcome.NOT_RECORDED}" == "not-recorded"
    assert Session(mode="replay").mode is Mode.REPLAY  # type: ignore[arg-type]  # an option string: the member
    with pytest.raises(ValueError):
        Session(mode="simulated")  # type: ignore[arg-type]


def test_report_json_spells_outcomes_and_mode_as_before() -> None:
    outcomes = [o for o in Outcome]
    session = Session(mode=Mode.REPLAY, cassette="c.yaml",
                      exchanges=[_ex(i + 1, outcome) for i, outcome in enumerate(outcomes)])
    text = json.dumps(session_report(session), indent=2, ensure_ascii=False)
    data = json.loads(text)
    assert data["mode"] == "replay" and '"mode": "replay"' in text
    assert [r["outcome"] for r in data["requests"]] == ["", "matched", "unmatched", "exhausted", "rejected",
                                                        "recorded", "not-recorded", "observed", "failed",
                                                        "signed-in", "simulated", "faulted"]
    assert '"outcome": "not-recorded"' in text and "Outcome." not in text
    assert data["summary"]["matched"] == 1 and data["summary"]["unmatched"] == 1


def test_a_replay_no_request_reached_fails_naming_the_likely_bypass() -> None:
    session = _session(unused=(0, 1))  # a cassette of two interactions, not one request
    reasons = failures(session, set())
    assert len(reasons) == 1
    assert reasons[0].startswith("no request reached graphtape's proxy, though the cassette holds 2 interaction(s)")
    for bypass in ("NO_PROXY", "trust_env=False", "at import time", "Node's fetch"):
        assert bypass in reasons[0]
    assert bypassed(session) == reasons[0]
    assert failures(session, set(), since=(0, 1)) == []  # judged once, on the whole session


def test_no_bypass_when_a_request_came_or_nothing_was_recorded_or_not_replay() -> None:
    assert bypassed(_session(_ex(1), unused=(1,))) == ""  # one request came: unused is its own verdict
    assert bypassed(_session()) == ""  # an empty cassette: nothing to go around
    assert bypassed(Session(mode=Mode.RECORD, unused=[0])) == ""


def test_a_second_look_does_not_judge_the_whole_session_again() -> None:
    session = _session(unused=(0,))
    assert failures(session, set(FailOn), whole=False) == []
    assert len(failures(session, set(FailOn))) == 2  # unused, and no request reached the proxy
