"""A local HTTPS server with a leaf certificate from a given CA, and Python clients that call it with the trust
store they build from their environment (each in a fresh process, so a context made at import time counts too)."""

from __future__ import annotations

import asyncio
import datetime
import http.server
import ipaddress
import json
import os
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

Key = ec.EllipticCurvePrivateKey


def make_ca(name: str) -> tuple[x509.Certificate, Key]:
    """A self-signed CA, as a public CA's root is."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return cert, key


def localhost_leaf(ca: x509.Certificate, ca_key: Any, folder: Path) -> tuple[Path, Path]:
    """(certificate, key) files for 127.0.0.1 and localhost, signed by ``ca``."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "leaf.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "leaf.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                        serialization.PrivateFormat.PKCS8,
                                                        serialization.NoEncryption()))
    return folder / "leaf.pem", folder / "leaf.key"


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "5")
        self.end_headers()
        self.wfile.write(b"hello")

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve_https(cert: Path, key: Path) -> Iterator[str]:
    """An HTTPS server on 127.0.0.1 answering every GET with ``hello``; yields its URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


# Each client with its defaults: its trust store from the environment (SSL_CERT_FILE/SSL_CERT_DIR, or requests'
# REQUESTS_CA_BUNDLE, urllib3's and aiohttp's and urllib's through OpenSSL's default paths) and its proxy too.
def _call(name: str, method: str, url: str) -> str:
    if name == "httpx":
        import httpx
        with httpx.Client() as c:
            r = c.request(method, url)
            return f"{r.status_code} {r.text}"
    if name == "requests":
        import requests
        q = requests.request(method, url, timeout=10)
        return f"{q.status_code} {q.text}"
    if name == "urllib3":
        import urllib.request

        import urllib3
        proxy = urllib.request.getproxies().get("https")  # urllib3 reads no proxy variables: do as the others do
        bypass = urllib.request.proxy_bypass(urlsplit(url).hostname or "")
        pool = urllib3.ProxyManager(proxy) if proxy and not bypass else urllib3.PoolManager()
        u = pool.request(method, url, body=b"" if method == "POST" else None, retries=False)
        return f"{u.status} {u.data.decode()}"
    if name == "urllib":
        import urllib.request
        with urllib.request.urlopen(urllib.request.Request(url, data=b"" if method == "POST" else None,
                                                           method=method), timeout=10) as resp:
            return f"{resp.status} {resp.read().decode()}"
    return asyncio.run(_aiohttp(method, url))


async def _aiohttp(method: str, url: str) -> str:
    import aiohttp

    async with aiohttp.ClientSession(trust_env=True) as s, s.request(method, url, data=b"") as r:
        return f"{r.status} {await r.text()}"


def main(method: str, url: str, *names: str) -> None:
    out: dict[str, str] = {}
    for name in names:
        try:
            out[name] = _call(name, method, url)
        except Exception as e:  # the error is the result: the caller asserts on it
            out[name] = f"{type(e).__name__}: {e}"
    print(json.dumps(out))


def clients() -> list[str]:
    """The Python clients installed here (aiohttp is optional)."""
    import importlib.util

    return ["httpx", "requests", "urllib3", "urllib"] + (["aiohttp"] if importlib.util.find_spec("aiohttp") else [])


def call_each(url: str, env: Mapping[str, str]) -> dict[str, str]:
    """{client: the body it read, or the error it raised} for a GET of ``url`` by each client, in a process
    whose environment is ``env``."""
    out = subprocess.run([sys.executable, __file__, "GET", url, *clients()], env=dict(env), capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without proxy or CA variables, plus ``extra``."""
    drop = ("PROXY", "SSL_CERT", "CA_BUNDLE", "CA_CERTS")
    env = {k: v for k, v in os.environ.items() if not any(d in k.upper() for d in drop)}
    return {**env, **extra}


if __name__ == "__main__":
    main(*sys.argv[1:])
