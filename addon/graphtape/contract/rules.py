"""The rule registry: every finding names one rule of mail-contract.yaml (id, severity, doc, ...)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from graphtape.model import Finding, Severity

from .data import contract

ENDPOINT_DOC = "endpoint"  # a rule whose doc is the page of the endpoint the request went to


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    doc: str  # a Graph docs URL, or "endpoint"
    description: str
    status: int = 400  # the status of graphtape's enforcement response for this rule
    code: str = "ErrorInvalidRequest"  # the Graph error code of that response
    graph_message: str | None = None  # Graph's message for this rule; "{name}" fields are filled per finding
    source: str = ""  # where the code and message come from (docs page, OData's reader, a public report)


def _rule(rule_id: str, spec: Mapping[str, Any]) -> Rule:
    severity = spec["severity"]
    if severity not in ("error", "warning"):
        raise ValueError(f"graphtape: rule {rule_id} has severity {severity!r}")
    return Rule(
        id=rule_id,
        severity=severity,
        doc=str(spec.get("doc", "")),
        description=" ".join(str(spec["description"]).split()),
        status=int(spec.get("status", 400)),
        code=str(spec.get("code", "ErrorInvalidRequest")),
        graph_message=spec.get("graph_message"),
        source=" ".join(str(spec.get("source", "")).split()),
    )


RULES: Mapping[str, Rule] = MappingProxyType(
    {rule_id: _rule(rule_id, spec) for rule_id, spec in contract()["rules"].items()}
)


def finding(rule_id: str, location: str, message: str, endpoint_doc: str = "") -> Finding:
    """A finding of rule ``rule_id``; its severity and doc come from the registry."""
    rule = RULES[rule_id]
    doc = endpoint_doc if rule.doc == ENDPOINT_DOC else rule.doc
    return Finding(rule=rule.id, severity=rule.severity, location=location, message=message, doc=doc)


def graph_text(rule_id: str, **fields: str) -> str:
    """Graph's message of a rule with its fields filled in (the rule's description if it has none)."""
    rule = RULES[rule_id]
    return rule.graph_message.format(**fields) if rule.graph_message else rule.description


def pointer(path: tuple[str | int, ...] | list[str | int]) -> str:
    """A JSON pointer (RFC 6901) for a path of keys and indices; "" is the whole body."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)
