"""Generating the structural layer of the contract from Microsoft Graph's own metadata (CSDL).

``make contract`` (``python -m graphtape.contract.generate``) reads ``v1.0-Prod.csdl`` and the beta CSDL
(microsoftgraph/msgraph-metadata, MIT, Copyright (c) Microsoft Corporation) with xml.etree and writes,
beside this module, ``graph-v1.0.json`` and ``graph-beta.json``: every type the mail calls reach (message
and its bases, recipients, attachments and their derived types, extensions, extended properties,
mentions, followupFlag, ...), their properties with Edm types and nullability, enum members, the
``@odata.type`` discriminators of derived types, and the parameters of the mail actions. The output is
checked in: graphtape never reads the CSDL at run time. Where Graph behaves differently from its CSDL,
``overlay.yaml`` says so (contract/build.py applies it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
NAMESPACE = "microsoft.graph"
OUT_DIR = Path(__file__).parent
DEFAULT_METADATA = Path(__file__).resolve().parents[3].parent / "shared" / "graph-metadata"
SOURCES = {"v1.0": "v1.0-Prod.csdl", "beta": "beta-USNat.csdl"}
LICENCE = (
    "Generated from the CSDL of microsoftgraph/msgraph-metadata (schemas/), MIT licence, "
    "Copyright (c) Microsoft Corporation. See GRAPH-METADATA-LICENSE.txt beside this file."
)

# What the mail calls reach: these roots, the types of their properties, and the navigation
# properties a client may create inline (deep insert) on the owners listed in FOLLOW_NAVIGATION.
ROOTS = ("message", "mailFolder", "attachment", "extension", "attachmentItem", "uploadSession",
         "mention", "mentionsPreview", "singleValueLegacyExtendedProperty", "multiValueLegacyExtendedProperty")
FOLLOW_NAVIGATION = frozenset({"message", "itemAttachment", "mailFolder"})
NOT_FOLLOWED = frozenset({"messageRule", "userConfiguration"})  # mailFolder's, never created inline by mail calls
# Bases whose derived types are part of the mail surface (discriminated by @odata.type); None = all of them.
DERIVED: Mapping[str, tuple[str, ...] | None] = {"attachment": None, "extension": None, "outlookItem": ("message",)}
# (binding type, action name): the actions of the mail calls.
ACTIONS = tuple(
    [("user", "sendMail")]
    + [("message", a) for a in ("send", "reply", "replyAll", "forward", "createReply", "createReplyAll",
                                "createForward", "move", "copy", "permanentDelete")]
    + [("mailFolder", a) for a in ("move", "copy", "permanentDelete")]
    + [("Collection(attachment)", "createUploadSession")]
)


def short(type_name: str) -> str:
    """``graph.recipient`` / ``microsoft.graph.recipient`` -> ``recipient``; ``Edm.String`` unchanged."""
    for prefix in ("graph.", NAMESPACE + "."):
        if type_name.startswith(prefix):
            return type_name[len(prefix):]
    return type_name


def type_ref(raw: str) -> tuple[str, bool]:
    """(element type, is a collection) of a CSDL Type attribute."""
    if raw.startswith("Collection(") and raw.endswith(")"):
        return short(raw[len("Collection("):-1]), True
    return short(raw), False


@dataclass
class Csdl:
    """The parts of one CSDL document the generator reads, indexed by short type name."""

    structured: dict[str, ET.Element] = field(default_factory=dict)  # entity and complex types
    enums: dict[str, ET.Element] = field(default_factory=dict)
    actions: list[ET.Element] = field(default_factory=list)
    children: dict[str, list[str]] = field(default_factory=dict)  # base -> directly derived types

    @classmethod
    def parse(cls, path: Path) -> Csdl:
        root = ET.parse(path).getroot()
        out = cls()
        for schema in root.iter(EDM + "Schema"):
            if schema.get("Namespace") != NAMESPACE:
                continue
            for element in schema:
                name = element.get("Name", "")
                if element.tag in (EDM + "EntityType", EDM + "ComplexType"):
                    out.structured[name] = element
                    if element.get("BaseType"):
                        out.children.setdefault(short(element.get("BaseType", "")), []).append(name)
                elif element.tag == EDM + "EnumType":
                    out.enums[name] = element
                elif element.tag == EDM + "Action":
                    out.actions.append(element)
        return out

    def descendants(self, base: str) -> list[str]:
        found: list[str] = []
        for child in sorted(self.children.get(base, ())):
            found += [child, *self.descendants(child)]
        return found


def _property(element: ET.Element, navigation: bool) -> dict[str, Any]:
    name, collection = type_ref(element.get("Type", ""))
    out: dict[str, Any] = {"type": name}
    if collection:
        out["collection"] = True
    if element.get("Nullable") == "false":
        out["nullable"] = False
    if navigation:
        out["navigation"] = True
    return out


def _structured(csdl: Csdl, name: str) -> dict[str, Any]:
    element = csdl.structured[name]
    out: dict[str, Any] = {"kind": "entity" if element.tag == EDM + "EntityType" else "complex"}
    if element.get("BaseType"):
        out["base"] = short(element.get("BaseType", ""))
    if element.get("Abstract") == "true":
        out["abstract"] = True
    if element.get("OpenType") == "true":
        out["open"] = True
    props = {p.get("Name", ""): _property(p, False) for p in element.findall(EDM + "Property")}
    if name in FOLLOW_NAVIGATION:
        for nav in element.findall(EDM + "NavigationProperty"):
            props[nav.get("Name", "")] = _property(nav, True)
    out["properties"] = props
    return out


def _enum(element: ET.Element) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": "enum", "members": [m.get("Name", "") for m in element.findall(EDM + "Member")]}
    if element.get("IsFlags") == "true":
        out["flags"] = True
    return out


def _action_key(binding: str, name: str) -> str:
    return f"{binding}.{name}"


def _actions(csdl: Csdl) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The mail actions found, and the keys of those this CSDL lacks (beta-USNat has no permanentDelete)."""
    wanted = {_action_key(b, n) for b, n in ACTIONS}
    found: dict[str, dict[str, Any]] = {}
    for action in csdl.actions:
        params = action.findall(EDM + "Parameter")
        if not params:
            continue
        bound, collection = type_ref(params[0].get("Type", ""))
        binding = f"Collection({bound})" if collection else bound
        key = _action_key(binding, action.get("Name", ""))
        if key in wanted:
            found[key] = {
                "name": action.get("Name", ""),
                "binding": binding,
                "parameters": {p.get("Name", ""): _property(p, False) for p in params[1:]},
            }
    if not found:
        raise ValueError("graphtape: the CSDL has none of the mail actions; is it Graph's metadata?")
    return dict(sorted(found.items())), sorted(wanted - set(found))


def _reach(csdl: Csdl, roots: Iterable[str]) -> list[str]:
    """Every structured or enum type reachable from ``roots`` through properties, bases and derived types."""
    seen: set[str] = set()
    todo = [r for r in roots if r in csdl.structured or r in csdl.enums]
    while todo:
        name = todo.pop()
        if name in seen or name.startswith("Edm.") or name in NOT_FOLLOWED:
            continue
        seen.add(name)
        if name in csdl.enums:
            continue
        element = csdl.structured[name]
        if element.get("BaseType"):
            todo.append(short(element.get("BaseType", "")))
        if name in DERIVED:
            chosen = DERIVED[name]
            todo += csdl.descendants(name) if chosen is None else list(chosen)
        tags = [EDM + "Property"] + ([EDM + "NavigationProperty"] if name in FOLLOW_NAVIGATION else [])
        todo += [type_ref(p.get("Type", ""))[0] for tag in tags for p in element.findall(tag)]
    return sorted(seen)


def table(csdl: Csdl, source: Path) -> dict[str, Any]:
    """The structural layer of one API version as a JSON-ready mapping (deterministic)."""
    actions, absent = _actions(csdl)
    param_types = [p["type"] for a in actions.values() for p in a["parameters"].values()]
    names = _reach(csdl, [*ROOTS, *param_types])
    types: dict[str, Any] = {}
    for name in names:
        types[name] = _enum(csdl.enums[name]) if name in csdl.enums else _structured(csdl, name)
        if name in DERIVED:
            every = csdl.descendants(name)
            types[name]["derived"] = [d for d in every if d in names]
            unchecked = [d for d in every if d not in names]
            if unchecked:
                types[name]["derivedUnchecked"] = unchecked
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    return {
        "format": 1,
        "licence": LICENCE,
        "source": {"repository": "microsoftgraph/msgraph-metadata", "file": f"schemas/{source.name}",
                   "sha256": digest},
        "namespace": NAMESPACE,
        "types": types,
        "actions": actions,
        "absentActions": absent,
    }


def render(data: Mapping[str, Any]) -> str:
    return json.dumps(data, indent=1, sort_keys=False, ensure_ascii=False) + "\n"


def outputs(metadata: Path) -> dict[Path, str]:
    """{output file: its text} for every API version, from the CSDL folder ``metadata``."""
    out: dict[Path, str] = {}
    for version, file_name in SOURCES.items():
        source = metadata / file_name
        if not source.is_file():
            raise FileNotFoundError(f"graphtape: {source} is missing; pass --metadata DIR (the msgraph-metadata CSDL)")
        out[OUT_DIR / f"graph-{version}.json"] = render(table(Csdl.parse(source), source))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate graphtape's contract types from Graph's CSDL")
    parser.add_argument("--metadata", type=Path, default=DEFAULT_METADATA,
                        help=f"the folder holding {' and '.join(SOURCES.values())} (default: {DEFAULT_METADATA})")
    parser.add_argument("--check", action="store_true", help="fail if the checked-in files differ from a fresh run")
    args = parser.parse_args(argv)
    try:
        fresh = outputs(args.metadata)
    except (FileNotFoundError, ValueError, ET.ParseError) as exc:
        print(exc, file=sys.stderr)
        return 2
    stale = [p for p, text in fresh.items() if not p.is_file() or p.read_text(encoding="utf-8") != text]
    if args.check:
        for path in stale:
            print(f"graphtape: {path} differs from a fresh run; run `make contract` and commit it", file=sys.stderr)
        return 1 if stale else 0
    for path, text in fresh.items():
        path.write_text(text, encoding="utf-8")
        print(f"graphtape: wrote {path} ({len(text)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
