"""Reading a seed fixture's YAML into ``SeedData``, each problem with its line (the format: README, "Seed fixtures").

The walk reuses the cassette reader (cassette/read.py's strict loader, cassette/nodes.py's ``Reader``): keys
are checked against the fixture's and, for messages, against the contract's message properties; values against
their JSON types. Shorthands a person writes are expanded as Graph spells them: a recipient as ``Name <address>``
or ``address``, a body as its text.
"""

from __future__ import annotations

import datetime
import difflib
import re
from collections.abc import Collection, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from yaml.nodes import Node, ScalarNode, SequenceNode

from graphtape.cassette.nodes import CassetteError, Reader
from graphtape.cassette.read import _compose
from graphtape.simulate.edm import Prop, json_types, properties
from graphtape.simulate.fixture import (
    DEFAULT_FOLDER,
    SEED_FORMAT,
    SEED_VERSION_KEY,
    SeedData,
    SeedError,
    SeedFolder,
    SeedMailbox,
    SeedMessage,
    mailbox_id,
)
from graphtape.simulate.store import WELL_KNOWN

TOP_KEYS = (SEED_VERSION_KEY, "me", "mailboxes")
MAILBOX_KEYS = ("id", "user_principal_name", "display_name", "folders", "messages")
FOLDER_KEYS = ("display_name", "id", "parent")
MESSAGE_KEYS = ("folder", "attachments")  # besides the message's Graph properties
SINGLE_RECIPIENTS = ("from", "sender")
RECIPIENT_LISTS = ("toRecipients", "ccRecipients", "bccRecipients", "replyTo")
_PY_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str, "boolean": bool, "array": list, "object": dict, "null": type(None), "integer": int,
    "number": (int, float),
}
_TAB_INDENT = re.compile(r"^[ ]*\t", re.MULTILINE)
_NAMED_ADDRESS = re.compile(r"^\s*(?P<name>.*?)\s*<(?P<address>[^<>\s]+)>\s*$")


def parse_seed(path: Path, text: str) -> SeedData:
    """The seed in fixture text (``path`` only names it in errors)."""
    tab = _TAB_INDENT.search(text)
    if tab:
        raise SeedError(path, "a tab in the indentation", text.count("\n", 0, tab.start()) + 1,
                        "YAML indents with spaces only: replace the tab with spaces")
    try:
        root, loader = _compose(path, text)
        return _Walk(Reader(path, loader)).seed(root)
    except CassetteError as e:
        raise SeedError.of(e) from None


def message_properties() -> Mapping[str, Prop]:
    return properties("message", "beta")  # beta's are a superset: a seed may hold either version's


@cache
def attachment_keys() -> tuple[str, ...]:
    names = {name for kind in ("fileAttachment", "itemAttachment", "referenceAttachment")
             for name in properties(kind, "beta")}
    return tuple(sorted(names))


def _type_ok(value: Any, types: Collection[str]) -> bool:
    if isinstance(value, bool):
        return "boolean" in types
    return any(isinstance(value, _PY_TYPES[t]) for t in types if t in _PY_TYPES)


def _recipient(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    m = _NAMED_ADDRESS.match(value)
    if m:
        return {"emailAddress": {"name": m.group("name").strip('"'), "address": m.group("address")}}
    return {"emailAddress": {"address": value.strip()}}


def expand(name: str, value: Any) -> Any:
    """A property as Graph spells it, from the shorthand a person may write."""
    if name in SINGLE_RECIPIENTS:
        return _recipient(value)
    if name in RECIPIENT_LISTS:
        if isinstance(value, str):
            return [_recipient(value)]
        return [_recipient(v) for v in value] if isinstance(value, list) else value
    if name in ("body", "uniqueBody") and isinstance(value, str):
        return {"contentType": "text", "content": value}
    return value


class _Walk:
    def __init__(self, reader: Reader):
        self.r = reader

    def seed(self, root: Node | None) -> SeedData:
        if root is None:
            raise self.r.fail(None, "the file is empty", "a seed lists mailboxes: see README, Seed fixtures")
        top = self.r.fields(root, "the seed", TOP_KEYS)
        if SEED_VERSION_KEY in top:
            version = self.r.value(top[SEED_VERSION_KEY])
            if version != SEED_FORMAT or isinstance(version, bool):
                raise self.r.fail(top[SEED_VERSION_KEY], f"unknown seed format version {version!r}",
                                  f"this graphtape reads version {SEED_FORMAT}")
        if "mailboxes" not in top:
            raise self.r.fail(root, "the seed has no 'mailboxes'", "list at least one mailbox")
        nodes = self.items(top["mailboxes"], "mailboxes")
        boxes = tuple(self.mailbox(n, i) for i, n in enumerate(nodes))
        if not boxes:
            raise self.r.fail(top["mailboxes"], "the seed has no mailbox", "list at least one under 'mailboxes'")
        seen: set[str] = set()
        for node, box in zip(nodes, boxes, strict=True):
            names = {box.id.lower(), box.user_principal_name.lower()}
            if names & seen:
                raise self.r.fail(node, f"a second mailbox {box.user_principal_name} (id {box.id})",
                                  "each mailbox once: merge their folders and messages")
            seen |= names
        return SeedData(boxes, self.me(top.get("me"), root, boxes))

    def me(self, node: Node | None, root: Node, boxes: tuple[SeedMailbox, ...]) -> str:
        names = [b.user_principal_name for b in boxes]
        if node is None:
            if len(boxes) == 1:
                return boxes[0].user_principal_name
            raise self.r.fail(root, "the seed has several mailboxes and no 'me'",
                              f"add 'me:' with one of {', '.join(names)}")
        me = self.r.string(node, "me")
        if not any(me.lower() in (b.id.lower(), b.user_principal_name.lower()) for b in boxes):
            raise self.r.fail(node, f"me names {me!r}, which is none of the mailboxes",
                              _closest(me, names) + f"the mailboxes are {', '.join(names)}")
        return me

    def items(self, node: Node, what: str) -> list[Node]:
        if isinstance(node, ScalarNode) and self.r.value(node) is None:
            return []
        if not isinstance(node, SequenceNode):
            raise self.r.fail(node, f"{what} must be a list (entries start with '- ')")
        return list(node.value)

    def mailbox(self, node: Node, index: int) -> SeedMailbox:
        what = f"mailbox {index + 1}"
        f = self.r.fields(node, what, MAILBOX_KEYS)
        if "user_principal_name" not in f:
            raise self.r.fail(node, f"{what} has no 'user_principal_name'", "give its address: megan@contoso.com")
        upn = self.r.string(f["user_principal_name"], f"{what}.user_principal_name")
        box_id = self.r.string(f["id"], f"{what}.id") if "id" in f else mailbox_id(upn)
        name = self.r.string(f["display_name"], f"{what}.display_name") if "display_name" in f else ""
        what = f"mailbox {upn}"
        folder_nodes = self.items(f["folders"], "folders") if "folders" in f else []
        folders = tuple(self.folder(n, what) for n in folder_nodes)
        known = _folder_names(folders)
        for folder_node, folder in zip(folder_nodes, folders, strict=True):
            if folder.parent is not None and folder.parent.lower() not in known:
                raise self.r.fail(folder_node, f"{what}: the folder {folder.display_name!r} has the parent "
                                  f"{folder.parent!r}, which the mailbox does not have",
                                  _folders_hint(folder.parent, known))
        message_nodes = self.items(f["messages"], "messages") if "messages" in f else []
        messages = tuple(self.message(n, what, known) for n in message_nodes)
        return SeedMailbox(box_id, upn, name, folders, messages)

    def folder(self, node: Node, what: str) -> SeedFolder:
        f = self.r.fields(node, f"{what}: a folder", FOLDER_KEYS)
        if "display_name" not in f:
            raise self.r.fail(node, f"{what}: a folder has no 'display_name'", "name it: display_name: Projects")
        values = {k: self.r.string(v, f"{what}: folder {k}") for k, v in f.items()}
        return SeedFolder(values["display_name"], values.get("id"), values.get("parent"))

    def message(self, node: Node, what: str, folders: Collection[str]) -> SeedMessage:
        f = self.r.fields(node, f"{what}: a message")
        folder = DEFAULT_FOLDER
        if "folder" in f:
            folder = self.r.string(f["folder"], f"{what}: a message's folder")
            if folder.lower() not in folders:
                raise self.r.fail(f["folder"], f"{what}: a message is in the folder {folder!r}, which the mailbox "
                                  "does not have", _folders_hint(folder, folders))
        resource: dict[str, Any] = {}
        for key, value_node in f.items():
            if key in MESSAGE_KEYS:
                continue
            if key not in message_properties() and not key.startswith("@odata."):
                raise self.r.fail(value_node, f"{what}: a message has the unknown property {key!r}",
                                  _closest(key, [*MESSAGE_KEYS, *message_properties()]) +
                                  "a message's keys are its Graph properties (camelCase) and 'folder'")
            resource[key] = self.property(key, value_node, what)
        attachments = tuple(self.attachment(n, what) for n in self.items(f["attachments"], "attachments")) \
            if "attachments" in f else ()
        return SeedMessage(folder, resource, attachments)

    def property(self, key: str, node: Node, what: str) -> Any:
        value = expand(key, self.r.value(node))
        prop = message_properties().get(key)
        if prop is None:
            return value  # an @odata annotation
        types = json_types(prop)
        if prop.members and isinstance(value, str) and value.lower() not in prop.members:
            raise self.r.fail(node, f"{what}: a message's {key} is {value!r}, not one of {', '.join(prop.members)}",
                              _closest(value.lower(), prop.members))
        if types is not None and not _type_ok(value, types):
            hint = ("write true or false" if "boolean" in types else "quote it if it is text" if "string" in types
                    else "")
            raise self.r.fail(node, f"{what}: a message's {key} must be {' or '.join(types)}, not {value!r}", hint)
        if prop.type == "Edm.DateTimeOffset" and isinstance(value, str) and not _is_date_time(value):
            raise self.r.fail(node, f"{what}: a message's {key} {value!r} is not a date-time",
                              "write it as ISO 8601 in UTC: 2024-01-31T09:00:00Z")
        return value

    def attachment(self, node: Node, what: str) -> dict[str, Any]:
        f = self.r.fields(node, f"{what}: an attachment")
        for key, value_node in f.items():
            if key not in attachment_keys() and not key.startswith("@odata."):
                raise self.r.fail(value_node, f"{what}: an attachment has the unknown key {key!r}",
                                  _closest(key, attachment_keys()) + "an attachment's keys are Graph's "
                                  "(fileAttachment: name, contentType, contentBytes, ...)")
        if "name" not in f:
            raise self.r.fail(node, f"{what}: an attachment has no 'name'", "name the file: name: report.pdf")
        return {key: self.r.value(v) for key, v in f.items()}


def _is_date_time(text: str) -> bool:
    try:
        datetime.datetime.fromisoformat(text)
    except ValueError:
        return False
    return "T" in text


def _folder_names(folders: tuple[SeedFolder, ...]) -> set[str]:
    names = {name for name in WELL_KNOWN} | {display.lower() for display in WELL_KNOWN.values()}
    for folder in folders:
        names |= {folder.display_name.lower(), *([folder.id.lower()] if folder.id else [])}
    return names


def _closest(word: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    if not close:
        lowered = {k.lower(): k for k in known}
        close = [lowered[word.lower()]] if word.lower() in lowered else []
    return f"did you mean {close[0]!r}? " if close else ""


def _folders_hint(name: str, known: Collection[str]) -> str:
    return (_closest(name.lower(), sorted(known)) + "name a well-known folder (" + ", ".join(WELL_KNOWN) +
            "), or list the folder under the mailbox's 'folders'")

