"""Which deviations are cosmetic: noise between clients that Graph reads the same way.

A cosmetic deviation is shown like any other, marked ``(cosmetic: REASON)``, counted apart ("deviations 0,
cosmetic 3") and does not fail ``--fail-on deviation``; ``--fail-on cosmetic`` counts it too. Cosmetic are:

- ``header Accept``, ``header Accept-Language``: a different ``Accept`` or ``Accept-Language`` request header
  (Graph answers JSON whatever ``Accept`` lists; the language only picks the words of error messages). The other
  compared headers (``Prefer``, ``Content-Type``, ``If-Match``...) change what Graph does, and count;
- ``enum case``: a JSON value that differs only in letter case, where the contract's metadata types the property
  as an enum and the value is one of its members (``body.contentType: 'html' -> 'HTML'``, ``importance: 'low' ->
  'Low'``): Graph reads enum values without regard to case (overlay.yaml's ``enum_any_case``). Another member
  (``'low' -> 'high'``) counts; MIME has no enums;
- ``redundant @odata.type``: an ``@odata.type`` only one side has (or spelled differently) that names the very
  type the metadata declares for that place (``#microsoft.graph.message`` on a message, the SDKs add it), so it
  tells Graph nothing. One naming a derived type (``#microsoft.graph.fileAttachment`` where an ``attachment``
  is declared) picks what Graph creates, and counts.

JSON rules need the body's type (``contract.shapes``): a body the contract does not describe has no cosmetic
JSON deviation. The reason strings are what reports show. Pure.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from graphtape.contract.shapes import Slot, enums_any_case
from graphtape.diffing.keyed import slot_at
from graphtape.model import Deviation

COSMETIC_HEADERS: dict[str, str] = {"accept": "header Accept", "accept-language": "header Accept-Language"}
ENUM_CASE = "enum case"
REDUNDANT_ODATA_TYPE = "redundant @odata.type"
ODATA_TYPE = "@odata.type"
_HEADER = "header."


def mark_headers(deviations: list[Deviation]) -> list[Deviation]:
    """A request's deviations with the cosmetic header ones (``header.Accept``) marked; the others as they are."""
    return [_marked(d, COSMETIC_HEADERS.get(d.path[len(_HEADER):].lower(), "")) if d.path.startswith(_HEADER)
            else d for d in deviations]


def _marked(d: Deviation, reason: str) -> Deviation:
    return dataclasses.replace(d, cosmetic=reason) if reason else d


def json_reason(root: Slot | None, keys: Sequence[Any], recorded: Any, actual: Any) -> str:
    """Why a JSON deviation at ``keys`` (below a body of slot ``root``) is cosmetic; "" if it counts."""
    if root is None or not keys:
        return ""
    if keys[-1] == ODATA_TYPE:
        return _odata_type(slot_at(root, keys[:-1]), recorded, actual)
    if isinstance(recorded, str) and isinstance(actual, str) and recorded.lower() == actual.lower():
        slot = slot_at(root, keys)
        members = {m.lower() for m in slot.enum_members()} if slot is not None else set()
        if recorded.lower() in members and enums_any_case():
            return ENUM_CASE
    return ""


def _odata_type(owner: Slot | None, recorded: Any, actual: Any) -> str:
    declared = owner.declared_odata_types() if owner is not None else frozenset()
    values = [v for v in (recorded, actual) if v is not None]
    if declared and values and all(isinstance(v, str) and v.strip().lower() in declared for v in values):
        return REDUNDANT_ODATA_TYPE
    return ""


def mark_json(root: Slot | None, keys: Sequence[Any], found: list[Deviation]) -> list[Deviation]:
    """``found`` (the deviations of one place in a JSON body) with the cosmetic ones marked."""
    if root is None:
        return found
    return [_marked(d, json_reason(root, keys, d.recorded, d.actual)) for d in found]

