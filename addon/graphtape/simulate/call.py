"""One request as the routes see it: the simulator's state, the mailbox and folder the URL names, the query."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphtape.model import HttpRequest, header
from graphtape.simulate.answers import GraphError, bad_request, not_found
from graphtape.simulate.ids import Clock, Ids, is_well_formed
from graphtape.simulate.store import Folder, Mailbox, Store, Stored

if TYPE_CHECKING:
    from graphtape.simulate.uploads import UploadSessions

GRAPH = "https://graph.microsoft.com"


@dataclass
class State:
    """Everything the simulator keeps: the mailboxes, the id and time sources, the upload sessions."""

    store: Store
    ids: Ids
    clock: Clock
    uploads: UploadSessions
    lock: threading.RLock = field(default_factory=threading.RLock)


@dataclass
class Call:
    state: State
    req: HttpRequest
    version: str  # "v1.0" or "beta"
    box: Mailbox
    user_segment: str  # "me" or "users/{id}", as the URL said it (for @odata.context)
    folder: Folder | None = None  # the folder the URL names (…/mailFolders/{id}/…)
    query: dict[str, str] = field(default_factory=dict)
    pairs: list[tuple[str, str]] = field(default_factory=list)
    path: str = ""  # the normalised path, /v1.0/...

    @property
    def prefer(self) -> str:
        return ", ".join(v for k, v in self.req.headers if k.lower() == "prefer")

    @property
    def immutable(self) -> bool:
        return 'idtype="immutableid"' in self.prefer.replace(" ", "").lower()

    @property
    def domain(self) -> str:
        return self.box.user_principal_name.partition("@")[2] or "simulate.invalid"

    def context(self, suffix: str) -> str:
        """``@odata.context`` for ``users('{id}')/{suffix}``."""
        return f"{GRAPH}/{self.version}/$metadata#users('{self.box.id}')/{suffix}"

    def message(self, message_id: str) -> Stored:
        """The message an id names, in this mailbox (and the URL's folder); Graph's 400/404 otherwise."""
        if not is_well_formed(message_id):
            raise bad_request("Id is malformed.", "ErrorInvalidIdMalformed")
        stored = self.box.messages.get(message_id)
        if stored is None or (self.folder is not None and stored.folder_id != self.folder.id):
            raise not_found()
        return stored

    def folder_named(self, name_or_id: str) -> Folder:
        found = self.box.folder(name_or_id)
        if found is None:
            if not is_well_formed(name_or_id) and name_or_id.isalnum() is False:
                raise bad_request("Id is malformed.", "ErrorInvalidIdMalformed")
            raise not_found(f"no folder {name_or_id!r}")
        return found

    def client_request_id(self) -> str | None:
        return header(self.req.headers, "client-request-id")


def resource_answer(call: Call, stored: Stored) -> dict[str, Any]:
    """The message resource as Graph answers a create, GET, PATCH, move or copy of it."""
    return {"@odata.context": call.context("messages/$entity"), **stored.doc}


def not_a_draft(what: str) -> GraphError:
    return GraphError(400, "ErrorInvalidPropertyUpdateSentMessage",
                      f"{what} can be changed only while the message is a draft (isDraft true).")
