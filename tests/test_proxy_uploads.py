"""Upload sessions through the real proxy: createUploadSession on Graph, chunk PUTs on the uploadUrl's host.

Recorded against the stand-in (its uploadUrl names outlook.office.com, routed to it by --upstream-uploads),
then replayed offline with the stand-in stopped: the same answers, each chunk matched by URL and range.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest
import requests
from dev.uploads import CHUNK, MB, sdk_upload, upload_plain

from conftest import TOKEN, sdk_call
from graphtape.cassette.format import load_cassette
from graphtape.model import header

SIZE = 10 * MB


def record_args(cassette: Path, graph) -> list[str]:
    return ["record", str(cassette), "--upstream", graph.url, "--upstream-ca", str(graph.cert), "--upstream-uploads"]


def httpx_upload(p, data: bytes):
    with httpx.Client(proxy=p.url, verify=str(p.ca), timeout=60) as c:
        return upload_plain(c.post, lambda url, data, headers: c.put(url, content=data, headers=headers), data)


def report(path: Path) -> dict:
    return json.loads(path.read_text())


def test_a_plain_client_uploads_through_record_and_replays_offline(tmp_path: Path, proxy, fake_graph) -> None:
    data = os.urandom(SIZE)
    cassette = tmp_path / "upload.yaml"
    rec = proxy(*record_args(cassette, fake_graph))
    live = httpx_upload(rec, data)
    assert rec.stop() == 0, rec.output
    assert [a.status for a in live] == [201, 200, 200, 201]
    assert live[1].body["nextExpectedRanges"] == ["4194304"] and live[3].location.endswith("')")
    assert fake_graph.state.uploads.received_bytes == SIZE  # the stand-in got every byte, through the proxy
    token = next(iter(fake_graph.state.uploads.sessions.values())).token
    assert token not in rec.stderr  # nor in any log line
    fake_graph.stop()

    text = cassette.read_text()
    assert token not in text and "authtoken=<redacted>" in text and TOKEN not in text
    assert len(text) < 20_000  # 10 MB of chunks kept as digests
    chunks = load_cassette(cassette).interactions[1:]
    assert [(i.request.method, dict(i.request.headers)["Content-Range"]) for i in chunks] == [
        ("PUT", "bytes 0-4194303/10485760"), ("PUT", "bytes 4194304-8388607/10485760"),
        ("PUT", "bytes 8388608-10485759/10485760")]
    assert [i.request.body_digest.size for i in chunks if i.request.body_digest] == [CHUNK, CHUNK, 2 * MB]

    out = tmp_path / "replay.json"
    rep = proxy("replay", str(cassette), "--report", str(out))
    replayed = httpx_upload(rep, data)
    assert rep.stop() == 0, rep.output
    assert replayed[1:] == live[1:]  # stand-in stopped: every answer came from the cassette
    assert replayed[0].body["uploadUrl"] == live[0].body["uploadUrl"].replace(token, "<redacted>")
    summary = report(out)["summary"]
    assert (summary["matched"], summary["deviations"], summary["unused_interactions"]) == (4, 0, [])
    assert token not in rep.stderr


def test_replay_holds_chunks_to_the_recording_and_the_contract(tmp_path: Path, proxy, fake_graph) -> None:
    data = os.urandom(SIZE)
    cassette = tmp_path / "upload.yaml"
    rec = proxy(*record_args(cassette, fake_graph))
    httpx_upload(rec, data)
    assert rec.stop() == 0, rec.output
    fake_graph.stop()

    out = tmp_path / "replay.json"
    rep = proxy("replay", str(cassette), "--report", str(out))
    with requests.Session() as s:  # another client: requests
        s.trust_env = False  # the environment's REQUESTS_CA_BUNDLE would win over verify
        s.proxies, s.verify = {"https": rep.url}, str(rep.ca)
        created = s.post("https://graph.microsoft.com/v1.0/me/messages/AAMkAGRWAAAFSmKXAAA=/attachments/"
                         "createUploadSession", json={"AttachmentItem": {"attachmentType": "file", "name": "r",
                                                                         "size": SIZE}}).json()
        url = created["uploadUrl"]
        skipped = s.put(url, data=data[CHUNK:2 * CHUNK], headers={
            "Content-Range": f"bytes {CHUNK}-{2 * CHUNK - 1}/{SIZE}", "Content-Type": "application/octet-stream"})
        changed = bytes([data[0] ^ 1]) + data[1:CHUNK]
        first = s.put(url, data=changed, headers={
            "Content-Range": f"bytes 0-{CHUNK - 1}/{SIZE}", "Content-Type": "application/octet-stream"})
    rep.stop()
    assert skipped.status_code == 416
    assert skipped.json()["error"] == {"code": "invalidRange", "message": "Uploaded fragment is out of order."}
    assert first.status_code == 200 and first.json()["nextExpectedRanges"] == ["4194304"]
    requests_made = report(out)["requests"]
    assert [r["outcome"] for r in requests_made] == ["matched", "rejected", "matched"]
    assert [d["path"] for d in requests_made[2]["deviations"]] == ["body.sha256"]


def test_the_stand_in_answers_a_broken_chunk_as_graph_does(tmp_path: Path, proxy, fake_graph) -> None:
    """Recorded as it came: graphtape reports the finding, and the stand-in refuses as enforce would."""
    cassette = tmp_path / "upload.yaml"
    rec = proxy(*record_args(cassette, fake_graph))
    with httpx.Client(proxy=rec.url, verify=str(rec.ca)) as c:
        url = c.post("https://graph.microsoft.com/v1.0/me/messages/AAMkAGRWAAAFSmKXAAA%3D/attachments/createUploadSession",
                     json={"AttachmentItem": {"attachmentType": "file", "name": "r", "size": SIZE}}).json()["uploadUrl"]
        big = c.put(url, content=b"\0" * (CHUNK + 1), headers={"Content-Range": f"bytes 0-{CHUNK}/{SIZE}",
                                                               "Content-Type": "application/octet-stream"})
        cancel = c.delete(url)
    rec.stop()
    assert (big.status_code, big.json()["error"]["code"]) == (413, "RequestEntityTooLarge")
    assert cancel.status_code == 204
    assert "upload.chunk-too-large" in rec.stderr
    assert [i.response.status for i in load_cassette(cassette).interactions] == [201, 413, 204]


# msgraph-core 1.5.2's LargeFileUploadTask against each form of nextExpectedRanges: Outlook's own ("N", the
# stand-in's default) and the two others the uploadSession type allows ("N-", "N-M"). What it does live
# against the stand-in, it does offline against the recording, exchange for exchange.
SDK_CASES = [
    pytest.param("outlook", CHUNK, ["bytes 0-4194303/10485760"], "raised ValueError: invalid literal for int() "
                 "with base 10: ''", id="N-stops-after-the-first-chunk"),
    pytest.param("open", CHUNK, ["bytes 0-4194303/10485760"], "raised ValueError: invalid literal for int() "
                 "with base 10: ''", id="N-dash-stops-after-the-first-chunk"),
    pytest.param("closed", CHUNK - 1, ["bytes 0-4194302/10485760", "bytes 4194303-8388606/10485760",
                                       "bytes 8388607-10485759/10485760", "bytes 8388607-10485759/10485760"],
                 "raised APIError", id="N-M-resends-the-last-chunk"),
    pytest.param("closed", CHUNK, ["bytes 0-4194303/10485760", *["bytes 4194304-8388608/10485760"] * 4],
                 "raised APIError", id="N-M-sends-4-MB-and-1-byte"),
]


@pytest.mark.parametrize(("style", "step", "ranges", "outcome"), SDK_CASES)
def test_the_sdks_large_file_upload_task_does_offline_what_it_does_live(
        tmp_path: Path, proxy, fake_graph, style: str, step: int, ranges: list[str], outcome: str) -> None:
    fake_graph.state.uploads.range_style = style
    data = os.urandom(SIZE)
    cassette = tmp_path / "sdk.yaml"
    rec = proxy(*record_args(cassette, fake_graph), "--report", str(tmp_path / "rec.json"))
    live = sdk_call(rec, lambda client: sdk_upload(client, data, step=step))
    rec.stop()
    fake_graph.stop()
    assert live.startswith(outcome), live
    recorded = load_cassette(cassette).interactions
    assert [header(i.request.headers, "content-range") for i in recorded[1:]] == ranges
    assert "Bearer" not in cassette.read_text()  # the SDK sends its Graph token to the upload host: redacted

    out = tmp_path / "replay.json"
    rep = proxy("replay", str(cassette), "--report", str(out))
    offline = sdk_call(rep, lambda client: sdk_upload(client, data, step=step))
    rep.stop()
    assert offline == live
    requests_made = report(out)["requests"]
    assert [(r["method"], r["status"]) for r in requests_made] == [
        (i.request.method, i.response.status) for i in recorded]
    assert all(r["deviations"] == [] for r in requests_made)
    warned = {f["rule"] for r in requests_made for f in r["findings"]}
    assert "upload.authorization" in warned
