"""What the Graph metadata says a place in a JSON request body holds: the differ's view of the contract.

A ``Slot`` is a type at a place in a body: the body of ``POST /me/messages`` is a ``message``, its
``toRecipients`` a collection of ``recipient``, ``toRecipients[0].emailAddress`` an ``emailAddress`` and
``importance`` the enum ``importance``. The body's type is the endpoint's (mail-contract.yaml's ``body.json``:
a CSDL type or ``action.<binding>.<name>``, whose properties are the action's parameters, camelCase or
PascalCase); the types are graph-{version}.json's (``build.merged``). A place the metadata does not describe has
no slot (None). ``diffing.keyed`` and ``diffing.cosmetic`` read slots; pure, and cached per (version, type, name).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from graphtape.model import HttpRequest

from .build import camel, chain, merged, odata_type_names, overlay
from .endpoints import match_url

ACTION_PREFIX = "action."


@dataclass(frozen=True)
class Slot:
    """A type at a place in a body; ``collection``: a list of that type."""

    version: str  # "v1.0" or "beta"
    type: str  # a CSDL type name ("message", "recipient", "importance", "Edm.String") or "action.user.sendMail"
    collection: bool = False

    def child(self, name: str) -> Slot | None:
        """The slot of property ``name`` of an object in this slot; None for a list, a scalar or an unknown name."""
        return None if self.collection else _property(self.version, self.type, name)

    def item(self) -> Slot | None:
        """The slot of one item of a collection; None if this is not one."""
        return Slot(self.version, self.type) if self.collection else None

    def enum_members(self) -> tuple[str, ...]:
        """The members of the enum this slot holds (``("low", "normal", "high")``); () if it is not an enum."""
        spec = _types(self.version).get(self.type)
        return tuple(spec["members"]) if spec and spec["kind"] == "enum" and not self.collection else ()

    def declared_odata_types(self) -> frozenset[str]:
        """The ``@odata.type`` values, lower case, that name exactly the type this slot declares (not a derived
        one); empty for actions, enums, Edm types and lists."""
        spec = _types(self.version).get(self.type)
        if self.collection or not spec or spec["kind"] == "enum":
            return frozenset()
        return frozenset(n.lower() for n in odata_type_names(self.type))


def enums_any_case() -> bool:
    """Graph reads enum values without regard to letter case (overlay.yaml's ``enum_any_case``)."""
    return bool(overlay()["enum_any_case"])


def request_slot(request: HttpRequest) -> Slot | None:
    """The slot of a request's JSON body: the type its endpoint takes; None for a call the contract does not know
    (or a URL that does not parse). Never raises."""
    try:
        found = match_url(request.method, request.graph_url)
    except ValueError:  # e.g. a bad IPv6 literal
        return None
    if found is None or not found.endpoint.json_schema:
        return None
    return Slot(found.url.version, found.endpoint.json_schema)


@cache
def _catalog(version: str) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    return merged(version)


def _types(version: str) -> Mapping[str, Any]:
    return _catalog(version)[0]


def _slot(version: str, prop: Mapping[str, Any]) -> Slot:
    return Slot(version, str(prop["type"]), bool(prop.get("collection", False)))


def _named(props: Mapping[str, Any], name: str, spell: Callable[[str], str] = str) -> Mapping[str, Any] | None:
    """The property called ``name`` (as spelled, else ignoring case); ``spell``: a key -> its JSON name."""
    by_name = {spell(k): v for k, v in props.items()}
    if name in by_name:
        return by_name[name]
    lowered = {k.lower(): v for k, v in by_name.items()}
    return lowered.get(name.lower())


@cache
def _property(version: str, owner: str, name: str) -> Slot | None:
    if owner.startswith(ACTION_PREFIX):
        spec = _catalog(version)[1].get(owner[len(ACTION_PREFIX):])
        prop = _named(spec["parameters"], name, camel) if spec else None
        return _slot(version, prop) if prop else None
    types = _types(version)
    if owner not in types or types[owner]["kind"] == "enum":
        return None
    # the type's own chain first, then its derived types' (an attachment's contentBytes is a fileAttachment's)
    owners = [*chain(types, owner), *(t for d in types[owner].get("derived", ()) for t in chain(types, d))]
    for declaring in owners:
        prop = _named(types[declaring].get("properties", {}), name)
        if prop:
            return _slot(version, prop)
    return None
