"""The Simulator's state (``Simulator.dump()``) as a seed, so that ``dump_yaml`` writes a fixture that loads back.

``dump()`` lists every folder of a mailbox, the well-known ones too, and puts each message in its folder by id.
A well-known folder is the Simulator's own (it makes one in every mailbox), with an id derived from the run's id
seed: the fixture names it by its well-known name (``inbox``), so that the file means the same under another
``id_seed``; the folders made through the API keep their ids. Messages keep every property they had.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphtape.simulate.fixture import DEFAULT_FOLDER, SeedData, SeedFolder, SeedMailbox, SeedMessage
from graphtape.simulate.store import WELL_KNOWN

_BY_DISPLAY = {display.lower(): name for name, display in WELL_KNOWN.items()}


def _well_known(folders: list[Mapping[str, Any]]) -> dict[str, str]:
    """The well-known name of each well-known folder, by id."""
    ids = {str(f.get("id")) for f in folders}
    found: dict[str, str] = {}
    for folder in folders:
        name = folder.get("well_known") or (
            _BY_DISPLAY.get(str(folder.get("display_name", "")).lower()) if folder.get("parent") not in ids else None)
        if name and folder.get("id") and name not in found.values():
            found[str(folder["id"])] = str(name)
    return found


def _mailbox(box: Mapping[str, Any]) -> SeedMailbox:
    folders = list(box.get("folders") or [])
    well_known = _well_known(folders)
    ids = {str(f.get("id")) for f in folders}
    names = {*WELL_KNOWN, *(str(f.get("display_name", "")).lower() for f in folders)}
    seeded = []
    for folder in folders:
        if str(folder.get("id")) in well_known:
            continue
        parent = folder.get("parent")
        if parent in ids:
            parent = well_known.get(str(parent), parent)
        elif str(parent).lower() not in names:
            parent = None  # the folder root (no folder of its own in a dump): at the top
        seeded.append(SeedFolder(str(folder["display_name"]), str(folder["id"]) if folder.get("id") else None,
                                 parent))
    messages = []
    for message in box.get("messages") or []:
        folder = str(message.get("folder") or DEFAULT_FOLDER)
        if "resource" in message:
            resource = dict(message["resource"])
        else:  # already in the fixture's shape: the properties beside 'folder' and 'attachments'
            resource = {k: v for k, v in message.items() if k not in ("folder", "attachments")}
        attachments = tuple(dict(a) for a in message.get("attachments") or ())
        messages.append(SeedMessage(well_known.get(folder, folder), resource, attachments))
    return SeedMailbox(str(box["id"]), str(box["user_principal_name"]), str(box.get("display_name") or ""),
                       tuple(seeded), tuple(messages))


def seed_of_state(state: Mapping[str, Any]) -> SeedData:
    """A seed holding what ``state`` (``Simulator.dump()``, or a fixture's plain data) holds."""
    boxes = tuple(_mailbox(box) for box in state.get("mailboxes") or ())
    return SeedData(boxes, str(state.get("me") or (boxes[0].user_principal_name if boxes else "")))
