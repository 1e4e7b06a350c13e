"""``graphtape diff OLD NEW`` of one flow recorded twice through the real proxy against stand-ins with different id
seeds: the server ids are mapped between the recordings, and a request that uses another id is named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from dev.uploads import MB, upload_plain

from conftest import sdk_call
from graphtape.cassette.atomicfile import atomic_write
from graphtape.cassette.format import dump_yaml, load_cassette
from graphtape.diffing.ids import map_ids
from graphtape.testing.fakegraph import FakeGraph
from graphtape.testing.fakeseed import DOCS_DRAFT_ID
from test_cli import graphtape

GRAPH = "https://graph.microsoft.com/v1.0"
UPLOAD = bytes(range(256)) * (13 * 1024)  # 3.25 MB, the same in both recordings


async def _create_and_rename(client: Any) -> str:
    from msgraph.generated.models.email_address import EmailAddress
    from msgraph.generated.models.message import Message
    from msgraph.generated.models.recipient import Recipient

    draft = await client.me.messages.post(Message(
        subject="Quarterly report", to_recipients=[Recipient(email_address=EmailAddress(address="megan@contoso.com"))]))
    await client.me.messages.by_message_id(draft.id).patch(Message(subject="Quarterly report (final)"))
    return str(draft.id)


def _send(message_id: str):
    async def send(client: Any) -> None:
        await client.me.messages.by_message_id(message_id).send.post()
    return send


def _with_httpx(rec: Any, draft: str) -> None:
    """A $batch on the draft (its url and a body naming it), an upload session and its chunks, a page and the
    next one by its @odata.nextLink."""
    with httpx.Client(proxy=rec.url, verify=str(rec.ca), timeout=60) as c:
        batch = {"requests": [
            {"id": "1", "method": "GET", "url": f"/me/messages/{draft}?$select=subject"},
            {"id": "2", "method": "POST", "url": f"/me/messages/{draft}/copy", "body": {"destinationId": "drafts"},
             "headers": {"Content-Type": "application/json"}}]}
        assert c.post(f"{GRAPH}/$batch", json=batch).status_code == 200
        answers = upload_plain(c.post, lambda url, data, headers: c.put(url, content=data, headers=headers),
                               UPLOAD, step=2 * MB)
        assert [a.status for a in answers] == [201, 200, 201]
        page = c.get(f"{GRAPH}/me/mailFolders/drafts/messages", params={"$top": "1", "$select": "subject"})
        assert page.status_code == 200
        assert c.get(page.json()["@odata.nextLink"]).status_code == 200


def _record(tmp_path: Path, proxy: Any, id_seed: int, name: str, *, send: str | None = None) -> Path:
    """The flow recorded against a stand-in whose ids come from ``id_seed``; ``send`` sends that id instead of
    the draft the flow made (the bug the diff must find)."""
    cassette = tmp_path / f"{name}.yaml"
    with FakeGraph(tmp_path / f"cert-{name}", id_seed=id_seed) as fake:
        rec = proxy("record", str(cassette), "--upstream", fake.url, "--upstream-ca", str(fake.cert),
                    "--upstream-uploads")
        draft = sdk_call(rec, _create_and_rename)
        _with_httpx(rec, draft)
        sdk_call(rec, _send(send or draft))
        assert rec.stop() == 0, rec.output
    return cassette


@pytest.fixture
def recordings(tmp_path: Path, proxy: Any) -> tuple[Path, Path]:
    return _record(tmp_path, proxy, 1, "old"), _record(tmp_path, proxy, 2, "new")


def test_the_same_flow_recorded_twice_differs_only_in_ids_and_they_are_mapped(recordings):
    old, new = recordings
    a, b = load_cassette(old).interactions, load_cassette(new).interactions
    assert len(a) == len(b) == 9
    assert a[0].response.body != b[0].response.body  # the seeds gave the draft different ids
    assert a[1].request.url != b[1].request.url  # PATCH /me/messages/{id}

    ids = map_ids(a, b)
    old_draft, new_draft = (json.loads(x[0].response.body)["id"] for x in (a, b))
    old_session, new_session = (json.loads(x[3].response.body)["uploadUrl"].split("AttachmentSessions('")[1][:-1]
                                .split("'")[0] for x in (a, b))
    assert ids.forward[old_draft] == new_draft and ids.forward[old_session] == new_session and not ids.conflicts

    out = graphtape("diff", str(old), str(new))
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout == ""
    assert f"0 difference(s) in 0 interaction(s); {ids.mapped} server id(s) mapped between the recordings" \
        in out.stderr

    plain = graphtape("diff", str(old), str(new), "--no-id-map")  # the old behaviour: every path with an id
    assert plain.returncode == 1 and "server ids not mapped (--no-id-map)" in plain.stderr
    where = {(line.split(":")[1], line.split(": ")[1]) for line in plain.stdout.replace(f"{new}:", ":").splitlines()}
    assert {("2", "path"), ("3", "batch[0].path"), ("3", "batch[1].path"), ("5", "path"), ("6", "path"),
            ("9", "path"), ("1", "response.body.parentFolderId")} <= where, where


def test_a_recording_whose_flow_sends_another_message_is_named_at_the_send(tmp_path: Path, proxy: Any):
    old = _record(tmp_path, proxy, 1, "old")
    new = _record(tmp_path, proxy, 2, "wrong", send=DOCS_DRAFT_ID)
    given = json.loads(load_cassette(new).interactions[0].response.body)["id"]
    assert given != DOCS_DRAFT_ID

    out = graphtape("diff", str(old), str(new))
    assert out.returncode == 1, out.stdout + out.stderr
    (line,) = out.stdout.splitlines()
    assert line.startswith(f"{new}:9: path: '/v1.0/me/messages/{given}/send' -> "
                           f"'/v1.0/me/messages/{DOCS_DRAFT_ID}/send'"), line
    assert f"(NEW's server gave {given!r} at interaction 1, response.body.id" in line, line
    assert f"this one has {DOCS_DRAFT_ID!r})" in line, line
    assert "1 difference(s) in 1 interaction(s)" in out.stderr


def _edited(source: Path, target: Path, edit: Any) -> Path:
    doc = yaml.safe_load(source.read_text())
    edit(doc["interactions"])
    atomic_write(target, dump_yaml(doc))
    return target


def test_a_hand_edited_copy_with_one_id_changed_in_one_request_fails_there(recordings, tmp_path: Path):
    old, new = recordings
    given = load_cassette(new).interactions[1].request.url.rsplit("/", 1)[1]  # the PATCH's message id
    wrong = "AAMkAWRvbmdfaWRfaW5fb25lX3JlcXVlc3Q" + "AAA%3D"

    def in_the_batch(items: list[dict[str, Any]]) -> None:
        item = items[2]["request"]["body"]["json"]["requests"][1]
        item["url"] = item["url"].replace(given.replace("%3D", "="), wrong.replace("%3D", "="))

    edited = _edited(new, tmp_path / "edited.yaml", in_the_batch)
    out = graphtape("diff", str(old), str(edited))
    assert out.returncode == 1, out.stdout + out.stderr
    (line,) = out.stdout.splitlines()
    assert line.startswith(f"{edited}:3: batch[1].path: "), line
    assert "NEW's server gave" in line and "at interaction 1, response.body.id" in line, line

    def in_the_patch(items: list[dict[str, Any]]) -> None:
        items[1]["request"]["url"] = items[1]["request"]["url"].replace(given, wrong)

    edited = _edited(new, tmp_path / "edited2.yaml", in_the_patch)
    out = graphtape("diff", str(old), str(edited))
    assert out.returncode == 1
    (line,) = out.stdout.splitlines()
    assert line.startswith(f"{edited}:2: path: "), line
    assert "this one has 'AAMkAWRvbmdfaWRfaW5fb25lX3JlcXVlc3QAAA='" in line, line


def test_a_hand_edited_answer_that_breaks_the_mapping_is_an_id_conflict(recordings, tmp_path: Path):
    old, new = recordings
    a, b = load_cassette(old).interactions, load_cassette(new).interactions
    old_draft, new_draft = (json.loads(x[0].response.body)["id"] for x in (a, b))
    other = "AAMkAYW5vdGhlcl9pZF9pbl9hbl9hbnN3ZXI" + "AAA="

    def answer_another_id(items: list[dict[str, Any]]) -> None:
        items[1]["response"]["body"]["json"]["id"] = other  # the PATCH's answer names another message

    edited = _edited(new, tmp_path / "conflict.yaml", answer_another_id)
    out = graphtape("diff", str(old), str(edited))
    assert out.returncode == 1, out.stdout + out.stderr
    assert out.stdout.splitlines() == [
        f"{edited}:2: response.body.id: {old_draft!r} -> {other!r} (id conflict: OLD's {old_draft!r} became "
        f"{new_draft!r} at interaction 1, response.body.id, {other!r} here)"]
    assert "1 id conflict(s)" in out.stderr
    assert graphtape("diff", str(old), str(edited), "--ignore", "response.body.id").returncode == 0
