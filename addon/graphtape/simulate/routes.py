"""Which simulated call a Graph URL is, and who answers it.

A path after ``/v1.0`` or ``/beta`` is read the way the contract reads it (``contract.endpoints.
canonical_resource``: OData keys in parentheses, namespace-qualified actions, nested folders), its segments
compared without letter case. ``/me`` and ``/users/{id | userPrincipalName}`` name a simulated mailbox (another is
404 ``ErrorInvalidUser``); everything not listed here is 501 ``graphtape.NotSimulated``.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl, unquote, urlsplit

from graphtape.contract.endpoints import canonical_resource
from graphtape.graph import GraphUrl
from graphtape.model import HttpRequest, HttpResponse
from graphtape.simulate import attachments, reads, replies, writes
from graphtape.simulate.answers import GraphError, not_simulated
from graphtape.simulate.call import Call, State
from graphtape.simulate.folders import create_folder, delete_folder, update_folder
from graphtape.simulate.store import Mailbox, Stored, new_mailbox

MessageRoute = Callable[[Call, Stored], HttpResponse]
_ON_MESSAGE: dict[tuple[str, str], MessageRoute] = {
    ("GET", ""): reads.get_message,
    ("PATCH", ""): writes.patch,
    ("DELETE", ""): writes.delete,
    ("GET", "$value"): lambda call, stored: reads.get_value(stored),
    ("PUT", "$value"): writes.put_value,
    ("POST", "send"): writes.send,
    ("POST", "move"): lambda call, stored: writes.move(call, stored, keep=False),
    ("POST", "copy"): lambda call, stored: writes.move(call, stored, keep=True),
    ("POST", "permanentdelete"): lambda call, stored: writes.delete(call, stored, permanent=True),
    ("POST", "attachments"): attachments.post,
    **{("POST", action): (lambda a: lambda call, stored: replies.answer(call, stored, a))(action)
       for action in replies.KINDS},
}


def segments(url: GraphUrl) -> list[str]:
    resource = canonical_resource(url.resource)
    return [unquote(s) for s in resource.strip("/").split("/") if s]


def route(state: State, req: HttpRequest, url: GraphUrl) -> HttpResponse:
    """The answer to a Graph call (not ``$batch``, not an upload chunk: ``Simulator`` takes those)."""
    parts = segments(url)
    method = req.method.upper()
    lowered = [p.lower() for p in parts]
    if lowered[:1] == ["me"]:
        who, rest, user_segment = "me", parts[1:], "me"
    elif lowered[:1] == ["users"] and len(parts) >= 2:
        who, rest, user_segment = parts[1], parts[2:], f"users/{parts[1]}"
    else:
        raise not_simulated(method, url.path)
    box = state.store.find(who)
    if box is None and state.store.open_users:
        box = _open_mailbox(state, who)
    if box is None:
        raise GraphError(404, "ErrorInvalidUser", f"The requested user '{who}' is invalid.")
    pairs = parse_qsl(urlsplit(req.url).query, keep_blank_values=True)
    call = Call(state, req, url.version, box, user_segment, query=dict(pairs), pairs=pairs, path=url.path)
    return _mailbox(call, rest)


def _open_mailbox(state: State, who: str) -> Mailbox:
    """A mailbox for a user the stand-in's tenant has (open_users): named by its UPN, or its id."""
    from graphtape.simulate.fixture import mailbox_id

    upn = who if "@" in who else f"{who}@contoso.com"
    box = new_mailbox(state.ids, who if "@" not in who else mailbox_id(upn), upn)
    state.store.mailboxes.append(box)
    return box


def _mailbox(call: Call, rest: list[str]) -> HttpResponse:
    method, lowered = call.req.method.upper(), [p.lower() for p in rest]
    if lowered == ["sendmail"] and method == "POST":
        return writes.send_mail(call)
    if lowered[:1] == ["mailfolders"]:
        if len(rest) == 1:
            if method == "GET":
                return reads.list_folders(call, None)
            if method == "POST":
                return create_folder(call, None)
        else:
            return _folder(call, rest[1], rest[2:])
    if lowered[:1] == ["messages"]:
        return _messages(call, rest[1:])
    raise not_simulated(method, call.path)


def _folder(call: Call, name: str, rest: list[str]) -> HttpResponse:
    folder = call.folder_named(name)
    method, lowered = call.req.method.upper(), [p.lower() for p in rest]
    if not rest:
        routes = {"GET": reads.get_folder, "PATCH": update_folder, "DELETE": delete_folder}
        if method in routes:
            return routes[method](call, folder)
    elif lowered == ["childfolders"]:
        if method == "GET":
            return reads.list_folders(call, folder)
        if method == "POST":
            return create_folder(call, folder)
    elif lowered[0] == "messages":
        call.folder = folder
        return _messages(call, rest[1:])
    raise not_simulated(method, call.path)


def _messages(call: Call, rest: list[str]) -> HttpResponse:
    method = call.req.method.upper()
    if not rest:
        if method == "GET":
            return reads.list_messages(call)
        if method == "POST":
            return writes.create(call)
        raise not_simulated(method, call.path)
    if rest[0].lower() in ("delta", "delta()") and len(rest) == 1 and method == "GET":
        return reads.delta(call)
    stored = call.message(rest[0])
    tail = [p.lower() for p in rest[1:]]
    if tail[:1] == ["attachments"]:
        if tail == ["attachments", "createuploadsession"] and method == "POST":
            return call.state.uploads.create(call, stored)
        if method in ("GET", "DELETE") and len(tail) <= 3 and (method == "GET" or len(tail) == 2):
            return attachments.answer(call, stored, rest[2:])
    handler = _ON_MESSAGE.get((method, "/".join(tail)))
    if handler is None:
        raise not_simulated(method, call.path)
    return handler(call, stored)
