"""Filling the simulator from seed data (``fixture.SeedData``: mailboxes, folders, messages): each seeded message's
server-set properties that the seed lacks (id, changeKey, conversationId, ...) are made as for a new message, and
a seeded message keeps the ids it gives."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from graphtape.model import HttpRequest
from graphtape.simulate.attachments import add_attachment
from graphtape.simulate.call import Call, State
from graphtape.simulate.resources import RECIPIENT_LISTS, new_message, web_link
from graphtape.simulate.store import Folder, Mailbox, Stored, new_mailbox

if TYPE_CHECKING:
    from graphtape.simulate.fixture import SeedData

_NO_REQUEST = HttpRequest("POST", "https://graph.microsoft.com/v1.0/me/messages")  # what a seeding "call" is
_NORMALISED = frozenset({"body", "importance", "inferenceClassification", *RECIPIENT_LISTS})


def seed_message(state: State, box: Mailbox, folder: Folder, resource: dict[str, Any],
                 attachments: tuple[dict[str, Any], ...] = (), *, immutable: bool = False) -> Stored:
    """A message into a folder as the seed gives it; what it lacks is filled in as Graph would have."""
    made, hidden = new_message(resource, ids=state.ids, clock=state.clock, folder_id=folder.id, version="v1.0",
                               domain=box.user_principal_name.partition("@")[2] or "simulate.invalid")
    doc = {**made, **{k: copy.deepcopy(v) for k, v in resource.items() if k not in hidden and k not in _NORMALISED}}
    doc["parentFolderId"] = folder.id
    if "webLink" not in resource:
        doc["webLink"] = web_link(str(doc["id"]))
    doc["isDraft"] = resource.get("isDraft", folder.well_known == "drafts")  # new_message makes every one a draft
    if "changeKey" in resource and "@odata.etag" not in resource:
        doc["@odata.etag"] = f'W/"{resource["changeKey"]}"'
    stored = box.put(Stored(doc, folder.id, immutable=immutable, hidden=hidden))
    call = Call(state, _NO_REQUEST, "v1.0", box, "me")
    for attachment in attachments:
        add_attachment(call, stored, dict(attachment), direct=False)
    return stored


def apply_seed(state: State, seed: SeedData) -> None:
    """The mailboxes of a ``SeedData`` (its ``me`` names /me's mailbox by id or userPrincipalName)."""
    for seeded in seed.mailboxes:
        box = new_mailbox(state.ids, seeded.id, seeded.user_principal_name, seeded.display_name)
        state.store.mailboxes.append(box)
        pending = list(seeded.folders)
        while pending:  # parents first, whatever order the seed lists them in
            placed = [f for f in pending if f.parent is None or box.folder(f.parent) is not None]
            if not placed:
                raise ValueError(f"mailbox {seeded.user_principal_name}: folder {pending[0].display_name!r} names a "
                                 f"parent {pending[0].parent!r} that is no folder of it")
            for f in placed:
                if box.folder(f.id or f.display_name) is None:
                    parent = box.folder(f.parent) if f.parent else None
                    root = next(iter(box.folders.values())).parent_id
                    box.add_folder(Folder(f.id or state.ids.folder(f"{box.id}/{f.display_name}"), f.display_name,
                                          None, parent.id if parent else root))
                pending.remove(f)
        for message in seeded.messages:
            folder = box.folder(message.folder)
            if folder is None:
                raise ValueError(f"mailbox {seeded.user_principal_name}: a message is in folder {message.folder!r}, "
                                 "which it does not have (name a well-known folder, or list it under folders)")
            seed_message(state, box, folder, dict(message.resource), tuple(message.attachments))
    found = state.store.find(seed.me) if seed.mailboxes else None
    if found is None:
        raise ValueError(f"the seed's me ({seed.me!r}) is none of its mailboxes")
    state.store.me = found.id
