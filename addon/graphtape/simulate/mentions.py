"""@-mentions on a beta draft (Create Message, example 2): each mention the client gives is answered as Graph
keeps it, with its ``id`` and ``@odata.id``, ``createdBy`` (the mailbox's user), ``createdDateTime`` and
``serverCreatedDateTime``, and nulls for what was not given; the message gets its ``@odata.id`` and a
``mentionsPreview`` saying whether the mailbox's own user is mentioned."""

from __future__ import annotations

import copy
from typing import Any

from graphtape.simulate.call import GRAPH, Call

_OPTIONAL = ("mentionText", "clientReference", "deepLink", "application")


def _uuid(hexname: str) -> str:
    h = hexname.lower().ljust(32, "0")
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def add_mentions(call: Call, doc: dict[str, Any], given: list[Any]) -> None:
    message = f"{GRAPH}/{call.version}/users('{call.box.id}')/messages('{doc['id']}')"
    now = call.state.clock.iso()
    own = call.box.user_principal_name.lower()
    mentions = []
    for item in given:
        item = item if isinstance(item, dict) else {}
        mention_id = _uuid(call.state.ids.hexname("mention") + call.state.ids.hexname("mention"))
        mention: dict[str, Any] = {"@odata.id": f"{message}/mentions('{mention_id}')", "id": mention_id,
                                   "mentioned": copy.deepcopy(item.get("mentioned"))}
        mention.update({k: copy.deepcopy(item.get(k)) for k in _OPTIONAL[:2]})
        mention.update(createdBy=dict(call.box.address), createdDateTime=now,
                       serverCreatedDateTime=now.replace("Z", ".000Z"))
        mention.update({k: copy.deepcopy(item.get(k)) for k in _OPTIONAL[2:]})
        mentions.append(mention)
    mentioned = any(str((m.get("mentioned") or {}).get("address", "")).lower() == own for m in mentions)
    doc["@odata.id"] = message
    doc["mentionsPreview"] = {"isMentioned": mentioned}
    doc["mentions"] = mentions
