"""What the clients' CA variables name: the public CAs plus the proxy's by default, the proxy's CA alone with
``--graphtape-client-ca=proxy`` (or ``graphtape_client_ca = proxy``); replay works the same either way."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from conftest import SEEDS
from tls_clients import clients

pytest_plugins = ["pytester"]
REPO = Path(__file__).resolve().parents[2]

INNER = '''
import json
import os
import subprocess
import sys

import httpx
import pytest
import tls_clients
from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_private_key

SEND = "https://graph.microsoft.com/beta/me/messages/AAMkAGRWAAAFSmKXAAA=/send"


def check_bundle(ca):
    assert os.environ["SSL_CERT_FILE"] == ""  # no file parsed whole at every TLS context
    folder = os.environ["SSL_CERT_DIR"]  # OpenSSL's hashed directory, read one issuer at a time
    assert os.environ["REQUESTS_CA_BUNDLE"] == folder
    held = [open(os.path.join(folder, name)).read() for name in os.listdir(folder)]
    assert held.count(ca) == 1 and len(held) > 100
    bundle = open(os.environ["CURL_CA_BUNDLE"]).read()  # curl wants a file
    assert ca in bundle and bundle.count("BEGIN CERTIFICATE") > 100


def check_proxy(ca):
    for key in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        assert open(os.environ[key]).read() == ca, key


@pytest.mark.graphtape("send-draft.yaml")
def test_send(graphtape):
    ca = open(graphtape.ca).read()
    check_{mode}(ca)
    assert os.environ["NODE_EXTRA_CA_CERTS"] == str(graphtape.ca)
    with httpx.Client() as client:  # the CA variables and the proxy from the environment
        assert client.post(SEND).status_code == 202


@pytest.mark.graphtape("send-draft.yaml")
@pytest.mark.parametrize("name", tls_clients.clients())
def test_each_client_verifies_the_proxy(graphtape, name):
    out = subprocess.run([sys.executable, tls_clients.__file__, "POST", SEND, name], capture_output=True,
                         text=True, timeout=60)
    assert json.loads(out.stdout) == {{name: "202 "}}, out.stderr


@pytest.mark.graphtape("send-draft.yaml")
def test_curl_verifies_the_proxy(graphtape):
    out = subprocess.run(["curl", "-sS", "-w", "%{{http_code}}", "-X", "POST", "-H", "Content-Length: 0", SEND],
                         capture_output=True, text=True, timeout=60)
    assert out.stdout == "202", out.stderr


def test_a_direct_call_verifies_with_the_same_variables(tmp_path, monkeypatch):
    pem = open(os.environ["GRAPHTAPE_CA"].replace("-cert.pem", ".pem"), "rb").read()  # the CA with its key
    leaf = tls_clients.localhost_leaf(x509.load_pem_x509_certificate(pem), load_pem_private_key(pem, None), tmp_path)
    with tls_clients.serve_https(*leaf) as url:
        results = tls_clients.call_each(url, {{**os.environ, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}})
    assert results == dict.fromkeys(results, "200 hello"), results
'''


@pytest.fixture
def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    for key in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE",
                "CURL_CA_BUNDLE", "NODE_EXTRA_CA_CERTS", "NO_PROXY", "no_proxy", "SSL_CERT_DIR"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), str(REPO / "tests"),
                                                                   os.environ.get("PYTHONPATH")])))
    (pytester.path / "seeds").mkdir()
    shutil.copy(SEEDS / "send-draft.yaml", pytester.path / "seeds" / "send-draft.yaml")

    def go(mode: str, *args: str, ini: str = "") -> pytest.RunResult:
        pytester.makepyfile(test_mail=INNER.format(mode=mode))
        pytester.makeini(f"[pytest]\ngraphtape_cassette_dir = seeds\n{ini}")
        return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args, timeout=120)

    return go


def test_by_default_clients_get_the_public_cas_and_the_proxys(run):
    run("bundle").assert_outcomes(passed=3 + len(clients()))


def test_client_ca_proxy_names_the_proxys_ca_alone(run):
    run("proxy", "--graphtape-client-ca=proxy").assert_outcomes(passed=3 + len(clients()))
    by_ini = run("proxy", "-k", "test_send", ini="graphtape_client_ca = proxy")
    by_ini.assert_outcomes(passed=1, deselected=2 + len(clients()))


def test_an_unknown_client_ca_is_refused(run):
    result = run("proxy", ini="graphtape_client_ca = system")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*graphtape: graphtape_client_ca = 'system'; choose bundle or proxy*"])
