"""Java's java.net.http.HttpClient through the real proxy: record against the stand-in, replay offline.

tests/clients/java/GraphMail.java runs as a single-file program (``java GraphMail.java``, JDK 11+): nothing to
build or download. These tests skip, saying why, where java (or keytool, for the truststore) is missing.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conftest import TOKEN
from graphtape.cassette.format import load_cassette

PROGRAM = Path(__file__).resolve().parent / "java" / "GraphMail.java"
STOREPASS = "graphtape-test"  # the truststore holds only a public CA certificate


def _why_skip() -> str | None:
    java = shutil.which("java")
    if java is None:
        return "java is not on PATH: install a JDK 11+ (17 is what the tests are written for) to test Java clients"
    out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60).stderr
    m = re.search(r'version "(?:1\.)?(\d+)', out)
    if m is None or int(m[1]) < 11:
        return f"java is older than 11 (no single-file source launch): {out.strip()[:80]}"
    return None


pytestmark = pytest.mark.skipif((_reason := _why_skip()) is not None, reason=_reason or "")


def run_java(proxy: Any, way: str, *scenarios: str, jvm_flags: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """``java GraphMail.java WAY SCENARIO...`` with what a user sets for ``proxy``; its JSON results."""
    env = {**os.environ, "GRAPHTAPE_PROXY": proxy.url, "GRAPHTAPE_CA": str(proxy.ca), "GRAPH_TOKEN": TOKEN,
           "GRAPHTAPE_BASE_URL": proxy.url}
    env.pop("JAVA_TOOL_OPTIONS", None)  # its "Picked up" line would be the only noise; flags are passed here
    out = subprocess.run(["java", *jvm_flags, str(PROGRAM), way, *scenarios], capture_output=True, text=True,
                         env=env, timeout=180)
    assert out.returncode == 0, f"java GraphMail.java {way} {' '.join(scenarios)} failed:\n{out.stderr}"
    results: list[dict[str, Any]] = json.loads(out.stdout)
    assert [r["scenario"] for r in results] == list(scenarios), out.stdout
    return results


def truststore_flags(proxy: Any, folder: Path) -> tuple[str, ...]:
    """JVM flags for unchanged code: the default proxy selector and a PKCS12 truststore with graphtape's CA."""
    keytool = shutil.which("keytool")
    if keytool is None:
        pytest.skip("keytool is not on PATH (it comes with the JDK): cannot build the truststore")
    store = folder / f"graphtape-truststore-{proxy.port}.p12"
    subprocess.run([keytool, "-importcert", "-noprompt", "-alias", "graphtape", "-file", str(proxy.ca),
                    "-keystore", str(store), "-storetype", "PKCS12", "-storepass", STOREPASS],
                   check=True, capture_output=True, timeout=60)
    return ("-Dhttps.proxyHost=127.0.0.1", f"-Dhttps.proxyPort={proxy.port}", f"-Djavax.net.ssl.trustStore={store}",
            f"-Djavax.net.ssl.trustStorePassword={STOREPASS}")


DRAFT_SEND = {"scenario": "draft-send", "result": {"id": "<the draft's id>", "to": "megan@contoso.com",
                                                   "subject": "Quarterly report (from Java)", "send": 202}}
SENT = {"scenario": "sendmail-mime", "result": {"status": 202}}


@pytest.mark.parametrize("way", ["code", "flags"])
def test_java_httpclient_records_against_the_stand_in_then_replays_offline(tmp_path, proxy, fake_graph, way):
    cassette = tmp_path / "java.yaml"
    rec = proxy("record", str(cassette), "--upstream", fake_graph.url, "--upstream-ca", str(fake_graph.cert))
    flags = truststore_flags(rec, tmp_path) if way == "flags" else ()
    recorded = run_java(rec, way, "draft-send", "sendmail-mime", jvm_flags=flags)
    assert rec.stop() == 0, rec.output
    made = recorded[0]["result"]["id"]  # the stand-in's (made from its id seed)
    recorded[0]["result"]["id"] = "<the draft's id>"
    assert recorded == [DRAFT_SEND, SENT] and made.startswith("AAMk")
    received = fake_graph.state.received
    assert [r.path for r in received] == ["/v1.0/me/messages", f"/v1.0/me/messages/{made}/send",
                                          "/v1.0/me/sendMail"]
    assert {r.headers["authorization"] for r in received} == {f"Bearer {TOKEN}"}
    fake_graph.stop()

    text = cassette.read_text()
    assert TOKEN not in text and "Bearer" not in text
    interactions = load_cassette(cassette).interactions
    assert "mime: " in text and "Quarterly report (MIME, from Java)" in text  # the base64 MIME stored decoded
    assert base64.b64decode(interactions[2].request.body).startswith(b"From: Alex Wilber <AlexW@contoso.com>\r\n")

    rep = proxy("replay", str(cassette))
    flags = truststore_flags(rep, tmp_path) if way == "flags" else ()
    replayed = run_java(rep, way, "draft-send", "sendmail-mime", jvm_flags=flags)
    assert replayed[0]["result"].pop("id") == made and replayed[0]["result"] == {
        k: v for k, v in recorded[0]["result"].items() if k != "id"} and replayed[1:] == recorded[1:]
    assert rep.stop() == 0, rep.output
    assert "matched 3, unmatched 0" in rep.stderr and "rejected by contract 0" in rep.stderr, rep.stderr


def test_java_httpclient_with_reverse_base_url_replays_and_bad_mime_gets_graphs_400(tmp_path, proxy, fake_graph):
    cassette = tmp_path / "java.yaml"
    rec = proxy("record", str(cassette), "--upstream", fake_graph.url, "--upstream-ca", str(fake_graph.cert))
    recorded = run_java(rec, "code", "draft-send", "sendmail-mime")
    assert rec.stop() == 0, rec.output
    fake_graph.stop()

    rep = proxy("replay", str(cassette), "--reverse")  # plain HTTP to the proxy: no proxy, no CA
    replayed = run_java(rep, "reverse", "broken-mime", "draft-send", "sendmail-mime")
    assert replayed[1:] == recorded
    assert replayed[0]["error"] == {"status": 400, "code": "ErrorMimeContentInvalidBase64String",
                                    "message": "Invalid base64 string for MIME content."}
    rep.stop()
    assert "matched 3, unmatched 0, exhausted 0, rejected by contract 1" in rep.stderr, rep.stderr
