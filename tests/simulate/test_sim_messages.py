"""The simulator's messages through ``Simulator.answer``: create (JSON, MIME, the SDK's), change, send, sendMail,
delivery, replies, move, copy, delete; Graph's errors in Graph's shape; the same bytes for the same seed."""

from __future__ import annotations

import base64

from sim_requests import ADELE, CLOCK, MEGAN, call, doc, draft, from_sdk, mime, sdk_client, sim

from graphtape.simulate import Simulator


def test_a_json_draft_is_the_full_resource_graph_returns() -> None:
    s = sim()
    made = draft(s, importance="Low", body={"contentType": "HTML", "content": "They were <b>awesome</b>!"})
    assert made["@odata.context"].endswith(f"/$metadata#users('{s.mailbox('me').id}')/messages/$entity")
    assert made["@odata.etag"] == f'W/"{made["changeKey"]}"' and made["changeKey"].startswith("CQAAABYAAAA")
    assert made["id"].startswith("AAMk") and made["isDraft"] is True and made["importance"] == "low"
    assert made["body"]["contentType"] == "html" and made["body"]["content"].startswith("<html>\r\n<head>")
    assert "They were <b>awesome</b>!\r\n</body>" in made["body"]["content"]
    assert made["bodyPreview"] == "They were awesome!"
    assert made["toRecipients"] == [{"emailAddress": {"name": MEGAN, "address": MEGAN}}]
    assert made["createdDateTime"] == "2026-03-01T09:00:00Z" and made["parentFolderId"]
    assert made["webLink"].startswith("https://outlook.office365.com/owa/?ItemID=AAMk")
    assert made["conversationId"] and base64.b64decode(made["conversationIndex"])
    assert [m["id"] for m in s.mailbox("me").drafts] == [made["id"]]


def test_the_sdks_own_request_is_answered_and_read_back() -> None:
    from msgraph.generated.models.body_type import BodyType
    from msgraph.generated.models.email_address import EmailAddress
    from msgraph.generated.models.item_body import ItemBody
    from msgraph.generated.models.message import Message
    from msgraph.generated.models.recipient import Recipient

    s, client = sim(), sdk_client()
    message = Message(subject="From the SDK", body=ItemBody(content_type=BodyType.Text, content="plain"),
                      to_recipients=[Recipient(email_address=EmailAddress(address=MEGAN))])
    made = doc(s.answer(from_sdk(client.me.messages.to_post_request_information(message))))
    assert made["subject"] == "From the SDK" and made["body"] == {"contentType": "text", "content": "plain"}
    got = s.answer(from_sdk(client.me.messages.by_message_id(made["id"]).to_get_request_information()))
    assert got.status == 200 and doc(got)["id"] == made["id"]
    sent = s.answer(from_sdk(client.me.messages.by_message_id(made["id"]).send.to_post_request_information()))
    assert sent.status == 202 and sent.body == b""


def test_a_mime_draft_is_read_into_its_properties_and_attachments() -> None:
    s = sim()
    pdf = b"%PDF-1.7 \x00\xff binary"
    resp = call(s, "POST", "/me/messages", mime(attachment=pdf), headers=[("Content-Type", "text/plain")])
    made = doc(resp)
    assert resp.status == 201 and made["subject"] == "MIME report" and made["isDraft"] is True
    assert made["from"] == made["sender"] == {"emailAddress": {"name": "Adele Vance", "address": ADELE}}
    assert [r["emailAddress"]["address"] for r in made["ccRecipients"] + made["bccRecipients"]] == [
        "AlexW@contoso.com", "dana@contoso.com"]
    assert made["internetMessageId"] == "<report-1@contoso.com>" and made["sentDateTime"] == "2021-02-28T07:15:00Z"
    assert made["body"]["content"].strip() == "See attached." and made["hasAttachments"] is True
    (attachment,) = doc(call(s, "GET", f"/me/messages/{made['id']}/attachments"))["value"]
    assert attachment["name"] == "q.pdf" and base64.b64decode(attachment["contentBytes"]) == pdf
    bad = call(s, "POST", "/me/messages", b"not base64 at all!", headers=[("Content-Type", "text/plain")])
    assert bad.status == 400 and doc(bad)["error"]["code"] == "ErrorMimeContentInvalidBase64String"


def test_patch_changes_a_draft_and_only_some_properties_of_a_sent_message() -> None:
    s = sim(seed=None)
    made = draft(s, to="someone@fabrikam.com")
    patched = call(s, "PATCH", f"/me/messages/{made['id']}", {"subject": "Changed", "importance": "HIGH"})
    assert patched.status == 200 and doc(patched)["subject"] == "Changed" and doc(patched)["importance"] == "high"
    assert doc(patched)["changeKey"] != made["changeKey"]
    assert call(s, "PUT", f"/me/messages/{made['id']}/$value", mime("Replaced"),
                headers=[("Content-Type", "text/plain")]).status == 204
    assert doc(call(s, "GET", f"/me/messages/{made['id']}"))["subject"] == "Replaced"
    assert call(s, "POST", f"/me/messages/{made['id']}/send").status == 202
    (sent,) = s.mailbox("me").sent_items
    refused = call(s, "PATCH", f"/me/messages/{sent['id']}", {"subject": "Too late"})
    assert refused.status == 400 and doc(refused)["error"]["code"] == "ErrorInvalidPropertyUpdateSentMessage"
    assert call(s, "PATCH", f"/me/messages/{sent['id']}", {"isRead": False}).status == 200


def test_send_moves_to_sent_items_under_a_new_id_unless_the_id_is_immutable() -> None:
    s = sim()
    made = draft(s)
    assert call(s, "POST", f"/me/messages/{made['id']}/send").status == 202
    (sent,) = s.mailbox("me").sent_items
    assert sent["id"] != made["id"] and sent["isDraft"] is False and sent["from"]["emailAddress"]["address"] == ADELE
    gone = call(s, "GET", f"/me/messages/{made['id']}")
    assert gone.status == 404 and doc(gone)["error"]["code"] == "ErrorItemNotFound"
    again = call(s, "POST", f"/me/messages/{sent['id']}/send")  # no longer a draft
    assert again.status == 404 and doc(again)["error"]["code"] == "ErrorItemNotFound"
    kept = draft(s, headers=[("Content-Type", "application/json"), ("Prefer", 'IdType="ImmutableId"')])
    assert call(s, "POST", f"/me/messages/{kept['id']}/send").status == 202
    assert kept["id"] in [m["id"] for m in s.mailbox("me").sent_items]


def test_a_sent_message_is_delivered_to_each_simulated_recipient() -> None:
    s = sim()
    made = draft(s, ccRecipients=[{"emailAddress": {"address": "someone@fabrikam.com"}}])
    call(s, "POST", f"/me/messages/{made['id']}/send")
    (received,) = s.mailbox(MEGAN).inbox
    assert received["subject"] == "Report" and received["isRead"] is False and received["isDraft"] is False
    assert received["id"] != s.mailbox("me").sent_items[0]["id"]
    listed = doc(call(s, "GET", f"/users/{MEGAN}/mailFolders/inbox/messages"))["value"]
    assert [m["id"] for m in listed] == [received["id"]]


def test_sendmail_saves_to_sent_items_unless_told_not_to() -> None:
    s = sim()
    message = {"subject": "Notice", "toRecipients": [{"emailAddress": {"address": MEGAN}}]}
    assert call(s, "POST", "/me/sendMail", {"Message": message, "SaveToSentItems": False}).status == 202
    assert s.mailbox("me").sent_items == [] and len(s.mailbox(MEGAN).inbox) == 1
    assert call(s, "POST", "/me/sendMail", {"message": message}).status == 202
    assert [m["subject"] for m in s.mailbox("me").sent_items] == ["Notice"]
    assert call(s, "POST", "/me/sendMail", mime(), headers=[("Content-Type", "text/plain")]).status == 202
    assert [m["subject"] for m in s.mailbox(MEGAN).inbox] == ["MIME report", "Notice", "Notice"]


def test_replies_and_forwards_stay_in_the_conversation() -> None:
    s = sim()
    call(s, "POST", "/me/sendMail", {"message": {"subject": "Plan", "toRecipients": [
        {"emailAddress": {"address": MEGAN}}, {"emailAddress": {"address": "alex@contoso.com"}}]}})
    (original,) = s.mailbox(MEGAN).inbox
    base = f"/users/{MEGAN}/messages/{original['id']}"
    reply = doc(call(s, "POST", f"{base}/createReply", {"comment": "Agreed"}))
    assert reply["subject"] == "RE: Plan" and reply["conversationId"] == original["conversationId"]
    assert [r["emailAddress"]["address"] for r in reply["toRecipients"]] == [ADELE]
    assert "Agreed" in reply["body"]["content"] and reply["isDraft"] is True
    everyone = doc(call(s, "POST", f"{base}/createReplyAll", {}))
    assert [r["emailAddress"]["address"] for r in everyone["toRecipients"] + everyone["ccRecipients"]] == [
        ADELE, "alex@contoso.com"]
    forward = doc(call(s, "POST", f"{base}/createForward", {"toRecipients": [{"emailAddress": {"address": ADELE}}]}))
    assert forward["subject"] == "FW: Plan"
    assert call(s, "POST", f"{base}/reply", {"comment": "Sent at once"}).status == 202
    assert [m["subject"] for m in s.mailbox("me").inbox] == ["RE: Plan"]


def test_move_copy_and_delete() -> None:
    s = sim()
    made = draft(s)
    folder = doc(call(s, "POST", "/me/mailFolders", {"displayName": "Projects"}))
    moved = doc(call(s, "POST", f"/me/messages/{made['id']}/move", {"destinationId": folder["id"]}))
    assert moved["parentFolderId"] == folder["id"] and moved["id"] != made["id"]
    copied = doc(call(s, "POST", f"/me/messages/{moved['id']}/copy", {"destinationId": "inbox"}))
    assert [m["id"] for m in s.mailbox("me").folder("Projects")] == [moved["id"]]
    assert [m["id"] for m in s.mailbox("me").inbox] == [copied["id"]]
    assert call(s, "DELETE", f"/me/messages/{copied['id']}").status == 204
    (deleted,) = s.mailbox("me").deleted_items
    assert call(s, "DELETE", f"/me/messages/{deleted['id']}").status == 204
    assert s.mailbox("me").deleted_items == [] and len(s.mailbox("me").messages) == 1


def test_errors_are_in_graphs_shape_with_request_id_and_date() -> None:
    s = sim()
    for path, status, code in [("/me/messages/AAMkAGRWAAAFSmKXAAA=", 404, "ErrorItemNotFound"),
                               ("/me/messages/not%20an%20id!", 400, "ErrorInvalidIdMalformed"),
                               ("/users/nobody@contoso.com/messages", 404, "ErrorInvalidUser"),
                               ("/me/events", 501, "graphtape.NotSimulated")]:
        resp = call(s, "GET", path, headers=[("client-request-id", "c-1")])
        error = doc(resp)["error"]
        assert (resp.status, error["code"]) == (status, code), path
        assert error["innerError"]["request-id"] == dict(resp.headers)["request-id"]
        assert error["innerError"]["client-request-id"] == "c-1" and error["innerError"]["date"].startswith("2026")
    assert "record" in doc(call(s, "GET", "/me/events"))["error"]["message"]  # says what to do


def test_the_same_seed_and_clock_give_the_same_bytes() -> None:
    def run(id_seed: int) -> list[bytes]:
        s = Simulator(id_seed=id_seed, clock=CLOCK)
        made = call(s, "POST", "/me/messages", {"subject": "x"})
        return [made.body, call(s, "GET", "/me/mailFolders/drafts/messages").body]

    assert run(7) == run(7) and run(7) != run(8)
