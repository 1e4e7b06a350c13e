"""seed_from_cassette: a cassette's recorded message resources become the mailboxes' content."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from graphtape.cassette.format import save_cassette
from graphtape.model import HttpRequest, HttpResponse, Interaction
from graphtape.simulate.fixture import SeedError, SeedFolder, seed_from_cassette

REPO = Path(__file__).resolve().parents[2]
GRAPH = "https://graph.microsoft.com/v1.0"
CONTEXT = "https://graph.microsoft.com/v1.0/$metadata#users('0aaa0aa0-0000-0a00-a00a-0000009000a0')/messages"


def _call(method: str, url: str, status: int, body: Any = None) -> Interaction:
    headers = [("Content-Type", "application/json;odata.metadata=minimal")] if body is not None else []
    payload = json.dumps(body).encode() if body is not None else b""
    return Interaction(HttpRequest(method, GRAPH + url), HttpResponse(status, headers=headers, body=payload))


def _message(message_id: str, folder_id: str, **props: Any) -> dict[str, Any]:
    return {"@odata.etag": f'W/"{message_id}"', "id": message_id, "subject": f"about {message_id}",
            "parentFolderId": folder_id, "isDraft": False, **props}


def _cassette(tmp_path: Path, calls: list[Interaction]) -> Path:
    path = tmp_path / "recorded.yaml"
    save_cassette(path, calls)
    return path


def test_recorded_messages_fill_their_mailboxes_and_folders(tmp_path: Path) -> None:
    calls = [
        _call("POST", "/me/messages", 201, {"@odata.context": CONTEXT + "/$entity",
                                             **_message("D1", "F-drafts", isDraft=True)}),
        _call("GET", "/me/mailFolders/inbox/messages?$top=2", 200, {
            "@odata.context": CONTEXT, "value": [_message("I1", "F-inbox"), _message("I2", "F-inbox")]}),
        _call("GET", "/me/mailFolders", 200, {"value": [{"id": "F-proj", "displayName": "Projects"}]}),
        _call("GET", "/me/mailFolders/F-proj/messages", 200, {"value": [_message("P1", "F-proj")]}),
        _call("GET", "/me/messages/I1?$select=isRead", 200, {"id": "I1", "isRead": False, "@odata.etag": "x",
                                                             "subject": "about I1"}),
        _call("GET", "/me/messages/I2/attachments", 200, {"value": [{"id": "A1", "name": "a.txt",
                                                                     "contentBytes": "eA=="}]}),
        _call("POST", "/me/messages/D1/send", 202),
        _call("DELETE", "/me/messages/P1", 204),
        _call("GET", "/me/messages/I9", 404, {"error": {"code": "ErrorItemNotFound", "message": "gone"}}),
        _call("GET", "/users/alexw@contoso.com/messages", 200, {"value": [_message("X1", "F-alex-inbox")]}),
    ]
    seed = seed_from_cassette(_cassette(tmp_path, calls))
    me, alex = seed.mailboxes
    assert seed.me == me.user_principal_name
    assert me.id == "0aaa0aa0-0000-0a00-a00a-0000009000a0"  # the user @odata.context names
    by_id = {m.resource["id"]: m for m in me.messages}
    assert sorted(by_id) == ["D1", "I1", "I2"]  # P1 was deleted, I9 never answered
    assert (by_id["D1"].folder, by_id["D1"].resource["isDraft"]) == ("sentitems", False)  # sent
    assert by_id["I1"].folder == "inbox"
    assert by_id["I1"].resource["isRead"] is False  # the later $select answer adds to the list's
    assert by_id["I1"].resource["parentFolderId"] == "F-inbox"
    assert "@odata.context" not in by_id["I1"].resource
    assert by_id["I2"].attachments == ({"id": "A1", "name": "a.txt", "contentBytes": "eA=="},)
    assert me.folders == ()  # Projects' only message was deleted
    assert alex.user_principal_name == "alexw@contoso.com"
    assert [(m.folder, m.resource["id"]) for m in alex.messages] == [("F-alex-inbox", "X1")]
    assert alex.folders == (SeedFolder("Recorded folder 1", "F-alex-inbox"),)


def test_a_folder_named_by_a_recorded_answer_keeps_its_name(tmp_path: Path) -> None:
    calls = [_call("GET", "/me/mailFolders", 200, {"value": [{"id": "F-proj", "displayName": "Projects"}]}),
             _call("GET", "/me/mailFolders/F-proj/messages", 200, {"value": [_message("P1", "F-proj")]})]
    (me,) = seed_from_cassette(_cassette(tmp_path, calls)).mailboxes
    assert me.folders == (SeedFolder("Projects", "F-proj"),)
    assert [m.folder for m in me.messages] == ["F-proj"]


def test_the_create_draft_seed_cassette_is_one_draft() -> None:
    seed = seed_from_cassette(REPO / "cassettes" / "seeds" / "create-draft-json.yaml")
    (me,) = seed.mailboxes
    (draft,) = me.messages
    assert (me.id, draft.folder) == ("ad787b4f-1fda-4523-8e48-ffedb7f4635f", "drafts")
    assert draft.resource["subject"] == "Did you see last night's game?"
    assert draft.resource["isDraft"] is True


def test_a_cassette_without_messages_is_refused_with_what_to_do() -> None:
    with pytest.raises(SeedError, match="records no message resource") as info:
        seed_from_cassette(REPO / "cassettes" / "seeds" / "send-draft.yaml")
    assert "write a YAML seed" in info.value.hint


def test_the_items_of_a_recorded_batch_count_as_calls(tmp_path: Path) -> None:
    asked = {"requests": [{"id": "1", "method": "GET", "url": "/me/mailFolders/inbox/messages"},
                          {"id": "2", "method": "GET", "url": "/me/messages/I9"}]}
    answered = {"responses": [
        {"id": "2", "status": 404, "body": {"error": {"code": "ErrorItemNotFound", "message": "gone"}}},
        {"id": "1", "status": 200, "headers": {"Content-Type": "application/json"},
         "body": {"value": [_message("I1", "F-inbox")]}}]}
    batch = Interaction(
        HttpRequest("POST", GRAPH + "/$batch", [("Content-Type", "application/json")], json.dumps(asked).encode()),
        HttpResponse(200, headers=[("Content-Type", "application/json")], body=json.dumps(answered).encode()))
    (me,) = seed_from_cassette(_cassette(tmp_path, [batch])).mailboxes
    assert [(m.folder, m.resource["id"]) for m in me.messages] == [("inbox", "I1")]


def test_a_cassette_seed_starts_a_simulator_with_the_recorded_draft() -> None:
    from graphtape.simulate import Simulator

    sim = Simulator(seed=seed_from_cassette(REPO / "cassettes" / "seeds" / "create-draft-json.yaml"))
    (draft,) = sim.mailbox("me").drafts
    assert (draft["id"], draft["subject"]) == ("AAMkAGRWAAAFSmKXAAA=", "Did you see last night's game?")
    got = sim.answer(HttpRequest("GET", GRAPH + "/me/messages/AAMkAGRWAAAFSmKXAAA%3D?$select=subject"))
    assert (got.status, json.loads(got.body)["subject"]) == (200, "Did you see last night's game?")
