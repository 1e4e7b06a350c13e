"""scope.py and uploads/chunks.py: what is in scope, and each chunk held to its upload session."""

from __future__ import annotations

import json

import pytest

from graphtape.contract import enforcement_response
from graphtape.model import HttpRequest, HttpResponse, Interaction
from graphtape.scope import Scope, upload_key
from graphtape.uploads.chunks import parse_content_range

GRAPH = "https://graph.microsoft.com/v1.0/me/messages/AAMk%3D/attachments/createUploadSession"
UPLOAD = ("https://outlook.office.com/api/v2.0/Users('u@contoso.com')/Messages('AAMk=')/"
          "AttachmentSessions('AAMkS=')")
MB = 1024 * 1024
SIZE = 10 * MB


def create(size: int = SIZE, url: str = UPLOAD + "?authtoken=<redacted>") -> Interaction:
    req = HttpRequest("POST", GRAPH, [("Content-Type", "application/json")],
                      json.dumps({"AttachmentItem": {"attachmentType": "file", "name": "a", "size": size}}).encode())
    resp = HttpResponse(201, "Created", [("Content-Type", "application/json")],
                        json.dumps({"uploadUrl": url, "nextExpectedRanges": ["0-"]}).encode())
    return Interaction(req, resp)


def put(start: int, length: int, total: int = SIZE, *, headers: list[tuple[str, str]] | None = None,
        token: str = "live") -> HttpRequest:
    rng = [("Content-Range", f"bytes {start}-{start + length - 1}/{total}")]
    base = [("Content-Type", "application/octet-stream")] if headers is None else headers
    return HttpRequest("PUT", f"{UPLOAD}?authtoken={token}", [*base, *rng], b"\0" * length)


def learnt() -> Scope:
    scope = Scope()
    it = create()
    scope.learn(it.request, it.response)
    return scope


def rules(scope: Scope, req: HttpRequest) -> list[str]:
    return [f.rule for f in scope.check(req)]


def test_graph_is_in_scope_and_an_upload_url_only_once_an_answer_named_it() -> None:
    scope = Scope()
    assert scope.covers(GRAPH) and not scope.covers(UPLOAD + "?authtoken=x")
    it = create()
    scope.learn(it.request, it.response)
    assert scope.covers(UPLOAD + "?authtoken=x")  # any token: the query is not what names it
    assert scope.covers(UPLOAD.replace("'", "%27") + "?authtoken=x")  # percent-encoding normalised
    assert not scope.covers("https://outlook.office.com/api/v2.0/me/messages")  # the rest of the host stays out
    assert not scope.covers(UPLOAD.replace("outlook.office.com", "evil.example") + "?authtoken=x")


def test_replay_learns_the_upload_urls_from_the_cassette_and_starts_each_session_anew() -> None:
    done = Interaction(put(0, 4 * MB), HttpResponse(201, "Created"))
    scope = Scope.from_interactions([create(), done])
    assert scope.covers(UPLOAD + "?authtoken=<redacted>")
    assert rules(scope, put(0, 4 * MB)) == []  # not "finished": the recorded answers are not the replay's


def test_an_upload_url_in_a_failed_answer_or_another_json_is_not_learnt() -> None:
    scope = Scope()
    it = create()
    scope.learn(it.request, HttpResponse(400, "", [], it.response.body))
    scope.learn(it.request, HttpResponse(201, "", [], b"not json uploadUrl"))
    assert not scope.uploads


def test_chunks_in_order_pass_and_the_session_ends_with_the_last_byte() -> None:
    scope = learnt()
    assert rules(scope, put(0, 4 * MB)) == []
    assert rules(scope, put(4 * MB, 4 * MB)) == []
    assert rules(scope, put(8 * MB, 2 * MB)) == []
    assert rules(scope, put(8 * MB, 2 * MB)) == ["upload.session-finished"]


@pytest.mark.parametrize(("req", "rule"), [
    (put(4 * MB, 4 * MB), "upload.out-of-order"),
    (put(0, 4 * MB + 1), "upload.chunk-too-large"),
    (put(0, 4 * MB, total=SIZE + 1), "upload.total-mismatch"),
    (HttpRequest("PUT", UPLOAD + "?authtoken=x", [("Content-Type", "application/octet-stream")], b"x"),
     "upload.content-range"),
    (HttpRequest("PUT", UPLOAD + "?authtoken=x", [("Content-Range", "bytes 5-4/10")], b"x"), "upload.content-range"),
    (HttpRequest("PUT", UPLOAD + "?authtoken=x", [("Content-Type", "application/octet-stream"),
                                                   ("Content-Range", f"bytes 0-9/{SIZE}")], b"x"), "upload.length"),
])
def test_each_broken_chunk_is_named_and_answered_as_graph_does(req: HttpRequest, rule: str) -> None:
    scope = learnt()
    found = scope.check(req)
    assert rule in [f.rule for f in found]
    answer = enforcement_response(req, found)
    assert answer is not None and answer.status in (413, 416)
    assert json.loads(answer.body)["error"]["code"] in ("invalidRange", "RequestEntityTooLarge")


def test_an_overlapping_chunk_gets_graphs_documented_answer() -> None:
    scope = learnt()
    scope.check(put(0, 4 * MB))
    found = scope.check(put(0, 4 * MB))  # the SDK's re-sent chunk
    assert [f.rule for f in found] == ["upload.overlap"]
    answer = enforcement_response(put(0, 4 * MB), found)
    assert answer is not None and answer.status == 416
    assert json.loads(answer.body) == {"error": {"code": "invalidRange",
                                                 "message": "Uploaded fragment overlaps with existing data."}}


def test_a_refused_chunk_does_not_move_the_session_on() -> None:
    scope = learnt()
    assert rules(scope, put(4 * MB, 4 * MB)) == ["upload.out-of-order"]
    assert rules(scope, put(0, 4 * MB)) == []


def test_authorization_and_another_content_type_are_warnings() -> None:
    scope = learnt()
    found = scope.check(put(0, 4 * MB, headers=[("Authorization", "Bearer x"), ("Content-Type", "text/plain")]))
    assert {(f.rule, f.severity) for f in found} == {("upload.authorization", "warning"),
                                                     ("upload.content-type", "warning")}


def test_graphs_answer_moves_the_session_where_it_says() -> None:
    scope = learnt()
    req = put(0, 4 * MB)
    scope.check(req)
    scope.learn(req, HttpResponse(200, "OK", [("Content-Type", "application/json")],
                                  b'{"nextExpectedRanges":["2097152"]}'))
    assert rules(scope, put(2 * MB, 4 * MB)) == []


def test_delete_ends_the_session() -> None:
    scope = learnt()
    assert scope.check(HttpRequest("DELETE", UPLOAD + "?authtoken=x")) == []
    assert rules(scope, put(0, 4 * MB)) == ["upload.session-finished"]


def test_content_range_and_upload_key() -> None:
    rng = parse_content_range("bytes 0-4194303/10485760")
    assert rng is not None and rng.length == 4 * MB and str(rng) == "bytes 0-4194303/10485760"
    assert parse_content_range("bytes 0-/10") is None and parse_content_range("bytes 0-10/10") is None
    assert parse_content_range(None) is None
    assert upload_key("https://Outlook.Office.com:443/a//b?x=1") == "https://outlook.office.com/a/b"
    assert upload_key("not a url") is None


def test_graphtape_check_holds_a_cassettes_chunks_to_their_session() -> None:
    from graphtape.contract import check_interactions

    ok = Interaction(put(0, 4 * MB), HttpResponse(200))
    skipped = Interaction(put(8 * MB, 2 * MB), HttpResponse(416))
    found = [(i, f.rule) for i, f in check_interactions([create(), ok, skipped])]
    assert found == [(2, "upload.out-of-order")]


def test_a_chunk_graph_refused_leaves_the_session_where_it_was() -> None:
    scope = learnt()
    req = put(0, 4 * MB)
    assert scope.check(req) == []
    scope.learn(req, HttpResponse(503, "Service Unavailable"))  # not taken: the client sends it again
    assert rules(scope, put(0, 4 * MB)) == []


def test_graph_refusing_a_chunk_graphtape_refused_too_changes_nothing() -> None:
    scope = learnt()
    scope.check(put(0, 4 * MB))
    again = put(0, 4 * MB)
    assert rules(scope, again) == ["upload.overlap"]
    scope.learn(again, HttpResponse(416, "Requested Range Not Satisfiable"))
    assert rules(scope, put(4 * MB, 4 * MB)) == []
