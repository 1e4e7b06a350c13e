"""mitmproxy's confdir (its CA) made safely when several processes share one, as pytest-xdist's workers do.

mitmproxy makes its CA when the proxy starts and ``mitmproxy-ca.pem`` is missing, writing the files one after
another: a second process starting at that moment could read half a key, or make a CA of its own over the first.
``ensure_ca`` makes them first, holding an exclusive lock on ``.graphtape-ca.lock`` in the folder (the kernel lets
go of it if the holder dies), so one process makes the CA and the others wait, then load it. mitmproxy's own
``CertStore.create_store`` makes it, with mitmproxy's file names and default key size, exactly as its proxy would.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

LOCK_NAME = ".graphtape-ca.lock"


def ca_files(confdir: Path) -> tuple[Path, Path]:
    """(the CA with its key, its certificate alone), under mitmproxy's names in ``confdir``."""
    from mitmproxy.options import CONF_BASENAME

    return confdir / f"{CONF_BASENAME}-ca.pem", confdir / f"{CONF_BASENAME}-ca-cert.pem"


def ensure_ca(confdir: Path) -> bool:
    """Make mitmproxy's CA in ``confdir`` unless it is there, under the folder's lock; True if this call made it.

    Raises OSError (the folder cannot be made or locked, or the CA written) with the folder in the message."""
    from mitmproxy.certs import CertStore
    from mitmproxy.options import CONF_BASENAME, KEY_SIZE

    key, cert = ca_files(confdir)
    try:
        confdir.mkdir(parents=True, exist_ok=True)
        fd = os.open(confdir / LOCK_NAME, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
    except OSError as e:
        raise OSError(f"graphtape: cannot use {confdir} for mitmproxy's CA: {e.strerror or e}") from e
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # blocks while another process makes it: a second or so at most
        if key.exists() and cert.exists():
            return False
        CertStore.create_store(confdir, CONF_BASENAME, KEY_SIZE)
        return True
    finally:
        os.close(fd)  # and with it the lock
