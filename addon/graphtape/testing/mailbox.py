"""The stand-in's mailbox: the messages created and sent through it, their attachments, and a change log for delta.

Folders are named as Graph's well-known names (``drafts``, ``sentitems``, ``inbox``, compared in lower case):
a draft created at ``/me/messages`` is in ``drafts``; ``send`` moves it to ``sentitems``; ``sendMail`` files a
copy there. Every change gets the next sequence number; delta reads the log between two of them.
"""

from __future__ import annotations

import base64
import copy
import threading
from dataclasses import dataclass, field
from typing import Any

DRAFTS, SENT = "drafts", "sentitems"


@dataclass
class Stored:
    doc: dict[str, Any]  # the message resource as the stand-in answers it
    folder: str
    attachments: dict[str, dict[str, Any]] = field(default_factory=dict)  # by id, in the order added


@dataclass(frozen=True)
class Change:
    seq: int
    folder: str
    message_id: str
    removed: bool  # the message left the folder (sent, moved)


@dataclass
class Mailbox:
    messages: dict[str, Stored] = field(default_factory=dict)  # by id, in the order created
    log: list[Change] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def seq(self) -> int:
        return self.log[-1].seq if self.log else 0

    def _changed(self, folder: str, message_id: str, removed: bool = False) -> None:
        self.log.append(Change(self.seq + 1, folder, message_id, removed))

    def add(self, doc: dict[str, Any], folder: str) -> None:
        with self.lock:
            self.messages[doc["id"]] = Stored(copy.deepcopy(doc), folder.lower())
            self._changed(folder.lower(), doc["id"])

    def send(self, message_id: str) -> None:
        """A draft sent: it leaves its folder for ``sentitems``, no longer a draft."""
        with self.lock:
            stored = self.messages.get(message_id)
            if stored is None:
                return
            self._changed(stored.folder, message_id, removed=True)
            stored.folder, stored.doc["isDraft"] = SENT, False
            self._changed(SENT, message_id)

    def attach(self, message_id: str, doc: dict[str, Any]) -> None:
        """Keep an attachment; ``doc["id"]`` is made unique within its message."""
        with self.lock:
            stored = self.messages.get(message_id)
            if stored is None:
                return
            base = str(doc.get("id") or "AAMkAGI2THVSAAABEgAQAH5Ry8SCXgZImSTaukO5HCA=")
            n, attachment_id = 1, base
            while attachment_id in stored.attachments:
                n += 1
                attachment_id = f"{base.rstrip('=')}{n:02d}="
            doc["id"] = attachment_id
            stored.attachments[attachment_id] = copy.deepcopy(doc)
            stored.doc["hasAttachments"] = True

    def in_folder(self, folder: str | None) -> list[dict[str, Any]]:
        """The messages of a folder (every one for None), newest first, as Graph lists them."""
        with self.lock:
            found = [s.doc for s in self.messages.values() if folder is None or s.folder == folder.lower()]
        return [copy.deepcopy(doc) for doc in reversed(found)]

    def get(self, message_id: str) -> Stored | None:
        with self.lock:
            return self.messages.get(message_id)

    def delta(self, folder: str, since: int, until: int) -> list[dict[str, Any]]:
        """What changed in ``folder`` between two sequence numbers: each message once, as it is now, or
        ``{"id", "@removed"}`` for one that left it (the order of their last change). The first round
        (``since`` 0) lists what is there, nothing removed."""
        with self.lock:
            last: dict[str, Change] = {}
            for change in self.log:
                if since < change.seq <= until and change.folder == folder.lower():
                    last.pop(change.message_id, None)
                    last[change.message_id] = change
            out = []
            for change in last.values():
                stored = self.messages[change.message_id]
                if change.removed and stored.folder != change.folder and since > 0:
                    out.append({"id": change.message_id, "@removed": {"reason": "deleted"}})
                elif not change.removed:
                    out.append(copy.deepcopy(stored.doc))
            return out


def attachment_bytes(doc: dict[str, Any]) -> bytes:
    """A file attachment's content (its ``contentBytes`` decoded; b"" without)."""
    try:
        return base64.b64decode(str(doc.get("contentBytes") or ""), validate=True)
    except ValueError:
        return b""
