"""Loading mail-contract.yaml (endpoints, rules, decisions); the schemas come from contract/build.py."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml

CONTRACT_FILE = "mail-contract.yaml"
# libyaml's scanner and parser where PyYAML has them: the same data as yaml.safe_load (the resolver and constructor
# are the same Python classes), read ~8x faster; every proxy reads the contract as it starts (~70 ms saved).
SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """``yaml.safe_load(text)``, through libyaml when it is there (what safe_load does, with the other class)."""
    loader = SAFE_LOADER(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _load(name: str) -> dict[str, Any]:
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    data = load_yaml(text)
    if not isinstance(data, dict):
        raise ValueError(f"graphtape: {name} is not a mapping")
    return data


@cache
def contract() -> dict[str, Any]:
    """mail-contract.yaml: decisions, limits, paths, endpoints and rules."""
    return _load(CONTRACT_FILE)


def limit(name: str) -> int:
    return int(contract()["limits"][name])
