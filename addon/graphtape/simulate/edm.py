"""The properties of Graph's types as its metadata gives them (the contract's CSDL layer, ``contract.build.merged``),
for checking query paths and seed values: each property's type (``Edm.String``, ``recipient``, ``importance``...),
whether it is a collection, its type's kind, an enum's members. Inherited properties count (message <- outlookItem
<- entity: ``id``, ``changeKey``, ``categories``...)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from graphtape.contract.build import chain, merged


@dataclass(frozen=True)
class Prop:
    name: str
    type: str  # "Edm.String", "Edm.DateTimeOffset", or a Graph type's name ("recipient", "importance")
    collection: bool
    kind: str  # "edm", "complex", "enum", "entity" (a navigation), "unknown"
    members: tuple[str, ...] = ()  # an enum's


@cache
def _types(version: str) -> Mapping[str, Any]:
    return merged(version)[0]


def _prop(types: Mapping[str, Any], name: str, spec: Mapping[str, Any]) -> Prop:
    type_name = str(spec.get("type", ""))
    target = types.get(type_name, {})
    kind = "edm" if type_name.startswith("Edm.") else str(target.get("kind", "unknown"))
    return Prop(name, type_name, bool(spec.get("collection")), kind, tuple(target.get("members", ())))


@cache
def properties(type_name: str, version: str = "v1.0") -> Mapping[str, Prop]:
    """The properties of a type (``message``, ``mailFolder``, ``recipient``...), its bases' too; {} if unknown."""
    types = _types(version)
    out: dict[str, Prop] = {}
    for owner in chain(types, type_name):
        for name, spec in types[owner].get("properties", {}).items():
            out[name] = _prop(types, name, spec)
    return out


def edm_name(type_name: str) -> str:
    """How OData names a property's type in its errors: ``Edm.Boolean``, ``microsoft.graph.importance``."""
    return type_name if type_name.startswith("Edm.") else f"microsoft.graph.{type_name}"


JSON_TYPES: dict[str, tuple[str, ...]] = {
    "Edm.String": ("string",), "Edm.Boolean": ("boolean",), "Edm.DateTimeOffset": ("string",),
    "Edm.Binary": ("string",), "Edm.Int32": ("integer",), "Edm.Int64": ("integer",), "Edm.Double": ("number",),
}


def json_types(prop: Prop) -> tuple[str, ...] | None:
    """The JSON types a value of the property may have (null always), or None when not checked."""
    if prop.collection:
        return ("array", "null")
    if prop.kind in ("complex", "entity"):
        return ("object", "null")
    if prop.kind == "enum":
        return ("string", "null")
    types = JSON_TYPES.get(prop.type)
    return (*types, "null") if types else None
