"""The mail endpoints of the contract, and finding the one a request is for."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from graphtape.graph import GraphUrl, parse_graph_url

from .data import contract

MimeUse = Literal["send", "draft"]
ResponseKind = Literal["json", "empty", "any"]

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Endpoint:
    """One documented call (method + path family) and what its request and response look like."""

    name: str  # e.g. "sendMail"
    method: str
    path: str  # the template as written in mail-contract.yaml, e.g. "{mailbox}/sendMail"
    doc: str
    json_schema: str | None  # a $defs name of mail-schemas.yaml, None if JSON is not accepted
    mime: MimeUse | None  # base64 MIME accepted, and whether it sends
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


def match_request(method: str, url: str) -> EndpointMatch | None:
    """The endpoint a request is for, with its parsed URL; None for anything the contract does not know."""
    parsed = parse_graph_url(url)
    if parsed is None:
        return None
    method = method.upper()
    for endpoint in ENDPOINTS:
        if endpoint.method == method and endpoint.pattern.fullmatch(parsed.resource):
            return EndpointMatch(endpoint, parsed)
    return None


def find_endpoint(method: str, url: str) -> Endpoint | None:
    """The documented mail call a request is for; None means graphtape does not validate it."""
    found = match_request(method, url)
    return found.endpoint if found else None
