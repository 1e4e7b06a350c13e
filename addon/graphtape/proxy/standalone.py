"""What graphtape does when mitmproxy's own tools load it (``mitmdump -s entry.py``, ``mitmweb -s entry.py``).

graphtape's CLI and in-process proxy choose the listen address and the exit status themselves; mitmdump
does not: its default ``listen_host`` is every interface, and it exits 0 whatever the session found.
"""

from __future__ import annotations

import asyncio
import ipaddress
import sys
from collections.abc import Callable
from typing import Any

LOOPBACK = "127.0.0.1"
EXIT_SESSION_FAILED = 3  # graphtape run and mitmdump -s: the session failed (unmatched, unrecorded, rejected...)
EXIT_USAGE = 2  # graphtape: a usage, configuration or start-up error (bad option, unreadable cassette, port in use)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_host(host: str) -> str:
    """A host as it stands in a URL: IPv6 literals in brackets (``http://[::1]:8080``)."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def exposure_warning(host: str) -> str | None:
    if is_loopback(host):
        return None
    return (f"graphtape: warning: listening on {host or 'every interface'}, reachable from other machines; the "
            "proxy sees mail and tokens in clear. Use --listen-host 127.0.0.1 unless you mean it.")


def bound_elsewhere(proxyserver: Any) -> bool:
    """The proxy listens on some address that is not loopback."""
    return any(not is_loopback(str(addr[0])) for addr in proxyserver.listen_addrs())


async def rebind(proxyserver: Any, modes: list[str]) -> None:
    """Close the listening servers and open them again, on the ``listen_host`` now set.

    mitmdump binds before it loads ``-s`` scripts, and rebinds only when ``mode`` changes; a script that
    sets ``listen_host`` has to restart the servers itself.
    """
    from mitmproxy.proxy import mode_specs

    await proxyserver.servers.update([])
    await proxyserver.servers.update([mode_specs.ProxyMode.parse(m) for m in modes])


def rebind_then(proxyserver: Any, modes: list[str], then: Callable[[], None], tasks: set[asyncio.Task[None]]) -> None:
    """``rebind`` on the running loop, then call ``then``; the task is kept in ``tasks`` until it is done."""

    async def run() -> None:
        await rebind(proxyserver, modes)
        then()

    task = asyncio.get_running_loop().create_task(run())
    tasks.add(task)
    task.add_done_callback(tasks.discard)


def exit_when_mitmproxy_is_done(status: int = EXIT_SESSION_FAILED) -> None:
    """Make mitmdump/mitmweb exit with ``status`` once its shutdown is over; call it from the ``done`` hook.

    mitmproxy 12 has no exit status for addons (its tools return None after shutdown), and raising
    SystemExit in ``done`` would skip the done hooks of the addons after this one (save, savehar).
    So the exit waits for the task running mitmproxy (and this hook) to finish: asyncio lets SystemExit
    from a done callback out of ``asyncio.run``, after closing the loop as usual.
    """
    try:
        task = asyncio.current_task()
    except RuntimeError:  # no loop: a test driving the hooks by hand
        return
    if task is not None:
        task.add_done_callback(lambda _: sys.exit(status))


def listening(proxyserver: Any, listen_host: str, listen_port: int) -> tuple[str, int]:
    """Where the proxy listens: the port the server bound (``listen_port`` 0 picks one), on the host as set."""
    addrs = proxyserver.listen_addrs() if proxyserver is not None else []
    host, port = (addrs[0][0], addrs[0][1]) if addrs else (listen_host, listen_port)
    return listen_host or host, int(port)
