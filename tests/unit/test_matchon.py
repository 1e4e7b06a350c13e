"""match_on: parsing and precedence (cassette/matchon.py), the matcher under it (replay/matching.py, criteria.py)
and the replayer's explanation of a refused request. Pure: no proxy."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from graphtape.cassette.format import CassetteError, parse_cassette
from graphtape.cassette.matchon import DEFAULT, MatchOn, parse_match_on, resolve_match_on
from graphtape.config import ignore_rules
from graphtape.diffing.ignore import DEFAULT_IGNORE, IgnoreRules
from graphtape.model import Headers, HttpRequest, HttpResponse, Interaction, MatchKind, Mode, Outcome
from graphtape.privacy.redaction import REDACTED
from graphtape.replay import criteria
from graphtape.replay.matching import Matcher
from graphtape.replay.pipeline import UNMATCHED_STATUS, Replayer
from graphtape.session.exchanges import Session

GRAPH = "https://graph.microsoft.com/v1.0"
JSON = [("Content-Type", "application/json")]
BODY = parse_match_on(["method", "url", "body"], "t")


def post(subject: str, path: str = "/me/messages", headers: Headers = JSON, **extra: object) -> HttpRequest:
    return HttpRequest("POST", f"{GRAPH}{path}", list(headers), json.dumps({"subject": subject, **extra}).encode())


def rec(*requests: HttpRequest) -> list[Interaction]:
    return [Interaction(r, HttpResponse(201)) for r in requests]


# ------------------------------------------------------------------ parsing and precedence


def test_items_as_a_list_or_comma_separated_with_headers_named_in_any_case() -> None:
    assert parse_match_on(["method", "url"], "t") == DEFAULT
    got = parse_match_on(" method, body ,headers:Prefer,headers:prefer ,headers:If-Match", "t")
    assert got == MatchOn(method=True, url=False, body=True, headers=("Prefer", "If-Match"))
    assert got.text() == "method, body, headers:Prefer, headers:If-Match" and got.strict and not DEFAULT.strict


@pytest.mark.parametrize(("value", "said"), [
    (["method", "bdy"], "unknown match_on item 'bdy'; did you mean 'body'? (allowed: method, url, body, headers:NAME)"),
    ("method,URL", "unknown match_on item 'URL'; did you mean 'url'?"),
    (["header:Prefer"], "unknown match_on item 'header:Prefer'; did you mean 'headers:Prefer'?"),
    (["headers"], "did you mean 'headers:NAME'?"),
    (["path"], "unknown match_on item 'path' (allowed: method, url, body, headers:NAME)"),
    (["headers:"], "match_on item 'headers:' needs a header name after 'headers:', e.g. 'headers:Prefer'"),
    (["headers:Pre fer"], "needs a header name"),
    ([], "match_on is empty; give at least one of method, url, body, headers:NAME"),
    (",", "match_on is empty"),
    ({"method": True}, "match_on must be a list of items (method, url, body, headers:NAME), e.g. ['method', 'url'"),
])
def test_a_bad_item_is_named_with_where_it_is_the_closest_and_the_allowed_list(value: object, said: str) -> None:
    with pytest.raises(ValueError) as e:
        parse_match_on(value, "pyproject.toml [tool.graphtape]")
    assert str(e.value).startswith("graphtape: pyproject.toml [tool.graphtape]: ") and said in str(e.value)


def test_the_option_wins_over_the_cassette_over_the_project_over_the_default() -> None:
    project = {"match_on": ["method", "url", "headers:Prefer"]}
    kw = {"option_where": "--match-on", "cassette_where": "c.yaml: meta.match_on"}
    assert resolve_match_on("", None, {}, **kw) == DEFAULT
    assert resolve_match_on("", None, project, **kw).headers == ("Prefer",)
    assert resolve_match_on("", ["method", "url", "body"], project, **kw) == BODY
    assert resolve_match_on("method,url", ["method", "url", "body"], project, **kw) == DEFAULT
    with pytest.raises(ValueError, match=r"c\.yaml: meta\.match_on: unknown match_on item 'bodyy'"):
        resolve_match_on("method,url", ["bodyy"], project, **kw)  # a typo anywhere is found, even overridden


def test_a_cassettes_match_on_typo_is_refused_at_its_line() -> None:
    text = ("graphtape_cassette: 1\nmeta:\n  created: x\n  match_on: [method, urll]\ninteractions: []\n"
            "# end of graphtape cassette: 0 interactions\n")
    with pytest.raises(CassetteError) as e:
        parse_cassette(Path("c.yaml"), text)
    assert e.value.line == 4 and "unknown match_on item 'urll'; did you mean 'url'?" in str(e.value)
    ok = parse_cassette(Path("c.yaml"), text.replace("urll", "url, body"))
    assert ok.meta["match_on"] == ["method", "url", "body"]


# ------------------------------------------------------------------ the matcher


def test_body_refuses_a_changed_body_naming_the_recordings_of_its_url() -> None:
    m = Matcher(rec(post("a"), post("b", path="/me/sendMail")), match_on=BODY)
    got = m.find(post("changed"))
    assert (got.kind, got.index, got.refused) == (MatchKind.UNMATCHED, None, (0,))
    assert m.find(post("a")).index == 0
    assert Matcher(rec(post("a")), match_on=DEFAULT).find(post("changed")).index == 0  # the default: served


def test_body_equal_after_the_ignore_rules_and_the_default_volatile_fields_is_served() -> None:
    rules = ignore_rules(["body.trace"])
    m = Matcher(rec(post("a", trace="1")), match_on=BODY, rules=rules)
    assert m.find(post("a", trace="2")).index == 0
    assert m.find(post("a", trace="2", importance="high")).kind == MatchKind.UNMATCHED
    mime = b"From: a@contoso.com\r\nTo: b@contoso.com\r\nSubject: Hi\r\nDate: %s\r\n\r\nText.\r\n"
    text = [("Content-Type", "text/plain")]

    def send(date: bytes) -> HttpRequest:
        return HttpRequest("POST", f"{GRAPH}/me/sendMail", text, base64.b64encode(mime % date))

    m = Matcher(rec(send(b"Mon, 30 Nov 2026 10:00:00 +0000")), match_on=BODY)
    assert m.find(send(b"Tue, 01 Dec 2026 22:00:00 +0000")).index == 0  # mime.header.Date is volatile


def test_a_body_differing_only_cosmetically_meets_body() -> None:
    def create(content_type: str, odata_type: str | None = None) -> HttpRequest:
        extra = {"@odata.type": odata_type} if odata_type else {}
        body = json.dumps({"subject": "a", "body": {"contentType": content_type, "content": "Hi"}, **extra})
        return HttpRequest("POST", f"{GRAPH}/me/messages", list(JSON), body.encode())

    m = Matcher(rec(create("html")), match_on=BODY)
    assert m.find(create("HTML")).index == 0  # an enum's case (Graph's enums are case-insensitive)
    assert m.find(create("html", "#microsoft.graph.message")).index == 0  # the declared type
    assert m.find(create("text")).kind == MatchKind.UNMATCHED  # another member is another body


def test_among_those_meeting_it_same_body_first_then_recorded_order_then_exhausted() -> None:
    rules = ignore_rules(["body.trace"])
    m = Matcher(rec(post("a", trace="1"), post("a", trace="2"), post("b")), match_on=BODY, rules=rules)
    assert m.find(post("a", trace="2")).index == 1  # the same fingerprint first
    m.use(1)
    assert m.find(post("a", trace="2")).index == 0  # then one equal after the rules
    m.use(0)
    got = m.find(post("a", trace="3"))
    assert (got.kind, got.body_recorded, got.refused) == (MatchKind.EXHAUSTED, True, ())  # met, but served
    assert m.find(post("b")).index == 2
    repeats = Matcher(rec(post("a", trace="1"), post("b")), match_on=BODY, rules=rules, allow_repeats=True)
    repeats.use(0)
    assert repeats.find(post("a", trace="9")).index == 0 and repeats.find(post("c")).kind == MatchKind.UNMATCHED


def test_without_url_or_method_requests_are_indexed_by_what_is_left() -> None:
    body_only = Matcher(rec(post("a", path="/me/messages"), post("b", path="/me/sendMail")),
                        match_on=parse_match_on("method,body", "t"))
    assert body_only.find(post("b", path="/users/x/anything")).index == 1
    url_only = Matcher(rec(post("a")), match_on=parse_match_on("url", "t"))
    assert url_only.find(HttpRequest("PATCH", f"{GRAPH}/me/messages", JSON, b"{}")).index == 0


def test_headers_compared_as_the_diff_normalises_them_and_redacted_stands_for_any() -> None:
    on = parse_match_on("method,url,headers:Prefer,headers:Content-Type,headers:X-Anchor", "t")
    recorded = post("a", headers=[("Content-Type", "application/json; charset=UTF-8"),
                                  ("Prefer", 'a="1", b'), ("X-Anchor", REDACTED)])
    m = Matcher(rec(recorded), match_on=on)
    same = post("a", headers=[("content-type", "application/json;charset=utf-8"), ("PREFER", 'b,a="1"'),
                              ("x-anchor", "anything")])
    assert m.find(same).index == 0
    got = m.find(post("a", headers=[("Content-Type", "application/json; charset=utf-8"), ("X-Anchor", "x")]))
    assert got.refused == (0,)
    assert m.criteria is not None
    assert m.criteria.failures(0, post("a", headers=JSON)) == [
        "header Prefer differs: 'a=\"1\", b' -> absent",
        "header Content-Type differs: 'application/json; charset=utf-8' -> 'application/json'",
        "header X-Anchor differs: '<redacted>' -> absent"]  # <redacted> is any value, not none


def test_a_batch_sent_again_with_fresh_ids_meets_body() -> None:
    def batch(ids: tuple[str, str], subject: str) -> HttpRequest:
        items = [{"id": ids[0], "method": "POST", "url": "/me/messages",
                  "headers": {"Content-Type": "application/json"}, "body": {"subject": subject}},
                 {"id": ids[1], "method": "GET", "url": "/me/messages?$top=1"}]
        return HttpRequest("POST", f"{GRAPH}/$batch", JSON, json.dumps({"requests": items}).encode())

    m = Matcher(rec(batch(("1", "2"), "a")), match_on=BODY)
    assert m.find(batch(("9f", "a0"), "a")).index == 0
    assert m.find(batch(("9f", "a0"), "b")).kind == MatchKind.UNMATCHED


def test_bodies_are_diffed_only_among_the_recordings_of_the_same_key(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = criteria.body_deviations

    def counted(recorded: HttpRequest, actual: HttpRequest, rules: IgnoreRules = DEFAULT_IGNORE) -> object:
        calls.append(1)
        return real(recorded, actual, rules)

    monkeypatch.setattr(criteria, "body_deviations", counted)
    many = [post(f"s{i}", path=f"/me/messages/{i}/reply") for i in range(2000)]
    m = Matcher(rec(*many, post("x", path="/me/messages/7/reply")), match_on=BODY)
    assert m.find(post("s5", path="/me/messages/5/reply")).index == 5 and calls == []  # same fingerprint: no diff
    assert m.find(post("y", path="/me/messages/7/reply")).kind == MatchKind.UNMATCHED
    assert len(calls) == 2  # the two recordings of that URL, not the 2,001


def test_recordings_of_one_url_served_in_order_are_each_checked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    checked: list[int] = []
    real = criteria.Criteria._headers_equal

    def counted(self: criteria.Criteria, recorded: tuple[str | None, ...], live: tuple[str | None, ...]) -> bool:
        checked.append(1)
        return real(self, recorded, live)

    monkeypatch.setattr(criteria.Criteria, "_headers_equal", counted)
    polls = [HttpRequest("GET", f"{GRAPH}/me/mailFolders/inbox/messages", [("Prefer", "a")], b"")] * 3000
    m = Matcher(rec(*polls), match_on=parse_match_on("method,url,headers:Prefer", "t"))
    for expected in range(3000):
        got = m.find(polls[0])
        assert got.index == expected
        m.use(expected)
    assert len(checked) == 3000  # the first unused one meets it: the search ends there, not after the 3,000


# ------------------------------------------------------------------ the replayer


def test_the_refusal_is_unmatched_and_says_which_criterion_failed_against_the_nearest() -> None:
    session = Session(mode=Mode.REPLAY, cassette="c.yaml")
    r = Replayer("c.yaml", rec(post("a"), post("other subject entirely", importance="low")), session, match_on=BODY)
    ex, resp = r.handle(post("b"))
    assert resp.status == UNMATCHED_STATUS and ex.outcome == Outcome.UNMATCHED
    message = json.loads(resp.body)["error"]["message"]
    assert "on match_on method, url, body: it was recorded (2 time(s)), but against the nearest recording, #1, " \
           "body differs: body.subject: 'a' -> 'b'." in message, message
    assert ex.note == "match_on method, url, body: nearest #1: body differs: body.subject: 'a' -> 'b'"


def test_retuning_match_on_keeps_the_interactions_used() -> None:
    session = Session(mode=Mode.REPLAY, cassette="c.yaml")
    r = Replayer("c.yaml", rec(post("a"), post("a")), session, match_on=BODY)
    assert r.handle(post("a"))[0].interaction == 0
    r.retune(allow_repeats=False, rules=r.rules, match_on=DEFAULT)
    assert r.handle(post("changed"))[0].interaction == 1  # served now; interaction 0 stays used
    assert r.handle(post("a"))[1].status == 410
