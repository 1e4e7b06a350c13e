"""What a plain ``pip install graphtape`` gets: the package imports without the test extras, and no dev code; the
wheel holds the package, its data files, py.typed and the entry points, and nothing of dev/ or tests/."""

from __future__ import annotations

import configparser
import pkgutil
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

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



ROOT = Path(__file__).resolve().parents[2]
DEV_ONLY = {"dev", "bench", "demo", "scenario", "harness", "tests"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    """The wheel ``pip wheel .`` builds, from a copy of the tree (so that the build leaves nothing in it)."""
    pytest.importorskip("setuptools", reason="the test extra's setuptools builds the wheel offline (make install)")
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    shutil.copytree(ROOT / "addon", source / "addon", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                           "--quiet", "-w", str(tmp / "out"), str(source)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    [built] = (tmp / "out").glob("graphtape-*.whl")
    return zipfile.ZipFile(built)


def test_the_wheel_holds_the_package_and_its_data_and_no_dev_code(wheel: zipfile.ZipFile) -> None:
    files = set(wheel.namelist())
    dev = sorted(f for f in files if DEV_ONLY & {Path(part).stem for part in Path(f).parts})
    assert not dev, dev
    assert {f.split("/")[0] for f in files if ".dist-info/" not in f} == {"graphtape"}
    source = {p.relative_to(ROOT / "addon").as_posix() for p in (ROOT / "addon" / "graphtape").rglob("*")
              if p.is_file() and "__pycache__" not in p.parts}
    assert source <= files, sorted(source - files)  # every module and data file of the tree, py.typed too
    data = {f for f in files if f.startswith("graphtape/contract/") and f.endswith((".json", ".yaml"))}
    assert {"graphtape/contract/graph-v1.0.json", "graphtape/contract/graph-beta.json",
            "graphtape/contract/mail-contract.yaml", "graphtape/contract/overlay.yaml"} <= data
    assert "graphtape/py.typed" in files


def test_the_wheel_declares_the_command_and_the_pytest_plugin(wheel: zipfile.ZipFile) -> None:
    [name] = [f for f in wheel.namelist() if f.endswith(".dist-info/entry_points.txt")]
    entry_points = configparser.ConfigParser()
    entry_points.read_string(wheel.read(name).decode())
    assert dict(entry_points["console_scripts"]) == {"graphtape": "graphtape.cli:main"}
    assert dict(entry_points["pytest11"]) == {"graphtape": "graphtape.pytest.plugin"}


_EACH_FIRST = """
import importlib, pkgutil, sys
import graphtape
names = [i.name for i in pkgutil.walk_packages(graphtape.__path__, "graphtape.")
         if not i.name.startswith("graphtape.pytest")]
failed = []
for name in names:
    for loaded in [m for m in sys.modules if m == "graphtape" or m.startswith("graphtape.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except ImportError as e:
        failed.append(f"{name}: {e}")
print(len(names))
print("\\n".join(failed))
"""


def test_every_module_imports_first_of_all() -> None:
    # A circular import hides when another module happens to be imported first: each is imported in a fresh state.
    done = subprocess.run([sys.executable, "-c", _EACH_FIRST], capture_output=True, text=True, timeout=600)
    count, *failed = done.stdout.strip().splitlines()
    assert done.returncode == 0 and int(count) > 100 and not failed, (failed, done.stderr[-3000:])
