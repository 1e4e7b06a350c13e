"""Seed data for ``graphtape simulate``: the mailboxes, folders and messages a simulated run starts with.

A seed comes from a YAML fixture (``load_seed``; the format is in the README, "Seed fixtures"), from a cassette's
recorded messages (``seed_from_cassette``, fixture_cassette.py), or is one empty mailbox (``default_seed``). The
Simulator's state dumps back to a fixture (``dump_yaml``), which ``load_seed`` reads as the same seed.

The fixture is read strictly, with the cassette reader's YAML loader (no aliases, no tags, unquoted date-times
kept as written): a tab in the indentation, an unknown key (with the key it was probably meant to be), a value
of the wrong type, or a message in a folder the mailbox does not have is a ``SeedError`` naming the file, the line
and what to do.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphtape.cassette.nodes import CassetteError
from graphtape.cassette.yamldump import dump_yaml as _yaml_text

SEED_VERSION_KEY = "graphtape_seed"
SEED_FORMAT = 1
DEFAULT_FOLDER = "inbox"
HEADER = ("# graphtape seed: the mailboxes 'graphtape simulate --seed FILE' starts with (README: Seed fixtures).\n"
          "# A message is its Graph properties plus 'folder' (a well-known name, a folder's name or id).\n")


class SeedError(Exception):
    """A seed fixture that cannot be used: which file, which line, what is wrong and what to do."""

    def __init__(self, path: str | Path, message: str, line: int | None = None, hint: str = ""):
        self.path = str(path)
        self.line = line
        self.detail = message
        self.hint = hint
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"graphtape: seed {where}: {message}" + (f" ({hint})" if hint else ""))

    @classmethod
    def of(cls, e: CassetteError) -> SeedError:
        hint = e.hint.replace("a cassette", "a seed")
        if "mapping values are not allowed" in e.detail:
            hint = "a value holding ': ' must be quoted, e.g. subject: 'Re: the plan'"
        return cls(e.path, e.detail.replace("a cassette", "a seed"), e.line, hint)


@dataclass(frozen=True)
class SeedFolder:
    display_name: str
    id: str | None = None
    parent: str | None = None  # a folder's name or id (a well-known name too); None: at the top


@dataclass(frozen=True)
class SeedMessage:
    folder: str  # a well-known name (inbox, drafts, ...), a folder's display name, or its id
    resource: dict[str, Any]  # Graph message properties; the Simulator fills in the server-set ones it lacks
    attachments: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class SeedMailbox:
    id: str
    user_principal_name: str
    display_name: str = ""
    folders: tuple[SeedFolder, ...] = ()
    messages: tuple[SeedMessage, ...] = ()


@dataclass(frozen=True)
class SeedData:
    mailboxes: tuple[SeedMailbox, ...]
    me: str  # the id or userPrincipalName of the mailbox /me is


def mailbox_id(user_principal_name: str) -> str:
    """The id of a mailbox a seed gives no id: the same for the same name (a UUID, as Graph's user ids are)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"graphtape-simulate:{user_principal_name.lower()}"))


def default_seed() -> SeedData:
    """One mailbox (``/me``, the user a Simulator without a seed has), empty: the Simulator gives it Graph's
    well-known folders."""
    from graphtape.simulate import DEFAULT_USER

    upn, name = DEFAULT_USER
    return SeedData((SeedMailbox(mailbox_id(upn), upn, name),), upn)


def load_seed(path: Path) -> SeedData:
    """The seed a YAML fixture holds; SeedError("file:line: what, what to do") for anything it cannot use."""
    from graphtape.simulate.fixture_read import parse_seed

    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise SeedError(path, "no such seed file", hint="write one (README: Seed fixtures), or get one from a run "
                        "with 'graphtape simulate --dump FILE'") from None
    except IsADirectoryError:
        raise SeedError(path, "is a folder, not a seed file") from None
    except OSError as e:
        raise SeedError(path, f"cannot be read: {e.strerror or e}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise SeedError(path, f"not UTF-8 text (byte 0x{data[e.start]:02x})", line, "save the file as UTF-8") from None
    return parse_seed(Path(path), text)


def seed_from_cassette(path: Path) -> SeedData:
    """A seed holding the message resources a cassette recorded (fixture_cassette.py)."""
    from graphtape.simulate.fixture_cassette import seed_of_cassette

    return seed_of_cassette(Path(path))


def seed_document(seed: SeedData) -> dict[str, Any]:
    """A seed as the fixture's plain data (what ``dump_yaml`` writes and ``load_seed`` reads)."""
    boxes = []
    for box in seed.mailboxes:
        doc: dict[str, Any] = {"id": box.id, "user_principal_name": box.user_principal_name}
        if box.display_name:
            doc["display_name"] = box.display_name
        if box.folders:
            doc["folders"] = [{"display_name": f.display_name, **({"id": f.id} if f.id else {}),
                               **({"parent": f.parent} if f.parent else {})} for f in box.folders]
        if box.messages:
            doc["messages"] = [_message_document(m) for m in box.messages]
        boxes.append(doc)
    return {SEED_VERSION_KEY: SEED_FORMAT, "me": seed.me, "mailboxes": boxes}


def _message_document(message: SeedMessage) -> dict[str, Any]:
    doc = {"folder": message.folder, **message.resource}
    if message.attachments:
        doc["attachments"] = [dict(a) for a in message.attachments]
    return doc


def dump_yaml(state: dict[str, Any]) -> str:
    """The Simulator's state (``Simulator.dump()``) as a fixture file that ``load_seed`` reads back as it."""
    from graphtape.simulate.fixture_dump import seed_of_state

    return HEADER + _yaml_text(seed_document(seed_of_state(state)))
