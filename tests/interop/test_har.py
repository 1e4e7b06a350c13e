"""``graphtape import`` and ``export`` end to end: HAR and flow files written by mitmproxy itself (savehar, ``-w``)
from real flows through mitmdump with graphtape loaded, a devtools-style HAR full of secrets, and the round trip
cassette -> HAR -> cassette; each imported cassette replayed through the real proxy."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import TOKEN
from graphtape.cassette.format import load_cassette

from .devtools_har import Secrets, devtools_har
from .mitmtools import MitmTool, mime_message, send_mail_traffic


def graphtape(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "graphtape.cli", *args], capture_output=True, text=True,
                          timeout=120)


def _recorded(tmp_path: Path, proxy: Any, fake_graph: Any) -> Path:
    cassette = tmp_path / "recorded.yaml"
    rec = proxy("record", str(cassette), "--upstream", fake_graph.url, "--upstream-ca", str(fake_graph.cert))
    send_mail_traffic(rec.url, rec.ca, TOKEN)
    assert rec.stop() == 0, rec.output
    return cassette


def _replays(proxy: Any, cassette: Path) -> None:
    rep = proxy("replay", str(cassette), "--fail-on", "unmatched,unused")
    send_mail_traffic(rep.url, rep.ca, TOKEN)
    assert rep.stop() == 0, rep.output
    assert "matched 2, unmatched 0" in rep.stderr


def test_har_and_flow_files_from_mitmproxy_itself_import_without_the_token(tmp_path, proxy, confdir, fake_graph):
    source = _recorded(tmp_path, proxy, fake_graph)
    fake_graph.stop()  # from here on, offline
    har, flows = tmp_path / "capture.har", tmp_path / "capture.flows"
    dump = MitmTool("mitmdump", confdir, {"graphtape_mode": "replay", "graphtape_cassette": str(source),
                                          "hardump": str(har)}, "-w", str(flows))
    send_mail_traffic(dump.url, dump.ca, TOKEN)  # the client's real Authorization: Bearer <JWT> in both files
    assert dump.stop() == 0, dump.output
    assert TOKEN in har.read_text() and TOKEN.encode() in flows.read_bytes()
    for capture in (har, flows):
        out = tmp_path / f"{capture.suffix[1:]}.yaml"
        done = graphtape("import", str(capture), "-o", str(out))
        assert done.returncode == 0, done.stderr
        assert f"imported 2 Graph call(s) from {capture}" in done.stderr
        text = out.read_text()
        assert TOKEN not in text and "authorization: <redacted>" in text.lower()
        assert "Subject: Quarterly report" in text  # the MIME stored decoded, as a recording stores it
        assert [i.request.url for i in load_cassette(out).interactions] == \
            [i.request.url for i in load_cassette(source).interactions]
        _replays(proxy, out)


def test_a_devtools_har_keeps_only_graph_calls_with_every_secret_redacted(tmp_path, proxy):
    s = Secrets()
    har = tmp_path / "devtools.har"
    har.write_text(json.dumps(devtools_har(s, base64.b64encode(mime_message()).decode())))
    out = tmp_path / "devtools.yaml"
    done = graphtape("import", str(har), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "imported 4 Graph call(s)" in done.stderr and "left out: 2 call(s) outside Graph, 0 without an answer, " \
                                                         "0 refused" in done.stderr
    text = out.read_text()
    for secret in s.all():
        assert secret not in text and secret not in done.stderr
    interactions = load_cassette(out).interactions
    assert [(i.request.method, i.request.url.split("?")[0].rsplit("/", 1)[-1]) for i in interactions] == [
        ("GET", "messages"), ("POST", "createUploadSession"), ("PUT", "AttachmentSessions('s1')"), ("POST", "sendMail")]
    assert interactions[2].request.url.endswith("?authtoken=<redacted>")  # the upload URL its answer named
    assert "<redacted>" in json.dumps(json.loads(interactions[1].response.body))  # the uploadUrl in the answer too
    assert json.loads(interactions[0].response.body)["value"][0]["subject"] == "Quarterly report"  # base64 in HAR
    assert ("Cookie", "<redacted>") in interactions[0].request.headers
    assert ("Set-Cookie", "<redacted>") in interactions[0].response.headers


def test_a_token_no_rule_names_is_refused_and_named_the_rest_imported(tmp_path):
    s = Secrets()
    har = tmp_path / "leaky.har"
    har.write_text(json.dumps(devtools_har(s, base64.b64encode(mime_message()).decode(), leaked_note=True)))
    out = tmp_path / "leaky.yaml"
    done = graphtape("import", str(har), "-o", str(out))
    assert done.returncode == 1
    assert "imported 3 Graph call(s)" in done.stderr and "1 refused" in done.stderr
    assert "refused: GET /v1.0/me/messages?$top=1: not written to" in done.stderr
    assert s.bearer not in out.read_text() and s.bearer not in done.stderr
    assert len(load_cassette(out).interactions) == 3


def test_export_then_import_gives_the_same_cassette_and_it_replays(tmp_path, proxy, fake_graph):
    source = _recorded(tmp_path, proxy, fake_graph)
    fake_graph.stop()
    har = tmp_path / "exported.har"
    done = graphtape("export", str(source), "--har", str(har))
    assert done.returncode == 0, done.stderr
    doc = json.loads(har.read_text())
    assert doc["log"]["creator"]["name"] == "mitmproxy" and len(doc["log"]["entries"]) == 2
    again = tmp_path / "again.yaml"
    done = graphtape("import", str(har), "-o", str(again))
    assert done.returncode == 0, done.stderr
    before, after = load_cassette(source).interactions, load_cassette(again).interactions
    assert [(i.request.method, i.request.url, i.request.body, i.response.status, i.response.body) for i in after] == \
        [(i.request.method, i.request.url, i.request.body, i.response.status, i.response.body) for i in before]
    assert [i.recorded_at for i in after] == [i.recorded_at for i in before]
    _replays(proxy, again)


def test_an_unreadable_capture_and_an_existing_cassette_are_refused_with_status_2(tmp_path):
    bad = tmp_path / "bad.har"
    bad.write_text("{not json")
    done = graphtape("import", str(bad), "-o", str(tmp_path / "x.yaml"))
    assert done.returncode == 2 and "is neither a HAR file nor a mitmproxy flow file" in done.stderr
    har = tmp_path / "ok.har"
    har.write_text(json.dumps(devtools_har(Secrets(), base64.b64encode(mime_message()).decode())))
    existing = tmp_path / "existing.yaml"
    existing.write_text("keep me")
    done = graphtape("import", str(har), "-o", str(existing))
    assert done.returncode == 2 and "already exists" in done.stderr and existing.read_text() == "keep me"
