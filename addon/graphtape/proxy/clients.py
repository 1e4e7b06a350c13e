"""What puts clients behind the proxy: its URL, mitmproxy's CA in a bundle, the environment variables."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path
from urllib.parse import quote

from graphtape.cassette.atomicfile import atomic_write
from graphtape.proxy.standalone import url_host

# What the CA variables name for clients behind the proxy: "bundle", the usual public CAs plus mitmproxy's (a direct
# HTTPS call, to a NO_PROXY host, still verifies), or "proxy", mitmproxy's CA alone (trusts only graphtape's proxy).
# "bundle" names a hashed CA directory (SSL_CERT_DIR, REQUESTS_CA_BUNDLE) that OpenSSL reads lazily, one issuer at a
# time, and sets SSL_CERT_FILE empty: a file is parsed whole at every context (OpenSSL 3.0: ~30 ms for ~120 CAs,
# and httpx builds three contexts a client behind a proxy). Empty, not unset: httpx and Python's ssl then skip it,
# and OpenSSL's default paths load no file at all (unset, they would load the system's bundle, eagerly).
# curl needs a file (CURL_CA_BUNDLE: the bundle) and Node adds NODE_EXTRA_CA_CERTS (the CA) to its own store.
CLIENT_CA = ("bundle", "proxy")
CA_DIR_PREFIX = "graphtape-ca-dir-"
PEM_BLOCK = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


def ca_bundle(confdir: str) -> tuple[Path, Path]:
    """(mitmproxy's CA, a bundle of the usual public CAs plus it) for clients that replace their trust store."""
    import certifi

    folder = Path(confdir).expanduser()
    ca = folder / "mitmproxy-ca-cert.pem"
    bundle = folder / "graphtape-ca-bundle.pem"
    text = Path(certifi.where()).read_text() + "\n" + ca.read_text()
    if not bundle.exists() or bundle.read_text() != text:  # replaced whole: a client reading it never sees part
        atomic_write(bundle, text, durable=False)
    return ca, bundle


def hashed_names(pems: list[bytes]) -> dict[str, bytes]:
    """{OpenSSL's ``<subject hash>.<n>`` name: PEM} for the certificates of ``pems`` (each a PEM file's bytes),
    each certificate once; ``n`` counts the different certificates whose subjects share a hash. OpenSSL parses
    them (pyOpenSSL): cryptography warns of, and will refuse, one of certifi's (its serial number is not positive)."""
    from OpenSSL.crypto import FILETYPE_PEM, dump_certificate, load_certificate

    names: dict[str, bytes] = {}
    for pem in pems:
        for block in PEM_BLOCK.findall(pem):
            cert = load_certificate(FILETYPE_PEM, block)
            body = dump_certificate(FILETYPE_PEM, cert)
            if body in names.values():
                continue
            stem = f"{cert.subject_name_hash():08x}"
            n = sum(1 for name in names if name.rpartition(".")[0] == stem)
            names[f"{stem}.{n}"] = body
    return names


def ca_dir(confdir: str, public: str | None = None) -> Path:
    """A hashed CA directory (as ``openssl rehash`` makes) of the public CAs (certifi's, or ``public``) plus
    mitmproxy's, in ``confdir``: built once for these contents (its name is their digest), older ones removed."""
    import certifi

    folder = Path(confdir).expanduser()
    pems = [Path(public or certifi.where()).read_bytes(), (folder / "mitmproxy-ca-cert.pem").read_bytes()]
    target = folder / (CA_DIR_PREFIX + hashlib.sha256(b"\0".join(pems)).hexdigest()[:16])
    if not target.is_dir():
        work = Path(tempfile.mkdtemp(prefix=".building-", dir=folder))
        for name, body in hashed_names(pems).items():
            (work / name).write_bytes(body)
        try:
            os.rename(work, target)  # atomic; fails if another process has just made it
        except OSError:
            shutil.rmtree(work, ignore_errors=True)
            if not target.is_dir():
                raise
    for old in folder.glob(CA_DIR_PREFIX + "*"):
        if old != target:
            shutil.rmtree(old, ignore_errors=True)
    return target


def client_env(proxy_url: str, confdir: str, client_ca: str = "bundle") -> dict[str, str]:
    """The variables that put common clients (Python, curl, Node, Go) behind the proxy; see CLIENT_CA."""
    ca, bundle = ca_bundle(confdir)
    if client_ca == "proxy":
        trust = {"SSL_CERT_FILE": str(ca), "REQUESTS_CA_BUNDLE": str(ca), "CURL_CA_BUNDLE": str(ca)}
    else:
        folder = str(ca_dir(confdir))
        trust = {"SSL_CERT_FILE": "", "SSL_CERT_DIR": folder, "REQUESTS_CA_BUNDLE": folder,
                 "CURL_CA_BUNDLE": str(bundle)}
    return {
        "HTTPS_PROXY": proxy_url,
        "HTTP_PROXY": proxy_url,
        "https_proxy": proxy_url,
        "http_proxy": proxy_url,
        **trust,
        "NODE_EXTRA_CA_CERTS": str(ca),
        "GRAPHTAPE_PROXY": proxy_url,
        "GRAPHTAPE_CA": str(ca),
    }


def proxy_url(host: str, port: int, proxyauth: str = "") -> str:
    """The proxy's URL for clients, with the credentials in it when the proxy requires them."""
    if not proxyauth:
        return f"http://{url_host(host)}:{port}"
    user, _, password = proxyauth.partition(":")
    return f"http://{quote(user, safe='')}:{quote(password, safe='')}@{url_host(host)}:{port}"
