"""Loading the contract files shipped in this package (mail-contract.yaml, mail-schemas.yaml)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml

CONTRACT_FILE = "mail-contract.yaml"
SCHEMAS_FILE = "mail-schemas.yaml"


def _load(name: str) -> dict[str, Any]:
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError(f"graphtape: {name} is not a mapping")
    return data


@cache
def contract() -> dict[str, Any]:
    """mail-contract.yaml: decisions, limits, paths, endpoints and rules."""
    return _load(CONTRACT_FILE)


@cache
def schemas() -> dict[str, Any]:
    """mail-schemas.yaml: the JSON Schema document whose $defs describe the bodies."""
    return _load(SCHEMAS_FILE)


def limit(name: str) -> int:
    return int(contract()["limits"][name])
