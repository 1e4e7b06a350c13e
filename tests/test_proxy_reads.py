"""Reading mail through the real proxy with the official SDK: list and page, $value, attachments, delta.

Recorded against the stand-in, then replayed offline (the stand-in stopped, a counting listener as the only
upstream anyone could name): the same results, byte for byte where the answer is bytes.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import sdk_call
from graphtape.cassette.format import load_cassette
from graphtape.testing.fakegraph import FakeGraph

PDF = b"%PDF-1.7\n\x00\x01\xff\xfe binary \r\n\x80\x81 end\n"
TO = "megan@contoso.com"


@pytest.fixture
def fake_graph(tmp_path_factory: pytest.TempPathFactory):
    """The stand-in with an empty mailbox (no docs' example draft): the lists below hold what the test made."""
    with FakeGraph(tmp_path_factory.getbasetemp() / "fakegraph-cert", with_docs_draft=False) as graph:
        yield graph


async def _prepare(client: Any) -> tuple[list[str], str]:
    """Three drafts, the first with a PDF attached: (their ids, the attachment's id)."""
    from msgraph.generated.models.email_address import EmailAddress
    from msgraph.generated.models.file_attachment import FileAttachment
    from msgraph.generated.models.message import Message
    from msgraph.generated.models.recipient import Recipient

    ids = []
    for subject in ("Budget", "Roadmap", "Offsite"):
        draft = await client.me.messages.post(Message(
            subject=subject, to_recipients=[Recipient(email_address=EmailAddress(address=TO))]))
        ids.append(draft.id)
    attached = await client.me.messages.by_message_id(ids[0]).attachments.post(
        FileAttachment(name="q.pdf", content_type="application/pdf", content_bytes=PDF))
    return ids, attached.id


async def _list_and_page(client: Any) -> list[list[str]]:
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph.generated.users.item.messages.messages_request_builder import MessagesRequestBuilder

    query = MessagesRequestBuilder.MessagesRequestBuilderGetQueryParameters(
        select=["subject", "isDraft"], filter="isDraft eq true", top=2)
    page = await client.me.messages.get(RequestConfiguration(query_parameters=query))
    pages = [[m.subject for m in page.value]]
    while page.odata_next_link:
        page = await client.me.messages.with_url(page.odata_next_link).get()
        pages.append([m.subject for m in page.value])
    return pages


async def _delta(client: Any, ids: list[str]) -> tuple[list[list[str]], list[str]]:
    from kiota_abstractions.base_request_configuration import RequestConfiguration

    config: RequestConfiguration[Any] = RequestConfiguration()
    config.headers.add("Prefer", "odata.maxpagesize=2")
    delta = client.me.mail_folders.by_mail_folder_id("drafts").messages.delta
    page = await delta.get(config)
    rounds = [[m.subject for m in page.value]]
    while page.odata_next_link:
        page = await delta.with_url(page.odata_next_link).get(config)
        rounds.append([m.subject for m in page.value])
    await client.me.messages.by_message_id(ids[1]).send.post()
    changes = await delta.with_url(page.odata_delta_link).get()
    changed = [f"{m.id} {'removed' if '@removed' in m.additional_data else m.subject}" for m in changes.value]
    return rounds, changed


async def _read_everything(client: Any) -> dict[str, Any]:
    ids, attachment_id = await _prepare(client)
    message = client.me.messages.by_message_id(ids[0])
    mime = await message.content.get()
    attachment = await message.attachments.by_attachment_id(attachment_id).get()
    pages = await _list_and_page(client)
    rounds, changed = await _delta(client, ids)
    return {"ids": ids, "attachment_id": attachment_id, "pages": pages, "mime": mime,
            "attachment": (attachment.name, attachment.content_type, attachment.content_bytes),
            "delta": rounds, "changed": changed}


def _attachment_value(proxy: Any, result: dict[str, Any], host: str = "graph.microsoft.com") -> httpx.Response:
    """The SDK has no call for an attachment's $value: any client does."""
    url = f"https://{host}/v1.0/me/messages/{result['ids'][0]}/attachments/{result['attachment_id']}/$value"
    with httpx.Client(proxy=proxy.url, verify=str(proxy.ca), timeout=20) as c:
        return c.get(url)


def test_reading_mail_with_the_sdk_replays_offline_with_the_same_results(tmp_path: Path, proxy, fake_graph,
                                                                        listener) -> None:
    cassette = tmp_path / "reads.yaml"
    rec = proxy("record", str(cassette), "--upstream", fake_graph.url, "--upstream-ca", str(fake_graph.cert))
    recorded = sdk_call(rec, _read_everything)
    raw = _attachment_value(rec, recorded)
    assert rec.stop() == 0, rec.output
    fake_graph.stop()

    assert recorded["pages"] == [["Offsite", "Roadmap"], ["Budget"]]
    assert b"Subject: Budget\r\n" in recorded["mime"] and recorded["attachment"] == ("q.pdf", "application/pdf", PDF)
    assert recorded["delta"] == [["Budget", "Roadmap"], ["Offsite"]]
    assert recorded["changed"] == [f"{recorded['ids'][1]} removed"]
    assert raw.status_code == 200 and raw.content == PDF
    loaded = load_cassette(cassette)
    urls = [i.request.url for i in loaded.interactions]
    # the links as the SDK sent them (it writes the stand-in's %24 as '$'; the token stays encoded): the list's
    # page by $skip (as Outlook's), delta's by $skiptoken and $deltatoken
    assert sum("$skip=2" in u for u in urls) == 1 and sum("$skiptoken=%2B%2B" in u for u in urls) == 1, urls
    assert sum("$deltatoken=" in u for u in urls) == 1, urls
    assert loaded.interactions[-1].response.body == PDF  # binary, byte for byte
    text = cassette.read_text()
    assert "base64:" in text and "Subject: Budget" in text  # the PDF as base64, the MIME as readable text

    rep = proxy("replay", str(cassette))
    replayed = sdk_call(rep, _read_everything)
    raw_again = _attachment_value(rep, recorded)
    # offline: a host that would answer is named, and is not reached
    elsewhere = _attachment_value(rep, recorded, host=f"127.0.0.1:{listener.port}")
    rep.stop()  # the session fails on the unmatched call to the listener, as it must
    assert replayed == recorded
    assert raw_again.content == PDF and raw_again.headers["content-type"] == "application/pdf"
    assert f"matched {len(loaded.interactions)}, unmatched 1" in rep.stderr
    assert elsewhere.status_code == 404 and listener.connections == 0


def test_tokens_are_matched_as_opaque_strings(tmp_path: Path, proxy, fake_graph) -> None:
    """A recorded $skiptoken answers only that token: another one, even one letter apart, is not served it."""
    cassette = tmp_path / "page.yaml"
    rec = proxy("record", str(cassette), "--upstream", fake_graph.url, "--upstream-ca", str(fake_graph.cert))
    with httpx.Client(proxy=rec.url, verify=str(rec.ca), timeout=20) as c:
        for subject in ("a", "b", "c"):
            c.post("https://graph.microsoft.com/v1.0/me/messages", json={"subject": subject})
        link = c.get("https://graph.microsoft.com/v1.0/me/mailFolders/drafts/messages/delta",  # delta pages by token
                     headers={"Prefer": "odata.maxpagesize=2"}).json()["@odata.nextLink"]
        second = c.get(link).json()
    assert rec.stop() == 0, rec.output
    token = link.rsplit("%24skiptoken=", 1)[1]
    changed = link.replace(token, base64.b64encode(b"x" + base64.b64decode(token.replace("%2B", "+")
                                                                           .replace("%2F", "/")
                                                                           .replace("%3D", "=")))
                           .decode().replace("=", "%3D"))
    rep = proxy("replay", str(cassette), "--quiet")
    with httpx.Client(proxy=rep.url, verify=str(rep.ca), timeout=20) as c:
        other = c.get(changed)
        same = c.get(link.replace("%24", "$"))  # the same token, spelled with a literal '$' in the name
    rep.stop()
    assert other.status_code == 404 and other.json()["error"]["code"] == "graphtape.UnmatchedRequest"
    assert same.status_code == 200 and same.json() == second
