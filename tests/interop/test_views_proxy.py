"""graphtape's contentviews end to end: mitmweb and mitmdump started as users start them (``-s entry.py``),
real TLS interception, traffic to the stand-in recorded, and the views read back through mitmweb's HTTP API and
from mitmdump's flow detail."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from conftest import TOKEN

from .mitmtools import PDF, MitmTool, free_port, send_mail_traffic, web_password


def _record_sets(tmp_path: Path, fake_graph: Any) -> dict[str, str]:
    return {"graphtape_mode": "record", "graphtape_cassette": str(tmp_path / "views.yaml"),
            "graphtape_upstream": fake_graph.url, "ssl_verify_upstream_trusted_ca": str(fake_graph.cert)}


def _wait_for(tool: MitmTool, text: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while text not in tool.output:
        assert time.monotonic() < deadline, f"{text!r} never came:\n{tool.output}"
        time.sleep(0.05)


def test_mitmweb_shows_a_mime_body_decoded_and_a_batch_item_by_item(tmp_path, confdir, fake_graph):
    port, password = free_port(), web_password()
    web = MitmTool("mitmweb", confdir, {**_record_sets(tmp_path, fake_graph), "web_port": str(port),
                                        "web_open_browser": "false", "web_password": password})
    try:
        _wait_for(web, "Web server listening")
        send_mail_traffic(web.url, web.ca, TOKEN)
        api = httpx.Client(base_url=f"http://127.0.0.1:{port}", params={"token": password}, timeout=10)
        flows = {f["request"]["path"]: f["id"] for f in api.get("/flows").json()}
        sent = api.get(f"/flows/{flows['/v1.0/me/sendMail']}/request/content/auto.json").json()
        batch_in = api.get(f"/flows/{flows['/v1.0/$batch']}/request/content/auto.json").json()
        batch_out = api.get(f"/flows/{flows['/v1.0/$batch']}/response/content/auto.json").json()
        chosen = api.get(f"/flows/{flows['/v1.0/me/sendMail']}/request/content/graph-mime.json").json()
        views = api.get("/state").json()["contentViews"]
    finally:
        web.stop()
    assert "graph-mime" in views and "graph-batch" in views
    assert sent["view_name"] == "Graph-MIME", sent
    text = sent["text"]
    assert "Subject: Quarterly report" in text and "To: Megan <megan@contoso.com>" in text
    assert f"[1] attachment 'report.pdf': application/pdf, {len(PDF)} bytes" in text
    assert "The report is attached." in text  # the message itself, decoded
    assert chosen["text"] == text
    assert batch_in["view_name"] == "Graph-batch"
    assert "[0] id 1: POST /me/messages" in batch_in["text"] and "[1] id 2: POST /me/sendMail" in batch_in["text"]
    assert "Subject: Batched MIME" in batch_in["text"]
    assert f"attachment 'report.pdf': application/pdf, {len(PDF)} bytes" in batch_in["text"]
    assert batch_out["view_name"] == "Graph-batch"
    assert "(answers request item [1] POST /me/sendMail)" in batch_out["text"]
    assert "(answers request item [0] POST /me/messages)" in batch_out["text"]


def test_mitmdump_flow_detail_shows_the_views(tmp_path, confdir, fake_graph):
    dump = MitmTool("mitmdump", confdir, _record_sets(tmp_path, fake_graph), "--flow-detail", "3")
    try:
        send_mail_traffic(dump.url, dump.ca, TOKEN)
    finally:
        assert dump.stop() == 0, dump.output
    out = dump.output
    # mitmdump prints the view's text, not its name; the flow went to the stand-in, the view knew it for Graph
    assert "MIME message (base64), " in out and "Subject: Quarterly report" in out
    assert f"[1] attachment 'report.pdf': application/pdf, {len(PDF)} bytes" in out
    assert "$batch request: 2 item(s)" in out and "$batch answer: 2 item(s)" in out
    assert "[0] id 1: 201  (answers request item [0] POST /me/messages)" in out
