"""The contract inside a $batch: the batch's own rules (the whole batch refused), and each item's findings
located in the item, batch[N] as the deviations name it."""

from __future__ import annotations

import json

import pytest

from graphtape.contract import validate_request
from graphtape.contract.batch import refuses_whole
from graphtape.model import HttpRequest

from .batches import BATCH_URL, JSON_TYPE, batch_request, draft, send, send_mime


def where(req: HttpRequest) -> list[tuple[str, str]]:
    return [(f.rule, f.location) for f in validate_request(req) if f.severity == "error"]


def test_a_good_batch_of_mail_calls_has_no_finding() -> None:
    req = batch_request(draft("1"), send("2", after="1"), send_mime("3"))
    assert validate_request(req) == []


def test_item_findings_name_the_item_like_deviations_do() -> None:
    req = batch_request(draft("1"), draft("2", subjct="typo"), send_mime("3", body="not base64!"),
                        send_mime("4", to=""))
    assert where(req) == [("property.undeclared", "batch[1].body.subjct"),
                          ("mime.base64", "batch[2].mime.body"),
                          ("mime.defect", "batch[3].mime.header.To")]
    assert not any(refuses_whole(f) for f in validate_request(req))


def test_on_beta_too() -> None:
    req = batch_request(draft("1", subjct="typo"), url="https://graph.microsoft.com/beta/$batch")
    assert where(req) == [("property.undeclared", "batch[0].body.subjct")]


@pytest.mark.parametrize(("items", "expected"), [
    ([draft(str(n)) for n in range(21)], [("batch.invalid", "batch")]),
    ([draft("a"), draft("A")], [("batch.invalid", "batch")]),  # ids are not case-sensitive
    ([{"id": "1", "url": "/me/messages"}], [("batch.invalid", "batch[0]")]),
    ([{**draft("1"), "headers": {}}], [("batch.content-type", "batch[0].headers")]),
    ([{"id": "1", "method": "POST", "url": "/me/messages/AAMk=/send"}], [("batch.content-type", "batch[0].headers")]),
    ([send("2", after="1"), draft("1")], [("batch.depends-on", "batch[0].dependsOn")]),
    ([{**draft("1"), "dependsOn": "x"}], [("batch.depends-on", "batch[0].dependsOn")]),
    ([{"id": "1", "method": "POST", "url": "/$batch", "headers": {"Content-Type": "application/json"},
       "body": {"requests": []}}], [("batch.invalid", "batch[0].url")]),
], ids=["21-items", "duplicate-ids", "no-method", "body-without-content-type", "write-without-body",
        "depends-on-later", "depends-on-not-a-list", "nested-batch"])
def test_the_batch_rules_refuse_the_whole_batch(items: list[dict[str, object]],
                                                expected: list[tuple[str, str]]) -> None:
    found = validate_request(batch_request(*items))
    assert [(f.rule, f.location) for f in found] == expected
    assert all(refuses_whole(f) for f in found)


def test_a_write_without_content_type_gets_graphs_own_message() -> None:
    found = validate_request(batch_request({"id": "7", "method": "POST", "url": "/me/messages/AAMk=/send"}))
    assert found[0].message.startswith("Write request id : 7 does not contain Content-Type header or body.")


@pytest.mark.parametrize("body", [b"[]", b'{"requests": {}}', b"{not json"])
def test_a_body_that_is_not_a_batch_is_refused_whole(body: bytes) -> None:
    found = validate_request(HttpRequest("POST", BATCH_URL, JSON_TYPE, body))
    assert [(f.rule, f.location) for f in found] == [("batch.invalid", "batch")]


def test_a_get_item_needs_no_headers() -> None:
    item = {"id": "1", "method": "GET", "url": "/me/messages?$top=5"}
    assert validate_request(batch_request(item)) == []
    assert json.loads(batch_request(item).body)["requests"][0]["url"] == "/me/messages?$top=5"
