"""Golden cases for the differ: one YAML file per case under ``golden/``.

A case file holds::

    recorded: {method, url, headers, <body>}   # headers: a mapping, in order
    actual: {...}                             # only what differs: merged over ``recorded`` key by key
    ignore: [pattern, ...]                    # optional user rules, merged into DEFAULT_IGNORE
    expected: |                               # the lines format_deviations must print (last key)
      body.Message.subject: 'Hello' -> 'Hello again'

and one body key at most:

- ``json``: any YAML value, sent as JSON (Content-Type is not implied: write it in headers);
- ``mime``: the RFC 5322 text of a message (LF line ends, turned into CRLF), sent base64-encoded in
  76-column lines as Graph takes it; ``Content-Type: text/plain`` is added unless headers give one;
- ``text``: a body sent as UTF-8;
- ``hex``: a binary body.

To regenerate the ``expected`` blocks after a deliberate change of the output, run::

    GRAPHTAPE_UPDATE_GOLDEN=1 .venv/bin/pytest tests/diffing/test_golden.py

then read ``git diff tests/diffing/golden`` before committing.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from graphtape.model import HttpRequest

GOLDEN_DIR = Path(__file__).parent / "golden"
UPDATE = os.environ.get("GRAPHTAPE_UPDATE_GOLDEN") == "1"


@dataclass(frozen=True)
class Case:
    path: Path
    recorded: HttpRequest
    actual: HttpRequest
    ignore: list[str]
    expected: str


def case_paths() -> list[Path]:
    return sorted(GOLDEN_DIR.glob("*.yaml"))


def build_request(spec: dict[str, Any]) -> HttpRequest:
    headers = [(str(k), str(v)) for k, v in (spec.get("headers") or {}).items()]
    body = b""
    if "json" in spec:
        body = json.dumps(spec["json"]).encode()
    elif "mime" in spec:
        rfc5322 = spec["mime"].replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")
        body = base64.encodebytes(rfc5322)
        if not any(k.lower() == "content-type" for k, _ in headers):
            headers.append(("Content-Type", "text/plain"))
    elif "text" in spec:
        body = spec["text"].encode("utf-8")
    elif "hex" in spec:
        body = bytes.fromhex(spec["hex"])
    return HttpRequest(method=spec.get("method", "POST"), url=spec["url"], headers=headers, body=body)


def load_case(path: Path) -> Case:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    recorded = data["recorded"]
    actual = {**recorded, **data.get("actual", {})}
    if any(k in data.get("actual", {}) for k in ("json", "mime", "text", "hex")):
        for key in ("json", "mime", "text", "hex"):  # a body in actual replaces the recorded one
            if key not in data["actual"]:
                actual.pop(key, None)
    return Case(
        path=path,
        recorded=build_request(recorded),
        actual=build_request(actual),
        ignore=list(data.get("ignore") or []),
        expected=data.get("expected") or "",
    )


def write_expected(path: Path, lines: str) -> None:
    """Replace the ``expected:`` block, which must be the file's last key."""
    text = path.read_text(encoding="utf-8")
    head = text[: text.index("\nexpected:")] if "\nexpected:" in text else text.rstrip("\n")
    block = '\nexpected: ""\n'
    if lines:
        block = "\nexpected: |\n" + "".join(f"  {line}\n" for line in lines.splitlines())
    path.write_text(head + block, encoding="utf-8")
