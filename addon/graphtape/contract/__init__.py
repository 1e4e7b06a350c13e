"""The Microsoft Graph mail contract: endpoints, body schemas and rules as data, and their checks.

The knowledge lives in ``mail-contract.yaml`` (endpoints, rules, decisions on doc inconsistencies),
``graph-v1.0.json`` / ``graph-beta.json`` (the types and actions, generated from Graph's CSDL by
``generate.py``) and ``overlay.yaml`` (where Graph differs from its CSDL); ``build.py`` turns the last two
into JSON Schemas. The modules here only apply it. All functions are pure.
"""

from __future__ import annotations

from .endpoints import ENDPOINTS, Endpoint, find_endpoint
from .responses import enforcement_response, validate_response
from .rules import RULES, Rule
from .validate import check_interactions, validate_request

__all__ = [
    "ENDPOINTS",
    "RULES",
    "Endpoint",
    "Rule",
    "check_interactions",
    "enforcement_response",
    "find_endpoint",
    "validate_request",
    "validate_response",
]
