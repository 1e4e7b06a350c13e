"""Enforce inside a $batch: a bad item answered with Graph's error as its own item, dependants 424, the rest
sent or served as recorded; the batch's own rules refuse it whole. And recorded answers get the client's ids."""

from __future__ import annotations

import json

from graphtape.contract import validate_request
from graphtape.contract.batch_enforce import enforce_request, refuse_items, splice_answers
from graphtape.model import HttpResponse
from graphtape.replay.batch import serve_batch

from .batches import JSON_TYPE, batch_request, draft, send, send_mime


def answer(*items: dict[str, object]) -> HttpResponse:
    return HttpResponse(200, "OK", JSON_TYPE, json.dumps({"responses": list(items)}).encode())


def test_a_bad_item_is_refused_alone_with_graphs_error_and_its_dependants_get_424() -> None:
    req = batch_request(draft("1", subjct="typo"), send("2", after="1"), send_mime("3"),
                        send_mime("4", body="not base64!"))
    refusal = refuse_items(req, validate_request(req))
    assert refusal is not None
    assert sorted(refusal.answers) == [0, 1, 3]
    first, second, fourth = refusal.answers[0], refusal.answers[1], refusal.answers[3]
    assert (first["id"], first["status"], first["body"]["error"]["code"]) == ("1", 400, "RequestBodyRead")
    assert first["body"]["error"]["message"].startswith("The property 'subjct' does not exist on type")
    assert (second["status"], second["body"]["error"]["code"]) == (424, "FailedDependency")
    assert fourth["body"] == {"error": {"code": "ErrorMimeContentInvalidBase64String",
                                        "message": "Invalid base64 string for MIME content."}}
    assert first["headers"]["x-graphtape"] == "contract-error"
    assert refusal.forward is not None
    assert [i["id"] for i in json.loads(refusal.forward)["requests"]] == ["3"]  # only the good one is sent
    assert enforce_request(req, validate_request(req)) is None  # served (replay) / sent (record), then spliced


def test_a_batch_whose_every_item_is_refused_is_answered_200_with_them_and_not_sent() -> None:
    req = batch_request(draft("1", subjct="typo"), send("2", after="1"))
    resp = enforce_request(req, validate_request(req))
    assert resp is not None and resp.status == 200
    assert [(i["id"], i["status"]) for i in json.loads(resp.body)["responses"]] == [("1", 400), ("2", 424)]


def test_the_batch_rules_refuse_the_whole_batch_with_graphs_400() -> None:
    req = batch_request(*[draft(str(n)) for n in range(21)])
    resp = enforce_request(req, validate_request(req))
    assert resp is not None and resp.status == 400
    assert json.loads(resp.body)["error"]["code"] == "BadRequest"
    assert refuse_items(req, validate_request(req)) is None


def test_a_write_without_content_type_refuses_the_batch_with_graphs_message() -> None:
    req = batch_request(draft("1"), {"id": "2", "method": "POST", "url": "/me/messages/AAMk=/send"})
    resp = enforce_request(req, validate_request(req))
    assert resp is not None and resp.status == 400
    assert json.loads(resp.body)["error"]["message"] == (
        "Write request id : 2 does not contain Content-Type header or body.")


def test_splicing_puts_the_refused_items_beside_graphs_answers() -> None:
    req = batch_request(draft("1", subjct="typo"), send_mime("3"))
    refusal = refuse_items(req, validate_request(req))
    assert refusal is not None
    spliced = splice_answers(answer({"id": "3", "status": 202}).body, refusal)
    assert spliced is not None
    assert [(i["id"], i["status"]) for i in json.loads(spliced)["responses"]] == [("3", 202), ("1", 400)]
    assert splice_answers(b'{"error": {"code": "BadRequest", "message": "x"}}', refusal) is None


def test_replay_gives_the_recorded_answers_the_clients_ids() -> None:
    recorded = batch_request(draft("r1"), send("r2", after="r1"), send_mime("r3"))
    actual = batch_request(draft("c1"), send("c2", after="c1"), send_mime("c3"))
    resp = answer({"id": "r3", "status": 202}, {"id": "r1", "status": 201, "body": {"id": "AAMk="}},
                  {"id": "r2", "status": 202})
    served = serve_batch(recorded, actual, [], resp, enforce=True)
    assert [(i["id"], i["status"]) for i in json.loads(served.body)["responses"]] == [
        ("c3", 202), ("c1", 201), ("c2", 202)]


def test_replay_serves_the_good_items_as_recorded_and_the_bad_one_as_graph_refuses_it() -> None:
    recorded = batch_request(draft("1"), send_mime("2"))
    actual = batch_request(draft("1", subjct="typo"), send_mime("2"))
    resp = answer({"id": "1", "status": 201, "body": {"id": "AAMk="}}, {"id": "2", "status": 202})
    served = serve_batch(recorded, actual, validate_request(actual), resp, enforce=True)
    assert [(i["id"], i["status"]) for i in json.loads(served.body)["responses"]] == [("2", 202), ("1", 400)]
    assert serve_batch(recorded, actual, validate_request(actual), resp, enforce=False) is resp  # report: as is


def test_a_batch_served_unchanged_is_the_recorded_response_itself() -> None:
    req = batch_request(draft("1"))
    resp = answer({"id": "1", "status": 201})
    assert serve_batch(req, req, [], resp, enforce=True) is resp
