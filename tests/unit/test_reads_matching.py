"""Paging and delta tokens are opaque: matched and diffed as whole strings, never split or reordered."""

from __future__ import annotations

from graphtape.diffing.core import diff_requests
from graphtape.model import HttpRequest, HttpResponse, Interaction, MatchKind
from graphtape.replay.matching import Matcher

BASE = "https://graph.microsoft.com/v1.0/me/messages"
TOKEN = "%2B%2B8y%2FOw%3D%3D"  # "++8y/Ow==" percent-encoded, as a link carries it


def get(query: str) -> HttpRequest:
    return HttpRequest("GET", f"{BASE}?{query}")


def matcher(*queries: str) -> Matcher:
    return Matcher([Interaction(get(q), HttpResponse(200)) for q in queries])


def test_a_token_matches_however_the_link_is_percent_encoded() -> None:
    m = matcher(f"%24select=subject%2CisDraft&%24top=2&%24skiptoken={TOKEN}")
    assert m.find(get(f"$top=2&$select=subject,isDraft&$skiptoken={TOKEN}")).index == 0
    assert m.find(get("$top=2&$select=subject,isDraft&$skiptoken=++8y/Ow==")).kind == MatchKind.UNMATCHED  # '+': space


def test_tokens_that_differ_in_case_or_one_character_do_not_match() -> None:
    m = matcher(f"$skiptoken={TOKEN}")
    for other in (TOKEN.lower(), TOKEN.replace("8y", "8z"), TOKEN + "A", TOKEN.replace("%3D", "")):
        assert m.find(get(f"$skiptoken={other}")).kind == MatchKind.UNMATCHED, other


def test_delta_tokens_are_served_in_recorded_order_once_each() -> None:
    m = matcher("$deltatoken=abc", "$deltatoken=abc")
    first = m.find(get("$deltatoken=abc"))
    assert first.index == 0
    m.use(0)
    assert m.find(get("$deltatoken=abc")).index == 1
    m.use(1)
    assert m.find(get("$deltatoken=abc")).kind == MatchKind.EXHAUSTED


def test_a_changed_token_is_one_deviation_holding_both_whole_values() -> None:
    recorded, actual = get("$select=subject,from&$skiptoken=a,b%2Cc"), get("$select=from,subject&$skiptoken=a,b,d")
    [deviation] = diff_requests(recorded, actual)
    assert (deviation.path, deviation.recorded, deviation.actual) == ("query.$skiptoken", "a,b,c", "a,b,d")
