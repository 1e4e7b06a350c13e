"""What msgraph-core 1.5.2's batch classes send and read (the README's "known client limits"), checked against
graphtape's contract: each limit named there is shown here."""

from __future__ import annotations

import json

import pytest
from dev.scenario import MIME_SEND, make_client, mime_b64

from graphtape.contract import validate_request
from graphtape.model import HttpRequest

from .batches import BATCH_URL, JSON_TYPE


def _serialized(*items: object) -> bytes:
    from kiota_serialization_json.json_serialization_writer import JsonSerializationWriter
    from msgraph_core.requests.batch_request_content import BatchRequestContent

    content = BatchRequestContent()
    for item in items:
        content.add_request(item.id, item)  # type: ignore[attr-defined]
    writer = JsonSerializationWriter()
    content.serialize(writer)
    return writer.get_serialized_content()


def test_a_bodyless_send_goes_without_content_type_which_graph_refuses_for_the_whole_batch() -> None:
    from msgraph_core.requests.batch_request_item import BatchRequestItem

    client = make_client()
    send = BatchRequestItem(client.me.messages.by_message_id("AAMk=").send.to_post_request_information())
    body = _serialized(send)
    item = json.loads(body)["requests"][0]
    assert "body" not in item and "content-type" not in {k.lower() for k in item["headers"]}
    assert item["depends_on"] == [] and "dependsOn" not in item  # not the name Graph reads
    found = validate_request(HttpRequest("POST", BATCH_URL, JSON_TYPE, body))
    assert [(f.rule, f.location) for f in found] == [("batch.content-type", "batch[0].headers")]


def test_a_mime_body_cannot_be_serialised_by_batch_request_item() -> None:
    from kiota_abstractions.method import Method
    from kiota_abstractions.request_information import RequestInformation
    from msgraph_core.requests.batch_request_item import BatchRequestItem

    info = RequestInformation(Method.POST, "{+baseurl}/me/sendMail", {"baseurl": "https://graph.microsoft.com/v1.0"})
    info.set_stream_content(mime_b64(MIME_SEND), "text/plain")
    with pytest.raises(json.JSONDecodeError):
        _serialized(BatchRequestItem(info))


def test_batch_response_content_drops_json_item_bodies() -> None:
    from kiota_serialization_json.json_parse_node_factory import JsonParseNodeFactory
    from msgraph_core.requests.batch_response_content import BatchResponseContent

    doc = {"responses": [{"id": "1", "status": 201, "headers": {"Content-Type": "application/json"},
                          "body": {"subject": "kept?"}}]}
    node = JsonParseNodeFactory().get_root_parse_node("application/json", json.dumps(doc).encode())
    answer = node.get_object_value(BatchResponseContent)
    assert answer.responses["1"].status == 201
    assert answer.responses["1"].body is None


def test_msgraph_core_imports_deprecated_without_declaring_it() -> None:
    from importlib.metadata import requires, version
    from pathlib import Path

    import msgraph_core.requests.batch_request_item as item_module

    assert "from deprecated import" in Path(item_module.__file__).read_text()
    declared = [r.split(";")[0].split("<")[0].split(">")[0].strip().lower() for r in requires("msgraph-core") or []]
    assert "deprecated" not in declared, f"msgraph-core {version('msgraph-core')} declares it now: drop ours"
