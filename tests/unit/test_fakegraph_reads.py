"""The stand-in's reads: list and page, $select/$filter/$top, $value, attachments, delta, scripted 429s."""

from __future__ import annotations

import base64
import email
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from graphtape.testing.fakegraph import FakeGraph

TO = [{"emailAddress": {"address": "megan@contoso.com"}}]
PDF = b"%PDF-1.7\n\x00\x01\xff\xfe binary \r\n\x80 end"


@pytest.fixture
def graph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeGraph]:
    with FakeGraph(tmp_path_factory.getbasetemp() / "fakegraph-reads", with_docs_draft=False) as g:
        yield g


@pytest.fixture
def client(graph: FakeGraph) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=graph.url, verify=str(graph.cert), timeout=10) as c:
        yield c


def _draft(client: httpx.Client, subject: str, **more: object) -> str:
    r = client.post("/v1.0/me/messages", json={"subject": subject, "toRecipients": TO, **more})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _local(link: str) -> str:
    """A Graph link as a path on the stand-in (the query exactly as the link spells it)."""
    parts = urlsplit(link)
    assert parts.hostname == "graph.microsoft.com"
    return f"{parts.path}?{parts.query}"


def test_list_pages_with_skip_as_outlook_does_and_keeps_the_query(client: httpx.Client) -> None:
    for i in range(5):
        _draft(client, f"report {i}", importance="high" if i % 2 else "low")
    first = client.get("/v1.0/me/messages", params={"$select": "subject", "$top": "2"}).json()
    assert [m["subject"] for m in first["value"]] == ["report 4", "report 3"]  # newest first
    assert set(first["value"][0]) == {"id", "@odata.etag", "subject"}
    link = first["@odata.nextLink"]
    query = dict(parse_qsl(urlsplit(link).query))
    assert query["$select"] == "subject" and query["$top"] == "2" and query["$skip"] == "2"
    assert "%24skip=2" in link and "%24select=" in link  # percent-encoded, as Graph writes its links
    second = client.get(_local(link)).json()
    third = client.get(_local(second["@odata.nextLink"])).json()
    assert [m["subject"] for m in second["value"] + third["value"]] == ["report 2", "report 1", "report 0"]
    assert "@odata.nextLink" not in third


def test_filter_selects_and_a_bad_filter_or_token_is_graphs_400(client: httpx.Client) -> None:
    _draft(client, "Budget")
    _draft(client, "Don't panic")
    found = client.get("/v1.0/me/messages", params={"$filter": "subject eq 'Don''t panic' and isDraft eq true"})
    assert [m["subject"] for m in found.json()["value"]] == ["Don't panic"]
    on_a_collection = client.get("/v1.0/me/messages", params={"$filter": "toRecipients/emailAddress/address eq 'x'"})
    assert on_a_collection.status_code == 400  # a collection is no single value: OData says so
    by_address = client.get("/v1.0/me/messages",
                            params={"$filter": "toRecipients/any(r:r/emailAddress/address eq 'x')"}).json()["value"]
    assert by_address == []
    bad = client.get("/v1.0/me/messages", params={"$filter": "subject startswith 'B'"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "BadRequest"
    token = client.get("/v1.0/me/messages", params={"$skiptoken": "not-ours"})
    assert token.status_code == 400 and token.json()["error"]["code"] == "BadRequest"


def test_a_message_value_is_its_mime_and_an_attachment_value_its_bytes(client: httpx.Client) -> None:
    message_id = _draft(client, "Quarterly", body={"contentType": "Text", "content": "See attached."})
    attach = {"@odata.type": "#microsoft.graph.fileAttachment", "name": "q.pdf", "contentType": "application/pdf",
              "contentBytes": base64.b64encode(PDF).decode()}
    first = client.post(f"/v1.0/me/messages/{message_id}/attachments", json=attach).json()["id"]
    second = client.post(f"/v1.0/me/messages/{message_id}/attachments", json=attach).json()["id"]
    assert first != second
    mime = client.get(f"/v1.0/me/messages/{message_id.replace('=', '%3D')}/$value")
    assert mime.headers["content-type"] == "text/plain"
    parsed = email.message_from_bytes(mime.content)
    assert parsed["Subject"] == "Quarterly" and parsed["To"] == "megan@contoso.com"
    assert b"\r\n" in mime.content and "See attached." in parsed.get_payload()
    raw = client.get(f"/v1.0/me/messages/{message_id}/attachments/{second}/$value")
    assert raw.headers["content-type"] == "application/pdf" and raw.content == PDF
    listed = client.get(f"/v1.0/me/messages/{message_id}/attachments").json()["value"]
    assert [a["id"] for a in listed] == [first, second]
    assert client.get(f"/v1.0/me/messages/{message_id}").json()["hasAttachments"] is True
    missing = client.get("/v1.0/me/messages/AAMkNOPE=/$value")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "ErrorItemNotFound"


def test_delta_pages_then_gives_a_delta_link_that_answers_what_changed(client: httpx.Client) -> None:
    ids = [_draft(client, f"d{i}") for i in range(3)]
    prefer = {"Prefer": "odata.maxpagesize=2"}
    page = client.get("/v1.0/me/mailFolders/drafts/messages/delta", params={"$select": "subject"},
                      headers=prefer).json()
    seen = [m["subject"] for m in page["value"]]
    assert "@odata.deltaLink" not in page and "%24skiptoken=" in page["@odata.nextLink"]
    page = client.get(_local(page["@odata.nextLink"]), headers=prefer).json()
    seen += [m["subject"] for m in page["value"]]
    assert seen == ["d0", "d1", "d2"] and "%24deltatoken=" in page["@odata.deltaLink"]
    delta_link = page["@odata.deltaLink"]
    assert client.get(_local(delta_link)).json()["value"] == []  # nothing changed since
    assert client.post(f"/v1.0/me/messages/{ids[1]}/send").status_code == 202
    _draft(client, "d3")
    changes = client.get(_local(delta_link)).json()
    assert changes["value"][0] == {"id": ids[1], "@removed": {"reason": "deleted"}}
    assert [m["subject"] for m in changes["value"][1:]] == ["d3"]
    sent = client.get("/v1.0/me/mailFolders/SentItems/messages").json()["value"]
    assert [(m["subject"], m["isDraft"]) for m in sent] == [("d1", False)]
    assert sent[0]["id"] != ids[1]  # a sent draft gets a new id in Sent Items (no Prefer: IdType="ImmutableId")
    gone = client.get(f"/v1.0/me/messages/{ids[1]}")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "ErrorItemNotFound"


def test_sendmail_files_a_copy_in_sent_items(client: httpx.Client) -> None:
    assert client.post("/v1.0/me/sendMail", json={"message": {"subject": "hi", "toRecipients": TO}}).status_code == 202
    sent = client.get("/v1.0/me/mailFolders/sentitems/messages").json()["value"]
    assert [(m["subject"], m["isDraft"]) for m in sent] == [("hi", False)]


def test_scripted_throttling_answers_429_with_retry_after_then_serves(graph: FakeGraph,
                                                                     client: httpx.Client) -> None:
    graph.state.throttle.next(2, retry_after_s=3)
    body = {"message": {"subject": "hi", "toRecipients": TO}}
    answers = [client.post("/v1.0/me/sendMail", json=body) for _ in range(3)]
    assert [r.status_code for r in answers] == [429, 429, 202]
    assert answers[0].headers["retry-after"] == "3"
    assert answers[0].json()["error"]["code"] == "ApplicationThrottled"
    assert graph.state.throttle.answered == 2


def test_the_first_delta_round_lists_what_is_there_and_nothing_removed(client: httpx.Client) -> None:
    sent, kept = _draft(client, "gone"), _draft(client, "kept")
    assert client.post(f"/v1.0/me/messages/{sent}/send").status_code == 202
    page = client.get("/v1.0/me/mailFolders/drafts/messages/delta").json()
    assert [m["id"] for m in page["value"]] == [kept] and "@odata.deltaLink" in page
