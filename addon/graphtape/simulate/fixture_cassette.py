"""A cassette's recorded messages as a seed: what Graph answered about each message becomes the mailbox's content.

Each successful JSON answer that holds message resources counts, a ``$batch`` item's too: a created draft or reply
draft (201), a message read (GET), a list or delta page (``value``), a move or copy; each attachment answered under
a message becomes its attachment. A message seen several times is the union of what was seen, the latest answer
winning. A draft recorded as sent (``POST .../send`` 202) is in Sent Items, no longer a draft; a message recorded
as deleted is gone.

Mailboxes: ``/me`` is the user whose id the answers' ``@odata.context`` names (``users('...')``), or a stand-in
id; ``/users/{id | userPrincipalName}`` is that mailbox. Folders: a message is in the well-known folder the URL
named (``/mailFolders/inbox/messages``) or that its ``parentFolderId`` was seen to be, otherwise in a folder of
that id (a recorded folder's ``displayName`` names it); a message with no folder at all is a draft in Drafts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from graphtape.bodies.batch import answer_items, is_batch, item_body, item_headers, item_id, item_request, request_items
from graphtape.cassette.read import load_cassette
from graphtape.contract.endpoints import canonical_resource
from graphtape.model import HttpResponse, Interaction
from graphtape.simulate.fixture import SeedData, SeedError, SeedFolder, SeedMailbox, SeedMessage, mailbox_id
from graphtape.simulate.store import WELL_KNOWN

ME = "me"
_CONTEXT_USER = re.compile(r"#users\('([^']+)'\)")
_OWNER = re.compile(r"^/(me|users/[^/]+)(/.*)?$", re.IGNORECASE)
_FOLDER = re.compile(r"/mailfolders/([^/]+)", re.IGNORECASE)
_MESSAGE = re.compile(r"/messages/([^/]+)(?:/([\w$]+))?$", re.IGNORECASE)
_ATTACHMENTS = re.compile(r"/messages/([^/]+)/attachments(?:/[^/]+)?$", re.IGNORECASE)
_FOLDERS = re.compile(r"/(?:mailfolders|childfolders)(?:/([^/]+))?$", re.IGNORECASE)


@dataclass
class _Box:
    key: str  # "me" or the /users/ segment as written
    user_id: str | None = None
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)  # by id, first seen first
    folder_of: dict[str, str] = field(default_factory=dict)  # message id -> folder (well-known name or id)
    attachments: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    folder_names: dict[str, str] = field(default_factory=dict)  # folder id -> displayName
    well_known: dict[str, str] = field(default_factory=dict)  # folder id -> well-known name


def _json(interaction: Interaction) -> Any:
    resp = interaction.response
    if not 200 <= resp.status < 300 or "json" not in resp.content_type.lower() or not resp.body:
        return None
    try:
        return json.loads(resp.body)
    except ValueError:
        return None


def _is_message(doc: Any) -> bool:
    return isinstance(doc, dict) and "id" in doc and "@removed" not in doc and (
        "message" in str(doc.get("@odata.type", "#microsoft.graph.message")).lower()) and any(
        k in doc for k in ("subject", "body", "isDraft", "toRecipients", "from", "receivedDateTime", "conversationId"))


def _take(box: _Box, doc: dict[str, Any], folder: str | None) -> None:
    message_id = str(doc["id"])
    known = box.messages.setdefault(message_id, {})
    known.update({k: v for k, v in doc.items() if k != "@odata.context"})
    parent = doc.get("parentFolderId")
    if folder and folder.lower() in WELL_KNOWN and isinstance(parent, str):
        box.well_known[parent] = folder.lower()
    where = folder if folder and folder.lower() in WELL_KNOWN else parent if isinstance(parent, str) else folder
    if where:
        box.folder_of[message_id] = where
    box.folder_of.setdefault(message_id, "drafts")


def _read(box: _Box, method: str, path: str, body: Any) -> None:
    """What one recorded answer says about the mailbox's messages, folders and attachments."""
    if isinstance(body, dict) and isinstance(context := body.get("@odata.context"), str):
        found = _CONTEXT_USER.search(context)
        box.user_id = box.user_id or (found.group(1) if found else None)
    folder_match = _FOLDER.search(path)
    folder = unquote(folder_match.group(1)) if folder_match else None
    docs: list[Any] = body["value"] if isinstance(body, dict) and isinstance(body.get("value"), list) else [body]
    attachments = _ATTACHMENTS.search(path)
    if attachments:
        for doc in docs:
            if isinstance(doc, dict) and "id" in doc and "name" in doc:
                box.attachments.setdefault(unquote(attachments.group(1)), {})[str(doc["id"])] = doc
        return
    folders = _FOLDERS.search(path)
    if folders:  # a folder or a list of folders answered: their names
        named = unquote(folders.group(1) or "").lower()
        for doc in docs:
            if isinstance(doc, dict) and "id" in doc and "displayName" in doc:
                box.folder_names[str(doc["id"])] = str(doc["displayName"])
                if named in WELL_KNOWN and body is doc:
                    box.well_known[str(doc["id"])] = named
        return
    for doc in docs:
        if _is_message(doc):
            _take(box, doc, folder)


def _action(box: _Box, method: str, path: str, status: int) -> None:
    """A recorded send (the draft leaves Drafts) or delete (the message is gone)."""
    found = _MESSAGE.search(path)
    if found is None or not 200 <= status < 300:
        return
    message_id, verb = unquote(found.group(1)), (found.group(2) or "").lower()
    if method == "POST" and verb == "send" and message_id in box.messages:
        box.messages[message_id]["isDraft"] = False
        box.folder_of[message_id] = "sentitems"
    elif method == "DELETE" and not verb:
        box.messages.pop(message_id, None)
        box.folder_of.pop(message_id, None)


def _calls(interactions: list[Interaction]) -> Iterator[Interaction]:
    """The interactions, each ``$batch`` one as the calls its items made (paired by item id)."""
    for interaction in interactions:
        answered = answer_items(interaction.response.body) if is_batch(interaction.request) else None
        asked = request_items(interaction.request) if answered else None
        if answered is None or asked is None:
            yield interaction
            continue
        by_id = {item_id(item): item for item in asked}
        for answer in answered[1]:
            req = item_request(by_id.get(item_id(answer)), interaction.request)
            status = answer.get("status") if isinstance(answer, dict) else None
            if req is not None and isinstance(status, int):
                yield Interaction(req, HttpResponse(status, headers=item_headers(answer), body=item_body(answer)))


def _boxes(interactions: list[Interaction]) -> dict[str, _Box]:
    boxes: dict[str, _Box] = {}
    for interaction in _calls(interactions):
        parsed = interaction.request.graph_url
        owner = _OWNER.match(canonical_resource(parsed.resource)) if parsed else None
        if parsed is None or owner is None:
            continue
        key = owner.group(1) if owner.group(1).lower() == ME else owner.group(1).split("/", 1)[1]
        box = boxes.setdefault(key.lower(), _Box(key))
        path, method = canonical_resource(parsed.resource), interaction.request.method.upper()
        body = _json(interaction)
        if body is not None:
            _read(box, method, path, body)
        _action(box, method, path, interaction.response.status)
    return boxes


def _seed_mailbox(box: _Box) -> SeedMailbox:
    named = box.key if box.key.lower() != ME else None
    upn = named if named and "@" in named else f"{box.user_id or named or 'me'}@simulate.invalid"
    user_id = box.user_id or (named if named and "@" not in named else mailbox_id(upn))
    folders: dict[str, SeedFolder] = {}
    messages = []
    for message_id, doc in box.messages.items():
        where = box.folder_of.get(message_id, "drafts")
        where = box.well_known.get(where, where)
        if where.lower() not in WELL_KNOWN and where not in folders:
            folders[where] = SeedFolder(box.folder_names.get(where, f"Recorded folder {len(folders) + 1}"), where)
        attachments = tuple(box.attachments.get(message_id, {}).values())
        messages.append(SeedMessage(where, doc, attachments))
    return SeedMailbox(user_id, upn, "", tuple(folders.values()), tuple(messages))


def seed_of_cassette(path: Path) -> SeedData:
    """The seed a cassette's recorded messages make; SeedError if it recorded none."""
    cassette = load_cassette(path)
    boxes = _boxes(cassette.interactions)
    seeded = {key: _seed_mailbox(box) for key, box in boxes.items() if box.messages}
    if not seeded:
        raise SeedError(path, "the cassette records no message resource (no created draft, read or listed "
                        "message)", hint="seed from a cassette that read or created mail, or write a YAML seed")
    me = seeded.get(ME) or next(iter(seeded.values()))
    return SeedData(tuple(seeded.values()), me.user_principal_name)
