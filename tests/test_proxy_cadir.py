"""The hashed CA directory clients behind the proxy trust by default: every public CA of certifi's bundle and
mitmproxy's, under OpenSSL's own names; built once per content; and real clients verify with it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import certifi
import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from mitmproxy.certs import CertStore
from OpenSSL.crypto import FILETYPE_PEM, dump_certificate, load_certificate

from graphtape.proxy.clients import PEM_BLOCK, ca_dir, client_env, hashed_names
from tls_clients import call_each, clean_env, clients, localhost_leaf, make_ca, serve_https


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    CertStore.from_store(tmp_path / "conf", "mitmproxy", 2048)
    return tmp_path / "conf"


def _pem(cert) -> bytes:
    return cert.public_bytes(Encoding.PEM)


def test_the_directory_holds_every_certifi_ca_and_the_proxys_under_their_subject_hash(conf):
    folder = ca_dir(str(conf))
    wanted = [load_certificate(FILETYPE_PEM, block) for block in
              PEM_BLOCK.findall(Path(certifi.where()).read_bytes() + (conf / "mitmproxy-ca-cert.pem").read_bytes())]
    assert len(wanted) > 100
    for cert in wanted:
        body = dump_certificate(FILETYPE_PEM, cert)
        held = [p for p in folder.glob(f"{cert.subject_name_hash():08x}.*") if p.read_bytes() == body]
        assert len(held) == 1, cert.get_subject()
    assert len(list(folder.iterdir())) == len({dump_certificate(FILETYPE_PEM, c) for c in wanted})


def test_the_names_are_the_ones_openssl_itself_computes(conf):
    folder = ca_dir(str(conf))
    for path in sorted(folder.iterdir()):  # every file, against the openssl command
        out = subprocess.run(["openssl", "x509", "-noout", "-subject_hash", "-in", str(path)],
                             capture_output=True, text=True, check=True)
        assert path.name.split(".")[0] == out.stdout.strip()


def test_subjects_sharing_a_hash_are_numbered_and_a_repeated_certificate_is_kept_once():
    first, _ = make_ca("Same Subject")
    second, _ = make_ca("Same Subject")  # same name, another key: another certificate, the same hash
    names = hashed_names([_pem(first) + _pem(second), _pem(first)])
    assert sorted(n.split(".")[1] for n in names) == ["0", "1"]
    assert len({n.split(".")[0] for n in names}) == 1
    assert set(names.values()) == {_pem(first), _pem(second)}


def test_the_directory_is_built_once_and_anew_when_the_public_cas_or_the_proxys_change(conf, tmp_path):
    folder = ca_dir(str(conf))
    marker = folder / "kept"
    marker.write_text("")
    assert ca_dir(str(conf)) == folder and marker.exists()  # the same contents: not rebuilt
    public = tmp_path / "cacert.pem"
    extra, _ = make_ca("Another Public CA")
    public.write_bytes(Path(certifi.where()).read_bytes() + _pem(extra))
    changed = ca_dir(str(conf), str(public))
    assert changed != folder and not folder.exists()
    assert len(list(changed.iterdir())) == len(list(ca_dir(str(conf)).iterdir())) + 1
    (conf / "mitmproxy-ca-cert.pem").write_bytes(_pem(extra))  # another proxy CA
    assert any(p.read_bytes() == _pem(extra) for p in ca_dir(str(conf)).iterdir())


def test_the_default_names_the_directory_and_an_empty_ssl_cert_file(conf):
    env = client_env("http://127.0.0.1:1", str(conf))
    assert env["SSL_CERT_FILE"] == "" and env["SSL_CERT_DIR"] == env["REQUESTS_CA_BUNDLE"] == str(ca_dir(str(conf)))
    assert env["CURL_CA_BUNDLE"] == str(conf / "graphtape-ca-bundle.pem")
    assert env["NODE_EXTRA_CA_CERTS"] == str(conf / "mitmproxy-ca-cert.pem")
    proxy = client_env("http://127.0.0.1:1", str(conf), "proxy")
    assert proxy["SSL_CERT_FILE"] == proxy["REQUESTS_CA_BUNDLE"] == str(conf / "mitmproxy-ca-cert.pem")


def test_clients_verify_a_server_whose_ca_is_in_certifis_place_and_refuse_one_whose_ca_is_not(conf, tmp_path):
    public_ca, public_key = make_ca("Test Public Root")
    public = tmp_path / "cacert.pem"
    public.write_bytes(Path(certifi.where()).read_bytes() + _pem(public_ca))  # certifi's bundle, one CA more
    cert, key = localhost_leaf(public_ca, public_key, tmp_path / "leaf")
    with serve_https(cert, key) as url:
        for bundle, trusted in ((str(public), True), (certifi.where(), False)):
            folder = ca_dir(str(conf), bundle)
            # what the plugin and `graphtape run` set (client_env), with the directory of this certifi bundle
            env = clean_env(SSL_CERT_FILE="", SSL_CERT_DIR=str(folder), REQUESTS_CA_BUNDLE=str(folder))
            results = call_each(url, env)
            if trusted:
                assert results == dict.fromkeys(results, "200 hello"), results
            else:
                assert set(results) == set(clients())
                assert all("CERTIFICATE_VERIFY_FAILED" in r or "certificate verify failed" in r
                           for r in results.values()), results
