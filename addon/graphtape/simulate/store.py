"""The simulator's state: mailboxes, their folders, messages, attachments, and a change log for delta.

A ``Store`` holds every simulated mailbox (``/me`` is one of them); a ``Mailbox`` holds folders (the well-known
ones, by name and id, and those created through the API) and messages by id. A message is its resource (the
properties Graph answers, without ``@odata.context``), its folder's id, its attachments, and whether it was created
with ``Prefer: IdType="ImmutableId"`` (its id then survives a move or a send). Every change to a folder's content
gets the next sequence number; delta reads the log between two of them. Nothing here builds HTTP: see ``routes``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from graphtape.simulate.ids import Ids

# Graph's well-known folder names (lower case, as compared) and the display names Outlook gives them.
WELL_KNOWN: dict[str, str] = {"inbox": "Inbox", "drafts": "Drafts", "sentitems": "Sent Items",
                              "deleteditems": "Deleted Items", "outbox": "Outbox", "archive": "Archive",
                              "junkemail": "Junk Email"}
DRAFTS, SENT, INBOX, DELETED = "drafts", "sentitems", "inbox", "deleteditems"


@dataclass
class Folder:
    id: str
    display_name: str
    well_known: str | None = None  # "drafts", ... for Graph's well-known folders
    parent_id: str | None = None

    def resource(self, mailbox: Mailbox) -> dict[str, Any]:
        inside = [m for m in mailbox.messages.values() if m.folder_id == self.id]
        return {"id": self.id, "displayName": self.display_name, "parentFolderId": self.parent_id or "",
                "childFolderCount": sum(1 for f in mailbox.folders.values() if f.parent_id == self.id),
                "unreadItemCount": sum(1 for m in inside if not m.doc.get("isRead", True)),
                "totalItemCount": len(inside), "isHidden": False}


@dataclass
class Stored:
    doc: dict[str, Any]  # the message resource (no @odata.context); doc["id"] is its id
    folder_id: str
    attachments: dict[str, dict[str, Any]] = field(default_factory=dict)  # by id, in the order added
    immutable: bool = False  # created with Prefer: IdType="ImmutableId": its id survives moves and send
    hidden: dict[str, Any] = field(default_factory=dict)  # kept, answered only when $select names them

    @property
    def id(self) -> str:
        return str(self.doc["id"])


@dataclass(frozen=True)
class Change:
    seq: int
    folder_id: str
    message_id: str
    removed: bool  # the message left the folder (sent, moved, deleted)


@dataclass
class Mailbox:
    id: str
    user_principal_name: str
    display_name: str = ""
    folders: dict[str, Folder] = field(default_factory=dict)  # by id
    messages: dict[str, Stored] = field(default_factory=dict)  # by id, in the order created
    log: list[Change] = field(default_factory=list)

    @property
    def seq(self) -> int:
        return self.log[-1].seq if self.log else 0

    @property
    def address(self) -> dict[str, str]:
        return {"name": self.display_name or self.user_principal_name, "address": self.user_principal_name}

    def folder(self, name_or_id: str) -> Folder | None:
        """A folder by its id, its well-known name or its display name (names compared without case)."""
        if name_or_id in self.folders:
            return self.folders[name_or_id]
        lowered = name_or_id.lower()
        for folder in self.folders.values():
            if folder.well_known == lowered:
                return folder
        return next((f for f in self.folders.values() if f.display_name.lower() == lowered), None)

    def well_known(self, name: str) -> Folder:
        found = self.folder(name)
        assert found is not None, name
        return found

    def add_folder(self, folder: Folder) -> Folder:
        self.folders[folder.id] = folder
        return folder

    def put(self, stored: Stored) -> Stored:
        """A new message (or a moved one under its new id) into its folder."""
        self.messages[stored.id] = stored
        stored.doc["parentFolderId"] = stored.folder_id
        self._changed(stored.folder_id, stored.id)
        return stored

    def touched(self, stored: Stored) -> None:
        """A message changed where it is (PATCH, an attachment): delta lists it again."""
        self._changed(stored.folder_id, stored.id)

    def remove(self, stored: Stored) -> None:
        """A message gone from its folder (deleted for good, or moved away under a new id)."""
        self.messages.pop(stored.id, None)
        self._changed(stored.folder_id, stored.id, removed=True)

    def move(self, stored: Stored, folder_id: str, new_id: str | None) -> Stored:
        """Move to another folder; ``new_id`` (None: keep it) is the id it has there."""
        self.remove(stored)
        if new_id is not None:
            stored.doc["id"] = new_id
        stored.folder_id = folder_id
        return self.put(stored)

    def _changed(self, folder_id: str, message_id: str, removed: bool = False) -> None:
        self.log.append(Change(self.seq + 1, folder_id, message_id, removed))

    def in_folder(self, folder_id: str | None) -> list[Stored]:
        """The messages of a folder (every one for None), newest first, as Graph lists them."""
        found = [s for s in self.messages.values() if folder_id is None or s.folder_id == folder_id]
        return list(reversed(found))

    def delta(self, folder_id: str, since: int, until: int) -> list[dict[str, Any]]:
        """What changed in a folder between two sequence numbers: each message once, as it is now, or
        ``{"id", "@removed"}`` for one that left it. The first round (``since`` 0) lists what is there."""
        last: dict[str, Change] = {}
        for change in self.log:
            if since < change.seq <= until and change.folder_id == folder_id:
                last[change.message_id] = change  # listed where it first changed, as it is after its last
        out = []
        for change in last.values():
            stored = self.messages.get(change.message_id)
            here = stored is not None and stored.folder_id == folder_id
            if not here and since > 0:
                out.append({"id": change.message_id, "@removed": {"reason": "deleted"}})
            elif here and stored is not None:
                out.append(copy.deepcopy(stored.doc))
        return out


def new_mailbox(ids: Ids, mailbox_id: str, upn: str, display_name: str = "") -> Mailbox:
    """A mailbox with Graph's well-known folders (their ids derived from the mailbox and the seed)."""
    box = Mailbox(mailbox_id, upn, display_name)
    root = ids.folder(f"{mailbox_id}/msgfolderroot")
    for name, display in WELL_KNOWN.items():
        box.add_folder(Folder(ids.folder(f"{mailbox_id}/{name}"), display, name, root))
    return box


@dataclass
class Store:
    mailboxes: list[Mailbox] = field(default_factory=list)
    me: str = ""  # the id of the mailbox /me is
    open_users: bool = False  # every /users/{id | upn} a call names is a mailbox (the stand-in's tenant)

    def find(self, who: str) -> Mailbox | None:
        """``me``, a mailbox id, or a userPrincipalName (without case); None if it is none of them."""
        if who.lower() == "me":
            who = self.me
        lowered = who.lower()
        return next((b for b in self.mailboxes if b.id.lower() == lowered
                     or b.user_principal_name.lower() == lowered), None)

    def by_address(self, address: str) -> Mailbox | None:
        lowered = address.lower()
        return next((b for b in self.mailboxes if b.user_principal_name.lower() == lowered), None)
