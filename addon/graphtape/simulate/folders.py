"""Mail folders created, renamed and deleted through the API (the well-known ones are always there)."""

from __future__ import annotations

from graphtape.model import HttpResponse
from graphtape.simulate.answers import GraphError, bad_request, empty, json_answer
from graphtape.simulate.call import Call
from graphtape.simulate.payload import json_object
from graphtape.simulate.store import Folder


def create_folder(call: Call, parent: Folder | None) -> HttpResponse:
    """POST /mailFolders or /mailFolders/{id}/childFolders: 201 with the folder; a name taken is 409."""
    doc = json_object(call.req)
    name = doc.get("displayName")
    if not isinstance(name, str) or not name.strip():
        raise bad_request("The displayName property is required.")
    parent_id = parent.id if parent else next(iter(call.box.folders.values())).parent_id
    if any(f.parent_id == parent_id and f.display_name.lower() == name.lower() for f in call.box.folders.values()):
        raise GraphError(409, "ErrorFolderExists", "A folder with the specified name already exists.")
    folder = call.box.add_folder(Folder(call.state.ids.folder(f"{call.box.id}/{call.state.ids.hexname('folder')}"),
                                        name, None, parent_id))
    return json_answer(201, {"@odata.context": call.context("mailFolders/$entity"), **folder.resource(call.box)})


def update_folder(call: Call, folder: Folder) -> HttpResponse:
    name = json_object(call.req).get("displayName")
    if isinstance(name, str) and name.strip():
        if folder.well_known:
            raise GraphError(403, "ErrorAccessDenied", f"The well-known folder {folder.display_name!r} cannot be "
                                                       "renamed.")
        folder.display_name = name
    return json_answer(200, {"@odata.context": call.context("mailFolders/$entity"), **folder.resource(call.box)})


def delete_folder(call: Call, folder: Folder) -> HttpResponse:
    """DELETE a folder created through the API, with its messages and child folders."""
    if folder.well_known:
        raise GraphError(403, "ErrorDeleteDistinguishedFolder", "Distinguished folders cannot be deleted.")
    doomed = {folder.id}
    while True:
        more = {f.id for f in call.box.folders.values() if f.parent_id in doomed} - doomed
        if not more:
            break
        doomed |= more
    for stored in [s for s in call.box.messages.values() if s.folder_id in doomed]:
        call.box.remove(stored)
    for folder_id in doomed:
        del call.box.folders[folder_id]
    return empty(204)
