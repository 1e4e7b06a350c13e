"""JSON Schemas of the mail request bodies, built from the generated layer (graph-*.json) and overlay.yaml.

One document per API version, whose ``$defs`` hold: every structured type the mail calls reach (named as in
the CSDL: ``message``, ``recipient``, ...), a dispatcher on ``@odata.type`` for the bases with derived types
(``attachment``, ``extension``, ``outlookItem``), and the parameters of each action
(``action.message.forward``, ``action.user.sendMail``, ...). /v1.0's document also holds what only /beta
declares, marked ``x-betaOnly`` so that a /v1.0 request gets property.beta-only instead of a bare
"undeclared". Keywords beyond Draft 2020-12 are read by contract/schema.py:

  x-enumAnyCase     an enum compared ignoring letter case (overlay enum_any_case)
  x-booleanString   the strings an Edm.Boolean also accepts (overlay boolean_strings)
  x-betaOnly        declared by /beta only (its value: the type it is on);  readOnly: set by the server
  x-rule            a failure of this node's own keywords (other than type) is reported under that rule
  x-edm             the OData type of the node (for messages);  x-typeName: the type a def describes
  x-operation       an action's parameters;  x-parameterNames: camelCase name -> the CSDL's name
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from .data import load_yaml

NAMESPACE = "microsoft.graph"
# any key holding "@" is an OData annotation ("@odata.type", "subject@odata.type")
ANNOTATIONS: dict[str, Any] = {"@": {}}
_INT = {"Edm.Byte": (0, 255), "Edm.SByte": (-128, 127), "Edm.Int16": (-(2**15), 2**15 - 1),
        "Edm.Int32": (-(2**31), 2**31 - 1), "Edm.Int64": (-(2**63), 2**63 - 1)}
ITEM_BASES = frozenset({"outlookItem"})  # the type of itemAttachment.item
ITEM_PREFIX = "attached."
_FORMATTED = {"Edm.DateTimeOffset": "edm-date-time-offset", "Edm.Date": "edm-date", "Edm.TimeOfDay": "edm-time-of-day",
              "Edm.Duration": "edm-duration", "Edm.Guid": "edm-guid", "Edm.Binary": "base64"}


def _text(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


@cache
def overlay() -> Mapping[str, Any]:
    data = load_yaml(_text("overlay.yaml"))
    if not isinstance(data, dict) or data.get("format") != 1:
        raise ValueError("graphtape: contract/overlay.yaml is not a format 1 overlay")
    return data


@cache
def layer(version: str) -> Mapping[str, Any]:
    """graph-{version}.json, as generated."""
    data = json.loads(_text(f"graph-{version}.json"))
    if data.get("format") != 1:
        raise ValueError(f"graphtape: graph-{version}.json is not format 1; run `make contract`")
    return data


def merged(version: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(types, actions) of a version; /v1.0 also carries /beta's additions, flagged betaOnly."""
    own = layer(version)
    types = copy.deepcopy(own["types"])
    actions = copy.deepcopy(own["actions"])
    if version == "beta":
        v1 = layer("v1.0")["actions"]
        actions.update({k: copy.deepcopy(v1[k]) for k in overlay().get("beta_from_v1", ()) if k not in actions})
        return types, actions
    for name, spec in layer("beta")["types"].items():
        if name not in types:
            types[name] = {**copy.deepcopy(spec), "betaOnly": True}
            continue
        for prop, value in spec.get("properties", {}).items():
            types[name]["properties"].setdefault(prop, {**value, "betaOnly": True})
    return types, actions


def chain(types: Mapping[str, Any], name: str) -> list[str]:
    """``name`` and its bases, the root first (entity, outlookItem, message)."""
    out: list[str] = []
    current: str | None = name
    while current and current in types and current not in out:
        out.insert(0, current)
        current = types[current].get("base")
    return out


def _edm(type_name: str) -> dict[str, Any]:
    if type_name == "Edm.Boolean":
        return {"type": ["boolean", "string"], "x-booleanString": list(overlay()["boolean_strings"])}
    if type_name in _INT:
        low, high = _INT[type_name]
        return {"type": "integer", "minimum": low, "maximum": high}
    if type_name in ("Edm.Double", "Edm.Single", "Edm.Decimal"):
        return {"type": "number"}
    if type_name in _FORMATTED:
        return {"type": "string", "format": _FORMATTED[type_name]}
    if type_name == "Edm.String":
        return {"type": "string"}
    return {}  # Edm.Stream, Edm.Untyped, geography: not checked


def _qualified(type_name: str) -> str:
    return type_name if type_name.startswith("Edm.") else f"{NAMESPACE}.{type_name}"


def _with_null(schema: dict[str, Any]) -> dict[str, Any]:
    kind = schema.get("type")
    if isinstance(kind, str):
        schema["type"] = [kind, "null"]
    elif isinstance(kind, list):
        schema["type"] = [*kind, "null"]
    return schema


def _element(types: Mapping[str, Any], type_name: str, nullable: bool) -> dict[str, Any]:
    spec = types.get(type_name)
    if type_name.startswith("Edm.") or (spec and spec["kind"] == "enum"):
        if spec:
            members = spec["members"]
            schema = {"type": "string", "x-enumAnyCase": members} if overlay()["enum_any_case"] else {
                "type": "string", "enum": members}
        else:
            schema = _edm(type_name)
        schema = _with_null(schema) if nullable and schema else schema
    elif spec is None:
        schema = {}  # a type outside the mail surface (mailFolder.messageRules, ...): not checked
    elif nullable:
        schema = {"$ref": f"#/$defs/{type_name}"}
    else:
        schema = {"type": "object", "allOf": [{"$ref": f"#/$defs/{type_name}"}]}
    return {**schema, "x-edm": _qualified(type_name)} if schema else schema


def property_schema(types: Mapping[str, Any], owners: tuple[str, ...], name: str,
                    prop: Mapping[str, Any]) -> dict[str, Any]:
    """The schema of one property; ``owners`` are the type it is checked on and the type declaring it."""
    nullable = prop.get("nullable", True)
    if prop.get("collection"):
        schema: dict[str, Any] = {"type": ["array", "null"], "items": _element(types, prop["type"], nullable),
                                  "x-edm": f"Collection({_qualified(prop['type'])})"}
    else:
        schema = _element(types, prop["type"], nullable)
    constraints = overlay().get("constraints", {})
    constraint = next((constraints[f"{o}.{name}"] for o in owners if f"{o}.{name}" in constraints), None)
    if constraint:
        schema = {**schema, **constraint["schema"], "x-rule": constraint["rule"]}
    if prop.get("betaOnly"):
        schema["x-betaOnly"] = _qualified(owners[0]) if owners else True  # the type /v1.0 would read it on
    return schema


def _read_only(types: Mapping[str, Any], name: str) -> set[str]:
    listed = overlay().get("read_only", {})
    return {p for t in chain(types, name) for p in listed.get(t, ())}


def concrete(types: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The def of one structured type: every property of its chain; closed unless open (and not overlay-closed)."""
    read_only = _read_only(types, name)
    props: dict[str, Any] = {}
    for owner in chain(types, name):
        for prop_name, prop in types[owner].get("properties", {}).items():
            if prop_name in read_only:
                beta = {"x-betaOnly": _qualified(name)} if prop.get("betaOnly") else {}
                props[prop_name] = {"readOnly": True, **beta}
            elif prop.get("navigation") and prop["type"] == name:  # mailFolder.childFolders: a cycle, not descended
                props[prop_name] = {"type": ["array", "null"], "items": {"type": ["object", "null"]}}
            else:
                props[prop_name] = property_schema(types, (name, owner), prop_name, prop)
    required = [r for t in chain(types, name) for r in overlay()["required"].get(t, ()) if r != "@odata.type"]
    schema: dict[str, Any] = {"type": ["object", "null"], "x-typeName": _qualified(name), "properties": props,
                              "patternProperties": ANNOTATIONS}
    if required:
        schema["required"] = required
    is_open = types[name].get("open") and name not in overlay()["closed"]
    if not is_open:
        schema["additionalProperties"] = False
    return schema


def odata_type_names(type_name: str) -> list[str]:
    """The ``@odata.type`` values naming a type: ``#microsoft.graph.X`` (and without ``#`` where the overlay allows)."""
    names = [f"#{NAMESPACE}.{type_name}"]
    return [*names, f"{NAMESPACE}.{type_name}"] if overlay()["discriminator_hash_optional"] else names


def dispatcher(types: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The def of a base with derived types: ``@odata.type`` picks the derived type's def."""
    spec = types[name]
    checked = list(spec.get("derived", ()))
    known = [n for t in checked + list(spec.get("derivedUnchecked", ())) for n in odata_type_names(t)]
    if not spec.get("abstract"):
        known += odata_type_names(name)
    branches = [{"if": {"required": ["@odata.type"],
                        "properties": {"@odata.type": {"x-enumAnyCase": odata_type_names(t)}}},
                 "then": {"$ref": f"#/$defs/{ITEM_PREFIX}{t}" if name in ITEM_BASES else f"#/$defs/{t}"}}
                for t in checked]
    schema: dict[str, Any] = {
        "type": ["object", "null"], "x-typeName": _qualified(name),
        "properties": {"@odata.type": {"type": "string", "x-enumAnyCase": known, "x-rule": "odata-type.unknown"}},
        "allOf": branches,
    }
    if "@odata.type" in [r for t in chain(types, name) for r in overlay()["required"].get(t, ())]:
        schema["required"] = ["@odata.type"]
    return schema


def attached_item(types: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The def of an item inside an itemAttachment: checked like ``name``, but its own attachments are not
    descended into (message -> attachment -> itemAttachment -> item -> message is a cycle)."""
    schema = concrete(types, name)
    for prop_name, prop in types[name].get("properties", {}).items():
        if prop.get("navigation") and prop["type"] == "attachment":
            schema["properties"][prop_name] = {"type": ["array", "null"], "items": {"type": ["object", "null"]}}
    return schema


def camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def action(types: Mapping[str, Any], spec: Mapping[str, Any]) -> dict[str, Any]:
    params = spec["parameters"]
    props = {camel(p): property_schema(types, (), p, value) for p, value in params.items()}
    required = [camel(p) for p, value in params.items() if value.get("nullable", True) is False]
    schema: dict[str, Any] = {
        "type": "object", "x-acceptPascalCase": True, "x-operation": spec["name"],
        "x-parameterNames": {camel(p): p for p in params}, "properties": props,
        "patternProperties": ANNOTATIONS, "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    return schema


@cache
def document(version: str) -> Mapping[str, Any]:
    """The JSON Schema document (Draft 2020-12) of one API version's mail bodies."""
    types, actions = merged(version)
    defs: dict[str, Any] = {}
    for name, spec in types.items():
        if spec["kind"] == "enum":
            continue
        defs[name] = dispatcher(types, name) if "derived" in spec else concrete(types, name)
    for base in ITEM_BASES:
        for name in types.get(base, {}).get("derived", ()):
            defs[ITEM_PREFIX + name] = attached_item(types, name)
    for key, spec in actions.items():
        defs[f"action.{key}"] = action(types, spec)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": f"urn:graphtape:mail:{version}",
            "$defs": defs}
