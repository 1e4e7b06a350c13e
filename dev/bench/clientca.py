"""One httpx client built behind a proxy, under each setting of the clients' CA variables: a micro-measure.

``python -m dev.bench.clientca``: each setting in its own process (a fresh confdir and CA), 30 clients, the
median; and Python's ``ssl.create_default_context()`` (what urllib3, aiohttp and urllib build) beside it.
``file``: SSL_CERT_FILE naming the bundle (graphtape's default before the CA directory); ``bundle``: today's
default (the directory, SSL_CERT_FILE empty); ``unset``: the directory with SSL_CERT_FILE unset; ``proxy``:
``--graphtape-client-ca=proxy``; ``none``: no proxy or CA variable (VCR.py's case: one context, certifi's).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

SETTINGS = ("file", "bundle", "unset", "proxy", "none")


def measure(setting: str, confdir: str) -> str:
    """The figures of one setting, in this process (whose environment it changes)."""
    import ssl

    from mitmproxy.certs import CertStore

    from graphtape.proxy.clients import client_env

    CertStore.from_store(confdir, "mitmproxy", 2048)
    for key in [k for k in os.environ if "SSL_CERT" in k or "CA_BUNDLE" in k or "PROXY" in k.upper()]:
        del os.environ[key]
    if setting != "none":
        env = client_env("http://127.0.0.1:9", confdir, "proxy" if setting == "proxy" else "bundle")
        if setting == "file":
            env["SSL_CERT_FILE"] = env["REQUESTS_CA_BUNDLE"] = env["CURL_CA_BUNDLE"]
            del env["SSL_CERT_DIR"]
        elif setting == "unset":
            del env["SSL_CERT_FILE"]
        os.environ.update(env)
    import httpx

    def median_ms(build: object) -> float:
        times = []
        for _ in range(30):
            t0 = time.perf_counter()
            build()  # type: ignore[operator]
            times.append(time.perf_counter() - t0)
        return statistics.median(times) * 1e3

    client = median_ms(lambda: httpx.Client().close())
    context = median_ms(ssl.create_default_context)
    return f"{setting:7s} httpx.Client() {client:7.2f} ms   ssl.create_default_context() {context:6.2f} ms"


def main() -> int:
    if len(sys.argv) > 1:
        print(measure(sys.argv[1], sys.argv[2]))
        return 0
    print(f"load average {os.getloadavg()[0]:.1f}")
    for setting in SETTINGS:
        with tempfile.TemporaryDirectory(prefix="graphtape-clientca-") as confdir:
            subprocess.run([sys.executable, "-m", "dev.bench.clientca", setting, confdir], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
