"""``make demo``: replay the bundled seed cassettes offline with the official SDK, then run a short mail flow
against ``graphtape simulate`` (no cassette at all), and say what happened.

``python -m dev.demo [--cassettes cassettes/seeds]`` replays; ``--build`` records the cassettes
anew through ``graphtape record`` against the local stand-in (``graphtape.testing.fakegraph``) answering with
the documented responses.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

from dev.harness import ProxyProcess
from dev.scenario import EXAMPLES, make_client, run_example


def _client_through(proxy: ProxyProcess, version: str = "v1.0") -> object:
    os.environ.update(proxy.env())  # the SDK's httpx client reads HTTPS_PROXY and SSL_CERT_FILE
    return make_client(base_url=f"https://graph.microsoft.com/{version}")


def build(folder: Path, confdir: Path) -> None:
    from graphtape.testing.fakegraph import FakeGraph

    folder.mkdir(parents=True, exist_ok=True)
    for example in EXAMPLES:
        path = folder / f"{example.name}.yaml"
        with FakeGraph(confdir / "fakegraph") as graph:
            graph.state.canned.append((example.status, example.response))
            args = ["record", str(path), "--overwrite", "--upstream", graph.url, "--upstream-ca", str(graph.cert)]
            with ProxyProcess(args, confdir) as proxy:
                result = asyncio.run(run_example(example.name, _client_through(proxy)))
            print(f"recorded {path}: {result}")
            if proxy.returncode not in (0, None):
                print(proxy.output, file=sys.stderr)


def replay(folder: Path, confdir: Path) -> int:
    failures = 0
    for example in EXAMPLES:
        path = folder / f"{example.name}.yaml"
        print(f"\n== {example.title}\n   cassette {path}")
        with ProxyProcess(["replay", str(path), "--quiet"], confdir) as proxy:
            try:
                result = asyncio.run(run_example(example.name, _client_through(proxy)))
            except Exception as e:  # the demo reports, it does not stop
                result = f"FAILED: {type(e).__name__}: {e}"
                failures += 1
        print(f"   msgraph-sdk: {result}")
        for line in proxy.stderr.strip().splitlines():
            print(f"   {line}")
    print(f"\n{len(EXAMPLES) - failures} of {len(EXAMPLES)} examples replayed offline through graphtape.")
    return 1 if failures else 0


def simulated(confdir: Path) -> int:
    """A whole mail flow (dev/simflow.py) against ``graphtape simulate``: no recording, nothing sent anywhere."""
    import httpx

    from dev.simflow import mail_flow

    print("\n== Simulated: a mail flow against `graphtape simulate --clock 2026-01-05T09:00:00Z` (no cassette)")
    with ProxyProcess(["simulate", "--quiet", "--clock", "2026-01-05T09:00:00Z"], confdir) as proxy:
        try:
            result = asyncio.run(mail_flow(_client_through(proxy)))
        except Exception as e:  # the demo reports, it does not stop
            print(f"   FAILED: {type(e).__name__}: {e}")
            return 1
        for step, value in result.items():
            print(f"   {step}: {value}")
        with httpx.Client(proxy=proxy.url, verify=str(proxy.ca)) as http:
            state = http.get("https://graph.microsoft.com/_graphtape/mailboxes")
        print(f"   GET https://graph.microsoft.com/_graphtape/mailboxes -> {state.status_code}, "
              f"{len(state.content)} bytes of mailbox state")
    for line in proxy.stderr.strip().splitlines():
        print(f"   {line}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m dev.demo", description=__doc__)
    parser.add_argument("--cassettes", default="cassettes/seeds", type=Path)
    parser.add_argument("--build", action="store_true", help="record the seed cassettes anew")
    parser.add_argument("--confdir", type=Path, default=None, help="mitmproxy CA folder (default: a temp one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="graphtape-demo-") as tmp:
        confdir = args.confdir or Path(tmp)
        if args.build:
            build(args.cassettes, confdir)
            return 0
        failed = replay(args.cassettes, confdir)
        return simulated(confdir) or failed


if __name__ == "__main__":
    sys.exit(main())
