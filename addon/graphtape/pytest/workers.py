"""Which folder holds the proxy's CA (mitmproxy's confdir) in this pytest process; one for all xdist workers.

* ``--graphtape-confdir`` / ``graphtape_confdir``: that folder, in every process.
* Under pytest-xdist: one folder under the controller's temporary directory, named to every worker through
  ``workerinput`` (``pytest_configure_node``: the controller only names it, it imports and makes nothing). The
  first worker to start its proxy makes the CA there, under the folder's lock (proxy/confdir.py), and the
  clients' CA directory beside it; the others load them. One CA key and one CA directory a run, not one a worker.
* Otherwise, and for a worker whose controller named none: a folder under this process's temporary directory.

Each worker still runs its own proxy, on its own port, with its own cassettes and reports; only the CA is shared.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from graphtape.pytest.session_proxy import temp_folder

WORKERINPUT_KEY = "graphtape_confdir"
FOLDER_NAME = "graphtape-mitmproxy"


class SharedConfdir:
    """The controller's part, registered only where pytest-xdist is loaded (its hook is xdist's)."""

    def __init__(self, config: pytest.Config):
        self.config = config
        self.folder: Path | None = None

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:  # xdist's WorkerController, before the worker starts
        if self.folder is None:
            self.folder = temp_folder(self.config, FOLDER_NAME)
        node.workerinput[WORKERINPUT_KEY] = str(self.folder)


def register(config: pytest.Config, configured: str) -> None:
    """In an xdist controller, with no confdir configured: name one folder for all workers."""
    if not configured and config.pluginmanager.hasplugin("xdist") and not hasattr(config, "workerinput"):
        config.pluginmanager.register(SharedConfdir(config), "graphtape-shared-confdir")


def confdir_for(config: pytest.Config, configured: str) -> Path:
    """The folder this process's proxy keeps its CA in (see the module's docstring)."""
    if configured:
        return Path(configured)
    shared = getattr(config, "workerinput", {}).get(WORKERINPUT_KEY)
    if isinstance(shared, str) and shared:
        return Path(shared)
    return temp_folder(config, FOLDER_NAME)
