"""``graphtape show --json``: a cassette recorded through the real proxy, listed as one JSON document."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import TOKEN

from .mitmtools import send_mail_traffic


def test_show_json_lists_each_interaction_with_its_summary(tmp_path, proxy, fake_graph):
    cassette = tmp_path / "c.yaml"
    rec = proxy("record", str(cassette), "--upstream", fake_graph.url, "--upstream-ca", str(fake_graph.cert))
    send_mail_traffic(rec.url, rec.ca, TOKEN)
    assert rec.stop() == 0
    done = subprocess.run([sys.executable, "-m", "graphtape.cli", "show", "--json", str(cassette)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    [doc] = json.loads(done.stdout)
    assert doc["cassette"] == str(cassette) and doc["created"]
    listed = [(i["number"], i["method"], i["path"], i["status"]) for i in doc["interactions"]]
    assert listed == [(1, "POST", "/v1.0/me/sendMail", 202), (2, "POST", "/v1.0/$batch", 200)]
    first = doc["interactions"][0]
    assert first["request"]["Subject"] == "Quarterly report" and first["recorded_at"].endswith("Z")
    assert "application/pdf report.pdf (1400 bytes)" in first["request"]["parts"]
    assert TOKEN not in done.stdout
