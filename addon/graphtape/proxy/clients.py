"""What puts clients behind the proxy: its URL, mitmproxy's CA in a bundle, the environment variables."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from graphtape.proxy.standalone import url_host

# What the CA variables (SSL_CERT_FILE, REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE) name for clients behind the proxy:
# "bundle", the usual public CAs plus mitmproxy's (a direct HTTPS call, to a NO_PROXY host, still verifies), or
# "proxy", mitmproxy's CA alone: a client that builds its TLS context from the variable reads one certificate, not
# ~120 (OpenSSL 3.0: ~30 ms, and httpx builds three a client behind a proxy), but trusts only graphtape's proxy.
CLIENT_CA = ("bundle", "proxy")


def ca_bundle(confdir: str) -> tuple[Path, Path]:
    """(mitmproxy's CA, a bundle of the usual public CAs plus it) for clients that replace their trust store."""
    import certifi

    folder = Path(confdir).expanduser()
    ca = folder / "mitmproxy-ca-cert.pem"
    bundle = folder / "graphtape-ca-bundle.pem"
    text = Path(certifi.where()).read_text() + "\n" + ca.read_text()
    if not bundle.exists() or bundle.read_text() != text:
        bundle.write_text(text)
    return ca, bundle


def client_env(proxy_url: str, ca: Path, bundle: Path) -> dict[str, str]:
    """The variables that put common clients (Python, curl, Node, Go) behind the proxy."""
    return {
        "HTTPS_PROXY": proxy_url,
        "HTTP_PROXY": proxy_url,
        "https_proxy": proxy_url,
        "http_proxy": proxy_url,
        "SSL_CERT_FILE": str(bundle),
        "REQUESTS_CA_BUNDLE": str(bundle),
        "CURL_CA_BUNDLE": str(bundle),
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
