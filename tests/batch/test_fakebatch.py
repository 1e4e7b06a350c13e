"""The stand-in answers $batch as Graph does: each item through its own handling, dependsOn, 424, the batch rules."""

from __future__ import annotations

import json
from typing import Any

import httpx

from .batches import draft, send, send_mime


def post(fake_graph: Any, items: list[dict[str, Any]], version: str = "v1.0") -> httpx.Response:
    with httpx.Client(verify=str(fake_graph.cert)) as client:
        return client.post(f"{fake_graph.url}/{version}/$batch", json={"requests": items})


def test_each_item_is_answered_by_the_stand_ins_own_handling(fake_graph) -> None:
    resp = post(fake_graph, [draft("1", "Hello"), send("2", after="1"), send_mime("3"), send_mime("4", body="bad!")])
    assert resp.status_code == 200
    answers = {a["id"]: a for a in resp.json()["responses"]}
    assert answers["1"]["status"] == 201 and answers["1"]["body"]["subject"] == "Hello"
    assert answers["1"]["headers"]["Content-Type"].startswith("application/json")
    assert (answers["2"]["status"], answers["3"]["status"]) == (202, 202)
    assert answers["4"]["body"]["error"]["code"] == "ErrorMimeContentInvalidBase64String"
    assert [r.path for r in fake_graph.state.received][1:] == [
        "/v1.0/me/messages", "/v1.0/me/messages/AAMkAGRWAAAFSmKXAAA=/send", "/v1.0/me/sendMail", "/v1.0/me/sendMail"]


def test_an_item_depending_on_a_failed_one_gets_424_and_is_not_run(fake_graph) -> None:
    resp = post(fake_graph, [send_mime("a", body="bad!"), send("b", after="a"), send("c", after="b")], "beta")
    assert [(a["id"], a["status"]) for a in resp.json()["responses"]] == [("a", 400), ("b", 424), ("c", 424)]
    assert len(fake_graph.state.received) == 2  # the batch and item a


def test_the_batch_rules_refuse_it_whole(fake_graph) -> None:
    for items, words in [([draft(str(n)) for n in range(21)], "at most 20"),
                         ([draft("x"), draft("X")], "more than once"),
                         ([{"id": "1", "method": "POST", "url": "/me/messages/AAMk=/send"}],
                          "Write request id : 1 does not contain Content-Type header or body."),
                         ([send("2", after="1"), draft("1")], "not earlier")]:
        resp = post(fake_graph, items)
        assert resp.status_code == 400
        assert resp.json()["error"]["code"] == "BadRequest" and words in resp.json()["error"]["message"]


def test_a_base64_json_body_as_msgraph_core_sends_it_is_read(fake_graph) -> None:
    item = {**send("1"), "body": "e30="}  # msgraph-core writes {} as base64
    assert post(fake_graph, [item]).json()["responses"][0]["status"] == 202
    assert json.loads(post(fake_graph, [draft("1")]).content)["responses"][0]["id"] == "1"
