"""Read-only snapshots of the simulator's state: ``MailboxView`` for assertions in tests, ``dump`` as plain data
in the fixture's shape (``fixture.py``'s SeedData: mailboxes, their folders and messages, and which is /me)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from graphtape.simulate.store import DELETED, DRAFTS, INBOX, SENT, Mailbox, Store


@dataclass(frozen=True)
class MailboxView:
    """One mailbox as it was when taken: each folder's messages as Graph answers GET (newest first)."""

    id: str
    user_principal_name: str
    display_name: str = ""
    _folders: dict[str, list[dict[str, Any]]] = field(default_factory=dict, repr=False)  # by folder id
    _names: dict[str, str] = field(default_factory=dict, repr=False)  # lower-case name -> folder id

    @classmethod
    def of(cls, box: Mailbox) -> MailboxView:
        folders = {f.id: [copy.deepcopy(s.doc) for s in box.in_folder(f.id)] for f in box.folders.values()}
        names = {f.display_name.lower(): f.id for f in box.folders.values()}
        names.update({f.well_known: f.id for f in box.folders.values() if f.well_known})
        return cls(box.id, box.user_principal_name, box.display_name, folders, names)

    def folder(self, name_or_id: str) -> list[dict[str, Any]]:
        """The messages of a folder named by id, well-known name (``sentitems``) or display name; KeyError else."""
        folder_id = name_or_id if name_or_id in self._folders else self._names.get(name_or_id.lower())
        if folder_id is None:
            raise KeyError(f"mailbox {self.user_principal_name} has no folder {name_or_id!r}; it has "
                           f"{sorted(self._names)}")
        return copy.deepcopy(self._folders[folder_id])

    @property
    def drafts(self) -> list[dict[str, Any]]:
        return self.folder(DRAFTS)

    @property
    def sent_items(self) -> list[dict[str, Any]]:
        return self.folder(SENT)

    @property
    def inbox(self) -> list[dict[str, Any]]:
        return self.folder(INBOX)

    @property
    def deleted_items(self) -> list[dict[str, Any]]:
        return self.folder(DELETED)

    @property
    def messages(self) -> list[dict[str, Any]]:
        return [copy.deepcopy(m) for docs in self._folders.values() for m in docs]


def dump(store: Store) -> dict[str, Any]:
    """The whole state as plain data: ``{"me": ..., "mailboxes": [{id, user_principal_name, display_name,
    folders: [{display_name, id, parent}], messages: [{folder, resource, attachments}]}]}``."""
    boxes: list[dict[str, Any]] = []
    for box in store.mailboxes:
        folders: list[dict[str, Any]] = [{"display_name": f.display_name, "id": f.id, "parent": f.parent_id}
                   for f in box.folders.values()]
        messages: list[dict[str, Any]] = [{"folder": s.folder_id, "resource": copy.deepcopy({**s.doc, **s.hidden}),
                     "attachments": [copy.deepcopy(a) for a in s.attachments.values()]}
                    for s in box.messages.values()]
        boxes.append({"id": box.id, "user_principal_name": box.user_principal_name,
                      "display_name": box.display_name, "folders": folders, "messages": messages})
    return {"me": store.me, "mailboxes": boxes}
