"""What a plain ``pip install graphtape`` gets: the package imports without the test extras, and no dev code."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import graphtape

PACKAGE = Path(graphtape.__file__).resolve().parent
# The test extra's packages (pyproject.toml); the pytest plugin alone may import pytest.
TEST_EXTRAS = ("msgraph", "azure", "kiota_abstractions", "kiota_http", "kiota_serialization_json", "httpx",
               "requests", "hypothesis", "pytest", "_pytest", "xdist")

_BLOCKED_IMPORT = f"""
import importlib, importlib.abc, pkgutil, sys
BLOCKED = {TEST_EXTRAS!r}

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{{name}} is a test extra")
        return None

sys.meta_path.insert(0, Block())
import graphtape
for info in pkgutil.walk_packages(graphtape.__path__, "graphtape."):
    if not info.name.startswith("graphtape.pytest"):
        importlib.import_module(info.name)
print("ok")
"""


def test_every_module_imports_without_the_test_extras() -> None:
    done = subprocess.run([sys.executable, "-c", _BLOCKED_IMPORT], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-3000:]


def test_dev_code_is_not_in_the_package() -> None:
    names = {info.name.rsplit(".", 1)[-1] for info in pkgutil.walk_packages([str(PACKAGE)])}
    assert names, "no modules found"
    dev_only = names & {"bench", "demo", "scenario", "harness"}
    assert not dev_only, sorted(dev_only)
