"""What the clients' CA variables name: the public CAs plus the proxy's by default, the proxy's CA alone with
``--graphtape-client-ca=proxy`` (or ``graphtape_client_ca = proxy``); replay works the same either way."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from conftest import SEEDS

pytest_plugins = ["pytester"]
REPO = Path(__file__).resolve().parents[2]

INNER = '''
import os

import httpx
import pytest

SEND = "https://graph.microsoft.com/beta/me/messages/AAMkAGRWAAAFSmKXAAA=/send"


@pytest.mark.graphtape("send-draft.yaml")
def test_send(graphtape):
    ca = open(graphtape.ca).read()
    for key in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        text = open(os.environ[key]).read()
        assert ca in text and text.count("BEGIN CERTIFICATE") {count}, key
    assert os.environ["NODE_EXTRA_CA_CERTS"] == str(graphtape.ca)
    with httpx.Client() as client:  # the CA variables and the proxy from the environment
        assert client.post(SEND).status_code == 202
'''


@pytest.fixture
def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    for key in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE",
                "CURL_CA_BUNDLE", "NODE_EXTRA_CA_CERTS", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    (pytester.path / "seeds").mkdir()
    shutil.copy(SEEDS / "send-draft.yaml", pytester.path / "seeds" / "send-draft.yaml")

    def go(count: str, *args: str, ini: str = "") -> pytest.RunResult:
        pytester.makepyfile(test_mail=INNER.format(count=count))
        pytester.makeini(f"[pytest]\ngraphtape_cassette_dir = seeds\n{ini}")
        return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=120)

    return go


def test_by_default_clients_get_the_public_cas_and_the_proxys(run):
    run("> 50").assert_outcomes(passed=1)


def test_client_ca_proxy_names_the_proxys_ca_alone(run):
    run("== 1", "--graphtape-client-ca=proxy").assert_outcomes(passed=1)
    run("== 1", ini="graphtape_client_ca = proxy").assert_outcomes(passed=1)


def test_an_unknown_client_ca_is_refused(run):
    result = run("== 1", ini="graphtape_client_ca = system")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*graphtape: graphtape_client_ca = 'system'; choose bundle or proxy*"])
