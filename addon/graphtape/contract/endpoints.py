"""The mail endpoints of the contract, and finding the one a request is for."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from graphtape.graph import GraphUrl, parse_graph_url

from .data import contract

MimeUse = Literal["send", "reply", "draft"]
ResponseKind = Literal["json", "empty", "any"]

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_PAREN_KEY = re.compile(r"/([A-Za-z]\w*)\('((?:[^']|'')*)'\)(?=/|$)")
_QUALIFIED = re.compile(r"/(?:microsoft\.graph|graph)\.([A-Za-z]\w*)(?=/|$)", re.IGNORECASE)
_CHILD_FOLDER = re.compile(r"/mailFolders/[^/]+/childFolders/(?=[^/]+)", re.IGNORECASE)
_MAIL_SEGMENTS = frozenset({"messages", "mailfolders", "childfolders", "sendmail", "attachments"})


@dataclass(frozen=True)
class Endpoint:
    """One documented call (method + path family) and what its request and response look like."""

    name: str  # e.g. "sendMail"
    method: str
    path: str  # the template as written in mail-contract.yaml, e.g. "{mailbox}/sendMail"
    doc: str
    json_schema: str | None  # a $defs name of contract/build.py's schemas, None if JSON is not accepted
    mime: MimeUse | None  # base64 MIME accepted, and whether it sends to the recipients it names
    body_required: bool
    no_body: bool
    message_at: str | None  # "" = the body is the message, "message" = that parameter, None = none
    rules: tuple[str, ...]
    success: tuple[int, ...]
    response: ResponseKind
    pattern: re.Pattern[str]

    @property
    def content_types(self) -> tuple[str, ...]:
        kinds = ("application/json",) if self.json_schema else ()
        return kinds + (("text/plain",) if self.mime else ())


@dataclass(frozen=True)
class EndpointMatch:
    endpoint: Endpoint
    url: GraphUrl


def expand(template: str, paths: Mapping[str, Sequence[str]]) -> list[str]:
    """All regex alternatives of a path template: ``{mailbox}`` -> every mailbox spelling, ``{id}`` -> a segment."""
    found = _PLACEHOLDER.search(template)
    if found is None:
        return [re.escape(template)]
    head, name, tail = template[: found.start()], found.group(1), template[found.end() :]
    tails = expand(tail, paths)
    if name == "id":
        heads = [re.escape(head) + "[^/]+"]
    else:
        heads = [re.escape(head) + alt for choice in paths[name] for alt in expand(choice, paths)]
    return [h + t for h in heads for t in tails]


def _endpoint(spec: Mapping[str, Any], paths: Mapping[str, Sequence[str]]) -> Endpoint:
    body = spec.get("body", {})
    alternatives = "|".join(expand(spec["path"], paths))
    return Endpoint(
        name=spec["name"],
        method=spec["method"].upper(),
        path=spec["path"],
        doc=spec["doc"],
        json_schema=body.get("json"),
        mime=body.get("mime"),
        body_required=bool(body.get("required", False)),
        no_body=bool(body.get("none", False)),
        message_at=spec.get("message"),
        rules=tuple(spec.get("rules", ())),
        success=tuple(int(s) for s in spec["success"]),
        response=spec["response"],
        pattern=re.compile(f"(?:{alternatives})/?", re.IGNORECASE),
    )


ENDPOINTS: tuple[Endpoint, ...] = tuple(_endpoint(s, contract()["paths"]) for s in contract()["endpoints"])


def canonical_resource(resource: str) -> str:
    """The spelling of a resource path the endpoint templates use.

    ``messages('AAMk...')`` -> ``messages/AAMk...`` (an OData key in parentheses, quotes doubled inside);
    ``/microsoft.graph.sendMail`` -> ``/sendMail`` (a namespace-qualified action);
    ``mailFolders/{a}/childFolders/{b}`` -> ``mailFolders/{b}`` (a nested folder, named by its own id).
    """
    resource = _PAREN_KEY.sub(lambda m: f"/{m.group(1)}/{m.group(2).replace(chr(39) * 2, chr(39))}", resource)
    resource = _QUALIFIED.sub(lambda m: f"/{m.group(1)}", resource)
    while True:
        collapsed = _CHILD_FOLDER.sub("/mailFolders/", resource)
        if collapsed == resource:
            return resource
        resource = collapsed


def is_mail_resource(resource: str) -> bool:
    """A path into mail (messages, folders, sendMail, attachments): the contract's subject."""
    return any(segment.lower() in _MAIL_SEGMENTS for segment in canonical_resource(resource).split("/"))


def match_request(method: str, url: str) -> EndpointMatch | None:
    """The endpoint a request is for, with its parsed URL; None for anything the contract does not know."""
    return match_url(method, parse_graph_url(url))


def match_url(method: str, parsed: GraphUrl | None) -> EndpointMatch | None:
    """``match_request`` of a URL already parsed (a request's ``graph_url``)."""
    if parsed is None:
        return None
    method = method.upper()
    resource = canonical_resource(parsed.resource)
    for endpoint in ENDPOINTS:
        if endpoint.method == method and endpoint.pattern.fullmatch(resource):
            return EndpointMatch(endpoint, parsed)
    return None


def find_endpoint(method: str, url: str) -> Endpoint | None:
    """The documented mail call a request is for; None means graphtape does not validate it."""
    found = match_request(method, url)
    return found.endpoint if found else None
