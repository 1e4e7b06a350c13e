"""The official Graph JavaScript SDK (Node.js) runs a whole mail flow against ``graphtape simulate``, no recording.

tests/clients/node/simflow.mjs makes the calls (the SDK's LargeFileUploadTask for the 5 MB attachment); skipped,
saying why, where node or the SDK is missing (tests/clients/test_node_client.py's check).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import TOKEN

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "clients"))
from test_node_client import NODE_DIR, _why_skip

pytestmark = pytest.mark.skipif((_reason := _why_skip()) is not None, reason=_reason or "")

SUBJECT = "Quarterly report (simulated, from Node)"
SIZE = 5 * 1024 * 1024
RANGE = 10 * 320 * 1024


def run_flow(proxy: Any) -> dict[str, Any]:
    env = {**os.environ, **proxy.env(), "GRAPH_TOKEN": TOKEN}
    out = subprocess.run(["node", str(NODE_DIR / "simflow.mjs"), "env"], capture_output=True, text=True, env=env,
                         timeout=180)
    assert out.returncode == 0, f"node simflow.mjs failed:\n{out.stderr}\n{proxy.stderr}"
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def expected_sha256() -> str:
    block = hashlib.sha256(b"graphtape simulate").digest()
    return hashlib.sha256((block * (SIZE // len(block) + 1))[:SIZE]).hexdigest()


def test_node_sdk_runs_a_whole_mail_flow_against_simulate(tmp_path: Path, proxy):
    report = tmp_path / "report.json"
    p = proxy("simulate", "--clock", "2026-01-05T09:00:00Z", "--report", str(report))
    got = run_flow(p)
    assert p.stop() == 0, p.output
    assert got == {
        "draft": {"subject": SUBJECT, "isDraft": True},
        "mime": {"subject": "MIME draft (from Node)", "from": "AlexW@contoso.com"},
        "upload": {"ranges": [[0, RANGE - 1], [RANGE, SIZE - 1]], "completed": True, "sha256": expected_sha256()},
        "sent": {"subject": SUBJECT, "isDraft": False, "to": ["megan@contoso.com"]},
        "attachments": [["figures.bin", SIZE]],
        "delta": {"subjects": sorted([SUBJECT, f"RE: {SUBJECT}", f"FW: {SUBJECT}"]), "link": True},
    }
    summary = json.loads(report.read_text())["summary"]
    assert summary["unmatched"] == 0 and summary["rejected"] == 0 and summary["contract_errors"] == 0, summary
    assert summary["simulated"] == summary["requests"] == 11, summary  # 2 drafts, a session, 2 chunks, send, 5 more
