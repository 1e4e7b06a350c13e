"""Loading mail-contract.yaml (endpoints, rules, decisions); the schemas come from contract/build.py."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml

CONTRACT_FILE = "mail-contract.yaml"


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


def limit(name: str) -> int:
    return int(contract()["limits"][name])
