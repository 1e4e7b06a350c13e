"""Attachments, upload sessions, $batch, folders and the inspection views of the simulator, through ``answer``."""

from __future__ import annotations

import base64
import json
import os

import pytest
from sim_requests import ADELE, MEGAN, call, doc, draft, sim

from graphtape.model import HttpRequest

MB = 1024 * 1024


def test_an_attachment_is_posted_listed_read_as_bytes_and_deleted() -> None:
    s = sim()
    made = draft(s)
    data = os.urandom(1000)
    posted = call(s, "POST", f"/me/messages/{made['id']}/attachments", {
        "@odata.type": "#microsoft.graph.fileAttachment", "name": "r.bin", "contentType": "application/x-r",
        "contentBytes": base64.b64encode(data).decode()})
    attachment = doc(posted)
    assert posted.status == 201 and attachment["id"] and attachment["size"] >= 1000
    base = f"/me/messages/{made['id']}/attachments/{attachment['id']}"
    raw = call(s, "GET", f"{base}/$value")
    assert raw.body == data and dict(raw.headers)["Content-Type"] == "application/x-r"
    assert doc(call(s, "GET", base))["name"] == "r.bin"
    assert doc(call(s, "GET", f"/me/messages/{made['id']}"))["hasAttachments"] is True
    assert call(s, "DELETE", base).status == 204
    assert doc(call(s, "GET", f"/me/messages/{made['id']}/attachments"))["value"] == []
    assert call(s, "GET", base).status == 404


def test_a_direct_attachment_over_3_mb_is_refused() -> None:
    s = sim()
    made = draft(s)
    big = base64.b64encode(b"\0" * (3 * MB + 1)).decode()  # under the 4 MB request limit, over 3 MB of file
    resp = call(s, "POST", f"/me/messages/{made['id']}/attachments", {
        "@odata.type": "#microsoft.graph.fileAttachment", "name": "big.bin", "contentBytes": big})
    assert resp.status in (400, 413), resp.body  # the contract's 4 MB JSON limit or the 3 MB attachment limit
    assert doc(call(s, "GET", f"/me/messages/{made['id']}"))["hasAttachments"] is False


def _session(s, message_id: str, size: int):
    return call(s, "POST", f"/me/messages/{message_id}/attachments/createUploadSession",
                {"AttachmentItem": {"attachmentType": "file", "name": "big.bin", "size": size}})


def test_an_upload_session_takes_the_chunks_in_order_and_attaches_the_file() -> None:
    s = sim()
    made = draft(s)
    data = os.urandom(5 * MB)
    created = _session(s, made["id"], len(data))
    assert created.status == 201 and doc(created)["nextExpectedRanges"] == ["0-"]
    url = doc(created)["uploadUrl"]
    assert url.startswith("https://outlook.office.com/api/v2.0/") and "authtoken=" in url and s.handles(url)
    answers = []
    for start in range(0, len(data), 4 * MB):
        end = min(start + 4 * MB, len(data)) - 1
        answers.append(s.answer(HttpRequest("PUT", url, [("Content-Range", f"bytes {start}-{end}/{len(data)}"),
                                                         ("Content-Type", "application/octet-stream")],
                                            data[start:end + 1])))
    assert [a.status for a in answers] == [200, 201]
    assert json.loads(answers[0].body)["nextExpectedRanges"] == [str(4 * MB)]
    assert "Attachments('" in dict(answers[1].headers)["Location"]
    (attachment,) = doc(call(s, "GET", f"/me/messages/{made['id']}/attachments"))["value"]
    assert attachment["size"] == len(data) and base64.b64decode(attachment["contentBytes"]) == data


@pytest.mark.parametrize(("size", "status", "code"), [
    (MB, 400, "ErrorAttachmentSizeShouldNotBeLessThanMinimumSize"),
    (151 * MB, 400, "RequestBodyRead")])  # the contract's: AttachmentItem.size is at most 150 MB (overlay.yaml)
def test_an_upload_session_is_for_3_to_150_mb(size: int, status: int, code: str) -> None:
    s = sim()
    resp = _session(s, draft(s)["id"], size)
    assert (resp.status, doc(resp)["error"]["code"]) == (status, code)


def test_a_chunk_out_of_order_gets_the_contracts_error() -> None:
    s = sim()
    url = doc(_session(s, draft(s)["id"], 4 * MB))["uploadUrl"]
    resp = s.answer(HttpRequest("PUT", url, [("Content-Range", f"bytes 10-19/{4 * MB}"),
                                             ("Content-Type", "application/octet-stream")], b"x" * 10))
    assert resp.status == 416 and doc(resp)["error"]["code"]
    wrong = s.answer(HttpRequest("PUT", url.split("?")[0] + "?authtoken=nope", [], b""))
    assert wrong.status == 401


def test_a_batch_runs_its_items_in_order_with_depends_on() -> None:
    s = sim()
    items = [{"id": "1", "method": "POST", "url": "/me/messages", "headers": {"Content-Type": "application/json"},
              "body": {"subject": "In a batch", "toRecipients": [{"emailAddress": {"address": MEGAN}}]}},
             {"id": "2", "method": "GET", "url": "/me/messages/AAMkNOPENOPE=", "dependsOn": ["1"]},
             {"id": "3", "method": "GET", "url": "/me/mailFolders/drafts/messages", "dependsOn": ["2"]}]
    resp = call(s, "POST", "/$batch", {"requests": items})
    answers = {a["id"]: a for a in doc(resp)["responses"]}
    assert resp.status == 200 and answers["1"]["status"] == 201 and answers["1"]["body"]["subject"] == "In a batch"
    assert (answers["2"]["status"], answers["3"]["status"]) == (404, 424)
    assert call(s, "POST", "/$batch", {"requests": [items[0]] * 2}).status == 400  # an id twice


def test_folders_are_created_nested_listed_and_deleted() -> None:
    s = sim()
    parent = doc(call(s, "POST", "/me/mailFolders", {"displayName": "Clients"}))
    child = doc(call(s, "POST", f"/me/mailFolders/{parent['id']}/childFolders", {"displayName": "Contoso"}))
    assert call(s, "POST", "/me/mailFolders", {"displayName": "clients"}).status == 409
    names = [f["displayName"] for f in doc(call(s, "GET", "/me/mailFolders"))["value"]]
    assert "Inbox" in names and "Sent Items" in names and "Clients" in names and "Contoso" not in names
    assert [f["id"] for f in doc(call(s, "GET", f"/me/mailFolders/{parent['id']}/childFolders"))["value"]] == [
        child["id"]]
    made = doc(call(s, "POST", f"/me/mailFolders/{child['id']}/messages", {"subject": "Filed"}))
    assert made["parentFolderId"] == child["id"]
    assert call(s, "DELETE", "/me/mailFolders/inbox").status == 403
    assert call(s, "DELETE", f"/me/mailFolders/{parent['id']}").status == 204
    assert call(s, "GET", f"/me/messages/{made['id']}").status == 404


def test_the_views_and_dump_are_copies_of_the_state() -> None:
    s = sim()
    draft(s)
    view = s.mailbox(ADELE)
    view.drafts[0]["subject"] = "changed in the copy"
    assert s.mailbox("me").drafts[0]["subject"] == "Report" and view.id == s.mailbox("me").id
    with pytest.raises(KeyError, match="no mailbox"):
        s.mailbox("nobody@contoso.com")
    dumped = s.dump()
    assert dumped["me"] == view.id and [b["user_principal_name"] for b in dumped["mailboxes"]] == [ADELE, MEGAN]
    assert dumped["mailboxes"][0]["messages"][0]["resource"]["subject"] == "Report"
