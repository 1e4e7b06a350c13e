"""pytest-xdist workers share one CA (mitmproxy's confdir), each with its own proxy; a worker whose controller
names none makes its own; processes making one confdir's CA at once make one CA (proxy/confdir.py)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import SEEDS
from graphtape.proxy.confdir import LOCK_NAME, ca_files

pytest_plugins = ["pytester"]

WORKER_TESTS = '''
import hashlib, os
from pathlib import Path

import httpx
import pytest

SEND = "https://graph.microsoft.com/beta/me/messages/AAMkAGRWAAAFSmKXAAA=/send"


@pytest.mark.parametrize("n", range(6))
@pytest.mark.graphtape("send-draft.yaml", strict=True)
def test_send(graphtape, n):
    with httpx.Client(timeout=10) as client:  # trusts the proxy through SSL_CERT_DIR, the shared CA directory
        assert client.post(SEND, headers={"Accept": "application/json"}).status_code == 202
    digest = hashlib.sha256(graphtape.ca.read_bytes()).hexdigest()
    seen = [os.environ["PYTEST_XDIST_WORKER"], graphtape.url, str(graphtape.ca), digest, graphtape.env["SSL_CERT_DIR"]]
    Path("seen", f"{n}.txt").write_text(" ".join(seen))
'''
# An old controller, or one whose plugin set nothing: the workers get no shared folder.
NO_SHARED_CONFTEST = '''
import pytest


@pytest.hookimpl(trylast=True)
def pytest_configure_node(node):
    assert node.workerinput.pop("graphtape_confdir")  # the plugin named one; take it away
'''


def _run(pytester: pytest.Pytester) -> list[list[str]]:
    (pytester.path / "seen").mkdir()
    shutil.copytree(SEEDS, pytester.path / "seeds")
    pytester.makepyfile(test_workers=WORKER_TESTS)
    result = pytester.runpytest_subprocess("-p", "xdist", "-n", "2", "--graphtape-cassette-dir=seeds",
                                           "-p", "no:cacheprovider", f"--basetemp={pytester.path / 'tmp'}",
                                           timeout=120)
    result.assert_outcomes(passed=6)
    seen = [f.read_text().split() for f in sorted((pytester.path / "seen").iterdir())]
    assert len(seen) == 6 and {worker for worker, *_ in seen} == {"gw0", "gw1"}, seen
    assert len({(worker, url) for worker, url, *_ in seen}) == 2, seen  # each worker its own proxy, for all its tests
    return seen


def test_workers_share_one_ca_from_the_controllers_folder(pytester: pytest.Pytester):
    seen = _run(pytester)
    assert len({url for _, url, *_ in seen}) == 2, seen  # two proxies ...
    assert len({(ca, digest, cadir) for _, _, ca, digest, cadir in seen}) == 1, seen  # ... one CA, one CA directory
    folder = Path(seen[0][2]).parent
    assert folder.parent == pytester.path / "tmp"  # the controller's temporary directory, not a worker's popen-gwN
    assert sorted(p.name for p in folder.glob("graphtape-ca-dir-*")) == [Path(seen[0][4]).name]


def test_a_worker_without_the_shared_folder_makes_its_own(pytester: pytest.Pytester):
    pytester.makeconftest(NO_SHARED_CONFTEST)
    seen = _run(pytester)
    by_worker = {worker: (ca, digest) for worker, _, ca, digest, _ in seen}
    assert len(set(by_worker.values())) == 2, seen  # a CA each ...
    for worker, (ca, _) in by_worker.items():  # ... in its own temporary directory
        assert Path(ca).parent.parent.name == f"popen-{worker}", seen


MAKE_CA = '''
import sys, time
from pathlib import Path
from graphtape.proxy.confdir import ensure_ca

go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.002)
print("made" if ensure_ca(Path(sys.argv[1])) else "loaded")
'''


def test_processes_making_one_confdirs_ca_at_once_make_one(tmp_path: Path):
    folder, go = tmp_path / "conf", tmp_path / "go"
    script = tmp_path / "make_ca.py"
    script.write_text(MAKE_CA)
    procs = [subprocess.Popen([sys.executable, str(script), str(folder), str(go)], stdout=subprocess.PIPE,
                              text=True) for _ in range(3)]
    time.sleep(1.0)  # all three waiting for the word
    go.touch()
    said = sorted(p.communicate(timeout=60)[0].strip() for p in procs)
    assert [p.returncode for p in procs] == [0, 0, 0]
    assert said == ["loaded", "loaded", "made"]
    key, cert = ca_files(folder)
    before = key.read_bytes()
    from mitmproxy.certs import CertStore

    store = CertStore.from_store(folder, "mitmproxy", 2048)  # what the proxy does: it loads the one CA
    assert key.read_bytes() == before
    assert store.default_ca.to_pem() == cert.read_bytes()
    assert (folder / LOCK_NAME).exists()


def test_a_confdir_that_cannot_be_made_fails_the_start_saying_where(tmp_path: Path):
    from graphtape.proxy.inprocess import ProxyThread
    from graphtape.proxy.runtime import ProxyFailed

    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(ProxyFailed, match=f"cannot use {blocker / 'conf'} for mitmproxy's CA"):
        ProxyThread(blocker / "conf").start()
