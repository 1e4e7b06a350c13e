"""What a request body says, as the simulator reads it: a message's fields from JSON or base64 MIME, an action's
parameters (``Message``/``message``, ``SaveToSentItems``...: Graph takes either casing), and Graph's 400s for a body
it cannot read."""

from __future__ import annotations

import json
from typing import Any

from graphtape.bodies.kinds import is_json_type
from graphtape.model import HttpRequest
from graphtape.simulate.answers import GraphError
from graphtape.simulate.resources import fields_from_mime

MIME_400 = ("ErrorMimeContentInvalidBase64String", "Invalid base64 string for MIME content.")
_TYPES: dict[str, tuple[type, ...]] = {"subject": (str,), "importance": (str,), "body": (dict,),
                                       "toRecipients": (list,), "ccRecipients": (list,), "bccRecipients": (list,),
                                       "replyTo": (list,), "categories": (list,), "from": (dict,),
                                       "sender": (dict,), "flag": (dict,)}


def read_error(message: str) -> GraphError:
    return GraphError(400, "RequestBodyRead", message)


def json_object(req: HttpRequest) -> dict[str, Any]:
    """The body as a JSON object ({} for none); Graph's RequestBodyRead 400 otherwise."""
    if not req.body.strip():
        return {}
    try:
        doc = json.loads(req.body)
    except (ValueError, RecursionError) as e:  # not JSON, not UTF-8/16/32, or nested past the parser
        raise read_error(f"Unable to read JSON request payload: {type(e).__name__}.") from None
    if not isinstance(doc, dict):
        raise read_error(f"A JSON object was expected as the request body, not {type(doc).__name__}.")
    return doc


def param(doc: dict[str, Any], name: str, default: Any = None) -> Any:
    """An action parameter by name, in any letter case (the SDK sends ``Message``, the docs ``message``)."""
    lowered = name.lower()
    return next((v for k, v in doc.items() if k.lower() == lowered), default)


def checked(fields: Any, where: str = "") -> dict[str, Any]:
    """Message fields whose properties have the JSON types Graph's message resource gives them."""
    if not isinstance(fields, dict):
        raise read_error(f"The '{where or 'message'}' property must be an object, not {type(fields).__name__}.")
    for name, types in _TYPES.items():
        value = fields.get(name)
        if value is not None and not isinstance(value, types):
            raise read_error(f"Cannot convert the literal of type {type(value).__name__} in '{name}'.")
    body = fields.get("body") or {}
    for name in ("contentType", "content"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise read_error(f"Cannot convert the literal in 'body.{name}' to a string.")
    for name in ("toRecipients", "ccRecipients", "bccRecipients", "replyTo"):
        for item in fields.get(name) or []:
            address = item.get("emailAddress") if isinstance(item, dict) else None
            if not isinstance(address, dict) or not isinstance(address.get("address", ""), str):
                raise read_error(f"Cannot read a recipient in '{name}': give {{\"emailAddress\": {{\"address\"}}}}.")
    return fields


def is_mime(req: HttpRequest) -> bool:
    return bool(req.body.strip()) and not is_json_type(req.content_type)


def mime_fields(req: HttpRequest) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A base64 MIME body's message fields and attachments; Graph's documented 400 for one that is not base64."""
    decoded = req.mime_bytes
    if decoded is None:
        raise GraphError(400, *MIME_400)
    return fields_from_mime(decoded)


def message_fields(req: HttpRequest, *, action: bool) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    """(message fields, attachments, the action's parameters) of a create or an action's body, JSON or MIME.
    ``action``: the message is the ``message`` parameter (sendMail, createReply, ...), else the body itself."""
    if is_mime(req):
        fields, attachments = mime_fields(req)
        return fields, attachments, {}
    doc = json_object(req)
    if not action:
        return checked(doc), [], {}
    inner = param(doc, "message", {})
    fields = checked(inner if inner is not None else {}, "message")
    attachments = [a for a in fields.pop("attachments", None) or [] if isinstance(a, dict)]
    return fields, attachments, doc
