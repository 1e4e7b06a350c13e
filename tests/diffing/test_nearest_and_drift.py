"""nearest() for unmatched requests; diff_interactions and diff_cassettes for drift between recordings."""

from __future__ import annotations

import json

from dev.deviations import format_deviations

from graphtape.diffing.core import diff_cassettes, diff_interactions, nearest
from graphtape.diffing.ignore import DEFAULT_IGNORE, IgnoreRules
from graphtape.model import Deviation, HttpRequest, HttpResponse, Interaction

GRAPH = "https://graph.microsoft.com/v1.0"
JSON = [("Content-Type", "application/json")]


def req(method: str, path: str, body: object = None) -> HttpRequest:
    if body is None:
        return HttpRequest(method, GRAPH + path)
    return HttpRequest(method, GRAPH + path, list(JSON), json.dumps(body).encode())


def resp(status: int, body: object = None, **headers: str) -> HttpResponse:
    pairs = [("Content-Type", "application/json;odata.metadata=minimal;charset=utf-8"), *headers.items()]
    return HttpResponse(status, "", pairs, b"" if body is None else json.dumps(body).encode())


CANDIDATES = [
    req("GET", "/me/messages?$top=5"),  # 0
    req("POST", "/me/sendMail", {"Message": {"subject": "Hello"}, "SaveToSentItems": False}),  # 1
    req("POST", "/me/messages", {"subject": "Hello"}),  # 2
    req("POST", "/me/sendMail", {"Message": {"subject": "Other", "importance": "high"}}),  # 3
    req("PATCH", "/me/messages/AAA=", {"subject": "Hello"}),  # 4
    req("POST", "/me/messages/AAA=/send"),  # 5
]


def test_nearest_ranks_by_method_then_path_then_body() -> None:
    probe = req("POST", "/me/sendMail", {"Message": {"subject": "Hello!"}, "SaveToSentItems": False})
    found = nearest(probe, CANDIDATES)
    assert [i for i, _ in found] == [1, 3, 2]
    assert format_deviations(found[0][1]) == "body.Message.subject: 'Hello' -> 'Hello!'"
    assert [d.path for d in found[2][1]][:1] == ["path"]


def test_nearest_prefers_the_same_action_on_another_id() -> None:
    probe = req("POST", "/me/messages/BBB=/send")
    (best, devs), *_ = nearest(probe, CANDIDATES, limit=2)
    assert best == 5
    assert devs == [Deviation("path", "changed", "/v1.0/me/messages/AAA=/send", "/v1.0/me/messages/BBB=/send")]


def test_nearest_limits_and_handles_nothing() -> None:
    probe = req("GET", "/me/messages?$top=5")
    assert nearest(probe, []) == []
    assert nearest(probe, CANDIDATES, limit=0) == []
    assert nearest(probe, CANDIDATES, limit=1) == [(0, [])]
    assert len(nearest(probe, CANDIDATES, limit=50)) == len(CANDIDATES)


def test_nearest_in_a_big_cassette_finds_the_one_close_request() -> None:
    many = [req("POST", f"/me/messages/{i}/send") for i in range(10_000)]
    many[7_777] = req("POST", "/me/sendMail", {"Message": {"subject": "Needle"}})
    probe = req("POST", "/me/sendMail", {"Message": {"subject": "Needle 2"}})
    (best, devs), *_ = nearest(probe, many)
    assert best == 7_777
    assert [d.path for d in devs] == ["body.Message.subject"]


def test_nearest_uses_the_ignore_rules() -> None:
    probe = req("POST", "/me/sendMail", {"Message": {"subject": "Hello!"}, "SaveToSentItems": False})
    rules = DEFAULT_IGNORE.merge(IgnoreRules.parse(["body.Message.subject"]))
    assert nearest(probe, CANDIDATES, limit=1, ignore=rules) == [(1, [])]


def created(msg_id: str, when: str, subject: str = "Hello", **headers: str) -> Interaction:
    body = {
        "@odata.context": f"{GRAPH}/$metadata#users('{msg_id}')/messages/$entity",
        "@odata.etag": f'W/"{msg_id}"',
        "id": msg_id,
        "createdDateTime": when,
        "lastModifiedDateTime": when,
        "changeKey": msg_id,
        "subject": subject,
        "isDraft": True,
        "toRecipients": [{"emailAddress": {"address": "alice@contoso.com"}}],
    }
    return Interaction(req("POST", "/me/messages", {"subject": subject}), resp(201, body, **headers))


def test_identical_interactions_have_no_drift() -> None:
    one = created("AAA", "2024-07-01T09:00:00Z")
    assert diff_interactions(one, one, DEFAULT_IGNORE) == []


def test_volatile_only_drift_is_ignored() -> None:
    old = created("AAA", "2024-07-01T09:00:00Z", Date="Mon, 01 Jul 2024 09:00:00 GMT", **{"request-id": "1"})
    new = created("BBB", "2024-07-02T10:00:00Z", Date="Tue, 02 Jul 2024 10:00:00 GMT", **{"request-id": "2"})
    assert diff_interactions(old, new, DEFAULT_IGNORE) == []
    assert "response.body.id" in [d.path for d in diff_interactions(old, new, IgnoreRules())]


def error_response() -> HttpResponse:
    body = {"error": {"code": "ErrorInvalidRecipients", "message": "bad", "innerError": {"date": "x"}}}
    return HttpResponse(
        400, "", [("Content-Type", "application/json"), ("Retry-After", "3")], json.dumps(body).encode()
    )


def test_real_drift_in_request_and_response() -> None:
    old = created("AAA", "2024-07-01T09:00:00Z")
    new = Interaction(req("POST", "/me/messages", {"subject": "Hello", "importance": "high"}), error_response())
    assert format_deviations(diff_interactions(old, new, DEFAULT_IGNORE)).splitlines() == [
        "body.importance: added 'high'",
        "response.status: 201 -> 400",
        "response.header.Content-Type: 'application/json; charset=utf-8; odata.metadata=minimal' -> 'application/json'",
        "response.header.Retry-After: added '3'",
        "response.body.error: added {'code': 'ErrorInvalidRecipients', 'message': 'bad', 'innerError': {'date': 'x'}}",
        "response.body.isDraft: removed True",
        "response.body.subject: removed 'Hello'",
        "response.body.toRecipients: removed [{'emailAddress': {'address': 'alice@contoso.com'}}]",
    ]


def test_diff_cassettes_pairs_by_position() -> None:
    old = [created("A1", "t1"), created("A2", "t2", subject="Two")]
    assert diff_cassettes(old, old, DEFAULT_IGNORE) == []
    volatile_only = [created("B1", "t3"), created("B2", "t4", subject="Two")]
    assert diff_cassettes(old, volatile_only, DEFAULT_IGNORE) == []
    send = Interaction(req("POST", "/me/messages/B2/send"), HttpResponse(202))
    changed = [created("B1", "t3", subject="One"), created("B2", "t4", subject="Two"), send]
    drift = diff_cassettes(old, changed, DEFAULT_IGNORE)
    assert [i for i, _ in drift] == [0, 2]
    assert [d.path for d in drift[0][1]] == ["body.subject", "response.body.subject"]
    assert drift[1][1] == [Deviation("interaction", "added", None, "POST /v1.0/me/messages/B2/send -> 202")]
    assert diff_cassettes(changed, old, DEFAULT_IGNORE)[1][1][0].kind == "removed"


def test_diff_cassettes_honours_user_rules() -> None:
    old = [created("A1", "t1")]
    new = [created("B1", "t2", subject="Other"), created("B2", "t3")]
    rules = DEFAULT_IGNORE.merge(IgnoreRules.parse(["**.subject", "interaction"]))
    assert diff_cassettes(old, new, rules) == []
