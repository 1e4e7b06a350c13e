"""The example and the exit statuses each command's ``--help`` ends with (one place knows what each returns)."""

from __future__ import annotations

import argparse

_PROXY_EXITS = ("0  the proxy stopped (Ctrl-C) and the session passed",
                "1  the session failed (--fail-on: an unmatched or unrecorded call, a deviation, a contract error...)",
                "2  usage or start-up error: a bad option, an unreadable cassette, the port is in use")
_EXITS: dict[str, tuple[str, tuple[str, ...]]] = {
    "record": ("graphtape record cassettes/inbox.yaml --port 8080", _PROXY_EXITS),
    "replay": ("graphtape replay cassettes/inbox.yaml --port 8080", _PROXY_EXITS),
    "inspect": ("graphtape inspect --port 8080", _PROXY_EXITS),
    "simulate": ("graphtape simulate --port 8080", _PROXY_EXITS),
    "run": ("graphtape run --cassette cassettes/inbox.yaml -- pytest tests/", (
        "0  the command and the session passed",
        "N  the command's own exit status, when it failed",
        "2  usage or start-up error: no command after --, a bad option, an unreadable cassette, the port is in use",
        "3  the command passed but the session failed (--fail-on: an unmatched or unrecorded call...)",
        "127  the command could not be started")),
    "show": ("graphtape show cassettes/inbox.yaml --json", (
        "0  listed", "2  a cassette could not be read")),
    "check": ("graphtape check cassettes/", (
        "0  no contract error", "1  a contract error (each printed as FILE:N: rule: message)",
        "2  a cassette could not be read (the others are still checked)")),
    "diff": ("graphtape diff cassettes/old.yaml cassettes/new.yaml", (
        "0  no difference beyond the ignore rules and the server ids mapped between them",
        "1  they differ, or a server id maps two ways (each printed as FILE:N: ...)",
        "2  a cassette could not be read")),
}


def add_epilogs(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """End each command's ``--help`` with its example and exit statuses (a command with its own epilog keeps it)."""
    for name, parser in sub.choices.items():
        if name not in _EXITS or parser.epilog:
            continue
        example, exits = _EXITS[name]
        parser.epilog = f"example:\n  {example}\n\nexit status:\n" + "\n".join(f"  {line}" for line in exits)
        parser.formatter_class = argparse.RawDescriptionHelpFormatter


TOP_EPILOG = """example:
  graphtape run --cassette cassettes/inbox.yaml -- pytest tests/

'graphtape COMMAND --help' shows each command's arguments, an example and the exit statuses it returns
(0 passed; 1 the session failed, or a check or diff found something; 2 a usage or start-up error;
3 'graphtape run': the command passed but the session failed)."""
