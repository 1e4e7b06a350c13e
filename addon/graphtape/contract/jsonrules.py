"""Cross-field rules of JSON bodies: what the docs say and a JSON Schema cannot (or not readably).

Each rule is a small function registered under its id in mail-contract.yaml; an endpoint lists the
rules that apply to it. Rules see the body after schema checks, with action parameters renamed to
camelCase, and must not assume the body is well typed (the schema findings report that).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphtape.model import Finding

from .data import limit
from .endpoints import Endpoint
from .rules import finding
from .schema import Parameters


@dataclass(frozen=True)
class JsonRequest:
    endpoint: Endpoint
    version: str
    params: Parameters

    @property
    def body(self) -> Mapping[str, Any]:
        return self.params.body if isinstance(self.params.body, dict) else {}

    def message(self) -> tuple[Mapping[str, Any] | None, tuple[str, ...]]:
        """The message object of the body (None if absent or not an object) and its path."""
        at = self.endpoint.message_at
        if at is None:
            return None, ()
        if at == "":
            return self.body, ()
        value = self.body.get(at)
        return (value if isinstance(value, dict) else None), (at,)

    def path(self, *parts: str | int) -> str:
        return self.params.path(*parts)

    def finding(self, rule_id: str, parts: tuple[str | int, ...], message: str) -> Finding:
        return finding(rule_id, self.path(*parts), message, self.endpoint.doc)


RuleFn = Callable[[JsonRequest], Iterator[Finding]]
JSON_RULES: dict[str, RuleFn] = {}


def json_rule(rule_id: str) -> Callable[[RuleFn], RuleFn]:
    def register(fn: RuleFn) -> RuleFn:
        JSON_RULES[rule_id] = fn
        return fn

    return register


def _given(value: Any) -> bool:
    """A list with members, an object, or a non-empty string: the client gave this."""
    return value not in (None, "", [], {})


def _recipients(value: Any) -> bool:
    """A list naming at least one address: ``[{}]`` or ``[{"emailAddress": {}}]`` names nobody."""
    if not isinstance(value, list):
        return False
    for item in value:
        email = item.get("emailAddress") if isinstance(item, dict) else None
        address = email.get("address") if isinstance(email, dict) else None
        if isinstance(address, str) and address.strip():
            return True
    return False


@json_rule("mention.to-recipients-required")
def mentions_need_recipients(req: JsonRequest) -> Iterator[Finding]:
    message, at = req.message()
    if message is None or not _given(message.get("mentions")):
        return
    if not _recipients(message.get("toRecipients")) and not _recipients(req.body.get("toRecipients")):
        msg = "a message with mentions needs toRecipients; add the people the message is addressed to"
        yield req.finding("mention.to-recipients-required", (*at, "toRecipients"), msg)


@json_rule("mention.mentioned-required")
def mention_needs_mentioned(req: JsonRequest) -> Iterator[Finding]:
    message, at = req.message()
    mentions = message.get("mentions") if message is not None else None
    if not isinstance(mentions, list):
        return
    for i, mention in enumerate(mentions):
        if isinstance(mention, dict) and mention.get("mentioned") is None:
            msg = 'this mention has no "mentioned"; give the mentioned person as {"name": ..., "address": ...}'
            yield req.finding("mention.mentioned-required", (*at, "mentions", i), msg)


@json_rule("send.no-recipient")
def send_needs_recipient(req: JsonRequest) -> Iterator[Finding]:
    message, at = req.message()
    if message is None:
        return
    if not any(_recipients(message.get(k)) for k in ("toRecipients", "ccRecipients", "bccRecipients")):
        msg = ("the message has no toRecipients, ccRecipients or bccRecipients with an address "
               "(a recipient {} names nobody); Graph cannot send it")
        yield req.finding("send.no-recipient", at, msg)


@json_rule("action.comment-and-body")
def comment_or_body(req: JsonRequest) -> Iterator[Finding]:
    message, _ = req.message()
    if message is None or not _given(req.body.get("comment")) or message.get("body") is None:
        return
    msg = "give either comment or message.body, not both (Graph answers 400); put the text in one of them"
    yield req.finding("action.comment-and-body", ("comment",), msg)


@json_rule("forward.recipients-exactly-one")
def forward_recipients(req: JsonRequest) -> Iterator[Finding]:
    message, _ = req.message()
    in_parameter = _recipients(req.body.get("toRecipients"))
    in_message = message is not None and _recipients(message.get("toRecipients"))
    if in_parameter and in_message:
        msg = "toRecipients is given both as a parameter and in message; give it in one place only"
        yield req.finding("forward.recipients-exactly-one", ("toRecipients",), msg)
    elif not in_parameter and not in_message:
        msg = "no recipients: give toRecipients (the parameter) or message.toRecipients, exactly one of them"
        yield req.finding("forward.recipients-exactly-one", ("toRecipients",), msg)


@json_rule("upload-session.min-size")
def upload_session_size(req: JsonRequest) -> Iterator[Finding]:
    item = req.body.get("attachmentItem")
    size = item.get("size") if isinstance(item, dict) else None
    minimum = limit("upload_session_min_bytes")
    if isinstance(size, int) and not isinstance(size, bool) and 0 <= size < minimum:
        msg = (
            f"size is {size}; upload sessions are for files of {minimum} bytes (3 MB) or more "
            "(ErrorAttachmentSizeShouldNotBeLessThanMinimumSize): POST smaller files to .../attachments"
        )
        yield req.finding("upload-session.min-size", ("attachmentItem", "size"), msg)


def check_rules(req: JsonRequest) -> list[Finding]:
    return [f for rule_id in req.endpoint.rules for f in JSON_RULES[rule_id](req)]
