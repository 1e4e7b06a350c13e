"""$batch end to end: the official SDK through the real proxy (real TLS), recorded against the stand-in, replayed
offline with the stand-in stopped; deviations and enforce name the item.

msgraph-core 1.5.2 cannot put a MIME item in a batch (``BatchRequestItem.serialize`` runs ``json.loads`` on every
body), and sends a bodyless action with neither Content-Type nor body, which Graph refuses for the whole batch
("Write request id : ... does not contain Content-Type header or body."). So the JSON items go through the SDK's
``BatchRequestBuilder`` with the send given ``Content-Type`` and ``{}`` (the SDK writes it ``"e30="``), and the
MIME items in a batch body built by hand, posted through the SDK's request adapter. msgraph-core 1.5.2's
``BatchResponseContent`` also drops every JSON item body (``body`` is None, ``response_body`` raises), so the SDK's
batch is read by its status codes, the hand-built one from the answer's bytes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import sdk_call
from graphtape.cassette.format import load_cassette
from graphtape.testing.fakeseed import docs_draft

from .batches import draft, mime, send, send_mime

SUBJECT = "Batched report"
SECOND_DRAFT = "AAMkAGRWAAAFSmKYAAA="  # a second draft in the stand-in's mailbox (a sent draft is no draft)


async def _sdk_batch(client: Any) -> list[int | None]:
    """Create a draft and send a draft in one batch with the SDK's own batch classes."""
    from msgraph.generated.models.email_address import EmailAddress
    from msgraph.generated.models.message import Message
    from msgraph.generated.models.recipient import Recipient
    from msgraph_core.requests.batch_request_builder import BatchRequestBuilder
    from msgraph_core.requests.batch_request_content import BatchRequestContent
    from msgraph_core.requests.batch_request_item import BatchRequestItem

    msg = Message(subject=SUBJECT, to_recipients=[Recipient(email_address=EmailAddress(address="megan@contoso.com"))])
    create = BatchRequestItem(client.me.messages.to_post_request_information(msg))
    info = client.me.messages.by_message_id(SECOND_DRAFT).send.to_post_request_information()
    info.headers.try_add("Content-Type", "application/json")
    info.content = b"{}"
    send_draft = BatchRequestItem(info)
    content = BatchRequestContent()
    for item in (create, send_draft):
        content.add_request(item.id, item)
    answer = await BatchRequestBuilder(client.request_adapter).post(content)
    statuses = answer.get_response_status_codes()
    return [statuses.get(create.id), statuses.get(send_draft.id)]


def _outcome(answer: dict[str, Any]) -> tuple[int, str]:
    body = answer.get("body")
    if isinstance(body, dict) and "error" in body:
        return answer["status"], body["error"]["code"]
    return answer["status"], body.get("subject", "") if isinstance(body, dict) else ""


async def _post_batch(client: Any, items: list[dict[str, Any]]) -> dict[str, tuple[int, str]]:
    """POST a batch body built by hand through the SDK's adapter: id -> (status, subject or error code)."""
    from kiota_abstractions.method import Method
    from kiota_abstractions.request_information import RequestInformation
    from msgraph.generated.models.o_data_errors.o_data_error import ODataError

    info = RequestInformation(Method.POST, "{+baseurl}/$batch", {})
    info.headers.try_add("Accept", "application/json")
    info.set_stream_content(json.dumps({"requests": items}).encode(), "application/json")
    raw = await client.request_adapter.send_primitive_async(info, "bytes", {"XXX": ODataError})
    return {a["id"]: _outcome(a) for a in json.loads(raw)["responses"]}


def _mime_items(subject: str = "Batch MIME", body: str | None = None) -> list[dict[str, Any]]:
    create = {**send_mime("m1", subject="MIME draft"), "url": "/me/messages"}
    return [create, send_mime("m2", subject=subject, body=body), send("m3", after="m1")]


async def _session(client: Any) -> Any:
    return [await _sdk_batch(client), await _post_batch(client, _mime_items())]


def _record(tmp_path: Path, proxy: Any, fake_graph: Any, flow: Any = _session, *extra: str) -> tuple[Path, Any]:
    cassette = tmp_path / "batch.yaml"
    docs_draft(fake_graph.simulator, SECOND_DRAFT)
    rec = proxy("record", str(cassette), "--upstream", fake_graph.url, "--upstream-ca", str(fake_graph.cert), *extra)
    recorded = sdk_call(rec, flow)
    rec.stop()
    return cassette, recorded


def test_a_batch_of_mail_calls_records_readably_and_replays_offline_with_the_same_results(tmp_path, proxy,
                                                                                         fake_graph):
    cassette, recorded = _record(tmp_path, proxy, fake_graph)
    assert recorded == [[201, 202], {"m1": (201, "MIME draft"), "m2": (202, ""), "m3": (202, "")}]
    assert [r.path for r in fake_graph.state.received] == [
        "/v1.0/$batch", "/v1.0/me/messages", "/v1.0/me/messages/AAMkAGRWAAAFSmKYAAA%3D/send",
        "/v1.0/$batch", "/v1.0/me/messages", "/v1.0/me/sendMail", "/v1.0/me/messages/AAMkAGRWAAAFSmKXAAA=/send"]
    fake_graph.stop()  # offline: nothing to reach any more
    text = cassette.read_text()
    assert "Subject: Batch MIME" in text and "Subject: MIME draft" in text and "base64_mime:" in text
    assert mime()[:40] not in text  # the MIME is stored as text, not base64
    assert [i.request.url for i in load_cassette(cassette).interactions] == [
        "https://graph.microsoft.com/v1.0/$batch"] * 2

    rep = proxy("replay", str(cassette))
    replayed = sdk_call(rep, _session)  # fresh uuid ids from the SDK: the answers carry them
    assert rep.stop() == 0, rep.output
    assert replayed == recorded
    assert "matched 2, unmatched 0" in rep.stderr
    assert "graphtape:   deviation" not in rep.stderr


def test_a_changed_item_is_a_deviation_naming_the_item(tmp_path, proxy, fake_graph):
    cassette, _ = _record(tmp_path, proxy, fake_graph)
    fake_graph.stop()

    async def changed(client: Any) -> Any:
        return [await _sdk_batch(client), await _post_batch(client, _mime_items(subject="Batch MIME (final)"))]

    report = tmp_path / "report.json"
    rep = proxy("replay", str(cassette), "--report", str(report), "--fail-on", "deviation")
    sdk_call(rep, changed)
    assert rep.stop() == 1
    assert "deviation batch[1].mime.header.Subject: 'Batch MIME' -> 'Batch MIME (final)'" in rep.stderr
    deviations = [d for e in json.loads(report.read_text())["requests"] for d in e["deviations"]]
    assert [d["path"] for d in deviations] == ["batch[1].mime.header.Subject"]


def test_enforce_in_replay_answers_the_bad_item_with_graphs_error_and_serves_the_others(tmp_path, proxy,
                                                                                       fake_graph):
    cassette, _ = _record(tmp_path, proxy, fake_graph)
    fake_graph.stop()

    async def bad(client: Any) -> Any:
        return await _post_batch(client, _mime_items(body="not base64!"))

    rep = proxy("replay", str(cassette), "--fail-on", "unmatched")
    assert sdk_call(rep, bad) == {"m1": (201, "MIME draft"), "m2": (400, "ErrorMimeContentInvalidBase64String"),
                                  "m3": (202, "")}
    assert rep.stop() == 0
    assert "mime.base64 at batch[1].mime.body" in rep.stderr


def test_enforce_in_record_sends_the_batch_without_the_refused_item_and_splices_its_error(tmp_path, proxy,
                                                                                         fake_graph):
    async def flow(client: Any) -> Any:
        good_and_bad = [draft("d1", subjct="typo"), send("d2", after="d1"), send_mime("d3")]
        return [await _post_batch(client, good_and_bad), await _post_batch(client, [draft("x", subjct="typo")])]

    cassette, got = _record(tmp_path, proxy, fake_graph, flow, "--policy", "enforce")
    assert got == [{"d1": (400, "RequestBodyRead"), "d2": (424, "FailedDependency"), "d3": (202, "")},
                   {"x": (400, "RequestBodyRead")}]
    sent = [json.loads(r.body) for r in fake_graph.state.received if r.path.endswith("$batch")]
    assert [[i["id"] for i in b["requests"]] for b in sent] == [["d3"]]  # the all-refused batch was never sent
    recorded = load_cassette(cassette).interactions
    assert len(recorded) == 1
    assert [i["id"] for i in json.loads(recorded[0].request.body)["requests"]] == ["d1", "d2", "d3"]  # as sent
    answers = {i["id"]: i for i in json.loads(recorded[0].response.body)["responses"]}
    assert answers["d1"]["body"]["error"]["code"] == "RequestBodyRead"
    assert answers["d1"]["headers"]["x-graphtape"] == "contract-error"
    assert (answers["d2"]["status"], answers["d3"]["status"]) == (424, 202)


def test_the_batch_rules_refuse_the_whole_batch_in_replay(tmp_path, proxy, fake_graph):
    cassette, _ = _record(tmp_path, proxy, fake_graph)
    fake_graph.stop()

    async def too_many(client: Any) -> Any:
        from kiota_abstractions.api_error import APIError
        try:
            await _post_batch(client, [draft(str(n)) for n in range(21)])
        except APIError as e:  # ODataError
            return e.response_status_code
        return None

    rep = proxy("replay", str(cassette), "--fail-on", "unmatched")
    assert sdk_call(rep, too_many) == 400
    assert rep.stop() == 0
    assert "batch.invalid at batch: 21 requests in one batch" in rep.stderr
