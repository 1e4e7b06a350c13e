"""matching: which recorded interaction answers a request."""

from __future__ import annotations

import base64
import json

from graphtape.model import Headers, HttpRequest, HttpResponse, Interaction
from graphtape.replay.matching import Matcher, body_fingerprint

GRAPH = "https://graph.microsoft.com/v1.0"
JSON = [("Content-Type", "application/json")]
TEXT = [("Content-Type", "text/plain")]
MIME = b"From: a@contoso.com\r\nTo: b@contoso.com\r\nSubject: Hello\r\n\r\n" + b"Body text. " * 20


def req(method: str = "POST", path: str = "/me/messages", body: bytes = b"",
        headers: Headers = JSON) -> HttpRequest:
    return HttpRequest(method, f"{GRAPH}{path}", list(headers), body)


def rec(request: HttpRequest, status: int = 201) -> Interaction:
    return Interaction(request, HttpResponse(status))


def draft(subject: str) -> bytes:
    return json.dumps({"subject": subject}, separators=(",", ":")).encode()


def test_same_body_preferred_over_recorded_order() -> None:
    m = Matcher([rec(req(body=draft("one"))), rec(req(body=draft("two"))), rec(req(body=draft("three")))])
    got = m.find(req(body=draft("three")))
    assert (got.kind, got.index) == ("matched", 2)
    m.use(2)
    got = m.find(req(body=draft("one")))
    assert got.index == 0


def test_otherwise_next_unused_in_order() -> None:
    m = Matcher([rec(req(body=draft("one"))), rec(req(body=draft("two")))])
    first = m.find(req(body=draft("changed")))
    assert (first.kind, first.index) == ("matched", 0)
    m.use(0)
    second = m.find(req(body=draft("also changed")))
    assert second.index == 1


def test_find_does_not_consume() -> None:
    m = Matcher([rec(req())])
    assert m.find(req()).index == 0
    assert m.find(req()).index == 0
    assert m.unused() == [0]


def test_each_served_once_then_exhausted() -> None:
    m = Matcher([rec(req()), rec(req())])
    for expected in (0, 1):
        got = m.find(req())
        assert got.index == expected
        m.use(got.index)
    got = m.find(req())
    assert (got.kind, got.index) == ("exhausted", None)
    assert m.unused() == []


def test_body_equal_used_then_falls_back_to_order() -> None:
    m = Matcher([rec(req(body=draft("a"))), rec(req(body=draft("b")))])
    m.use(m.find(req(body=draft("b"))).index or 0)
    got = m.find(req(body=draft("b")))  # its twin is used: next unused in order
    assert got.index == 0


def test_unmatched_is_not_exhausted() -> None:
    m = Matcher([rec(req())])
    for other in (req(method="GET"), req(path="/me/sendMail"), req(path="/me/messages?$top=1"),
                  HttpRequest("POST", "https://graph.microsoft.com/beta/me/messages", JSON)):
        got = m.find(other)
        assert (got.kind, got.index) == ("unmatched", None)


def test_empty_matcher_is_unmatched() -> None:
    assert Matcher([]).find(req()).kind == "unmatched"
    assert Matcher([]).unused() == []


def test_url_spellings_match() -> None:
    m = Matcher([rec(req(path="/me/messages/AAMk%3D/send", body=b""))])
    sdk = HttpRequest("post", "https://graph.microsoft.us/v1.0//me/messages/AAMk=/send")
    assert m.find(sdk).kind == "matched"


def test_allow_repeats_serves_again() -> None:
    m = Matcher([rec(req(body=draft("a"))), rec(req(body=draft("b")))], allow_repeats=True)
    for i in (0, 1):
        m.use(i)
    same = m.find(req(body=draft("a")))
    assert (same.kind, same.index) == ("matched", 0)
    other = m.find(req(body=draft("zzz")))
    assert (other.kind, other.index) == ("matched", 1)  # the last recorded


def test_json_equality_ignores_key_order_and_spacing() -> None:
    a = req(body=b'{"subject":"Hi","toRecipients":[{"emailAddress":{"address":"a@x"}}]}')
    b = req(body=b'{"toRecipients": [{"emailAddress": {"address": "a@x"}}], "subject": "Hi"}')
    assert body_fingerprint(a) == body_fingerprint(b)
    m = Matcher([rec(req(body=draft("other"))), rec(a)])
    assert m.find(b).index == 1


def test_json_equality_respects_values_and_list_order() -> None:
    assert body_fingerprint(req(body=b'{"a":[1,2]}')) != body_fingerprint(req(body=b'{"a":[2,1]}'))
    assert body_fingerprint(req(body=b'{"a":1}')) != body_fingerprint(req(body=b'{"a":"1"}'))


def test_malformed_json_compared_as_bytes() -> None:
    assert body_fingerprint(req(body=b"{bad")) == body_fingerprint(req(body=b"{bad"))
    assert body_fingerprint(req(body=b"{bad")) != body_fingerprint(req(body=b"{bad "))


def test_mime_equality_ignores_base64_wrapping() -> None:
    flat = req(path="/me/sendMail", body=base64.b64encode(MIME), headers=TEXT)
    wrapped_lf = req(path="/me/sendMail", body=base64.encodebytes(MIME), headers=TEXT)
    wrapped_crlf = req(path="/me/sendMail", body=base64.encodebytes(MIME).replace(b"\n", b"\r\n"), headers=TEXT)
    assert body_fingerprint(flat) == body_fingerprint(wrapped_lf) == body_fingerprint(wrapped_crlf)
    other = req(path="/me/sendMail", body=base64.b64encode(MIME.replace(b"Hello", b"Bye")), headers=TEXT)
    assert body_fingerprint(other) != body_fingerprint(flat)
    m = Matcher([rec(other), rec(flat)])
    assert m.find(wrapped_lf).index == 1


def test_empty_body_fingerprint() -> None:
    assert body_fingerprint(req(body=b"")) == ""
    assert body_fingerprint(req(body=b"x")) != ""


def test_ten_thousand_interactions() -> None:
    n = 10_000
    recorded = [rec(req(path=f"/me/messages/id{i % 500}", body=draft(f"s{i}"))) for i in range(n)]
    m = Matcher(recorded)
    # body-equal finds the exact one among 20 candidates for its URL
    for i in (0, 1, 4999, 9999, 7321):
        got = m.find(req(path=f"/me/messages/id{i % 500}", body=draft(f"s{i}")))
        assert (got.kind, got.index) == ("matched", i)
    # serving in order by URL walks 17, 517, 1017, ...
    seen = []
    for _ in range(20):
        got = m.find(req(path="/me/messages/id17", body=draft("new")))
        assert got.index is not None
        m.use(got.index)
        seen.append(got.index)
    assert seen == list(range(17, n, 500))
    assert m.find(req(path="/me/messages/id17")).kind == "exhausted"
    assert len(m.unused()) == n - 20


def test_nearest_keys_points_at_the_closest_call() -> None:
    m = Matcher([rec(req(method="GET", path="/me/mailFolders")), rec(req(path="/me/sendMail")),
                 rec(req(path="/me/messages"))])
    near = m.nearest_keys(req(path="/me/sendmail"))
    assert near[0] == 1
    assert len(m.nearest_keys(req(path="/x"), limit=2)) == 2
    assert Matcher([]).nearest_keys(req()) == []

