"""What main's features ask of the addon's hooks, in-process: the runtime hears when the proxy listens (after the
start line), a $batch with refused items goes on without them in record and gets their errors back, and upload
URLs learnt from an answer come into scope (recorded, and sent to the upstream with graphtape_upstream_uploads)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graphtape.cassette.format import load_cassette
from graphtape.model import Outcome
from graphtape.proxy.startline import parse_start_line

from .addon_support import graph_flow, graph_response, running_addon, send

CREATE = "/me/messages/AAMk%3D/attachments/createUploadSession"
SIZE, CHUNK = 4 * 1024 * 1024, 320 * 1024  # an upload session is for 3 MB or more; chunks of 320 KiB
UPLOAD = "https://outlook.office.com/api/v2.0/Users('u@contoso.com')/Messages('AAMk=')/AttachmentSessions('AAMkS=')"


def test_the_runtime_hears_the_proxy_listen_right_after_its_start_line(capsys: pytest.CaptureFixture[str]) -> None:
    heard: list[tuple[str, int, str]] = []
    with running_addon(graphtape_mode="inspect", listen_host="127.0.0.1", listen_port=18080) as (addon, _):
        addon.on_listen = lambda host, port: heard.append((host, port, capsys.readouterr().err))
        addon.running()
    [(host, port, printed)] = heard
    line = parse_start_line(printed.strip().splitlines()[-1])
    assert (host, port) == ("127.0.0.1", 18080)
    assert line is not None and (line.mode, line.host, line.port) == ("inspect", "127.0.0.1", 18080)


def _draft(ident: str, **body: object) -> dict[str, object]:
    return {"id": ident, "method": "POST", "url": "/me/messages", "headers": {"Content-Type": "application/json"},
            "body": {"subject": "Draft", **body}}


def test_record_sends_a_batch_without_its_refused_items_and_splices_their_errors_back(tmp_path: Path) -> None:
    cassette = tmp_path / "c.yaml"
    batch = {"requests": [_draft("1", subjct="typo"), _draft("2")]}
    with running_addon(graphtape_mode="record", graphtape_cassette=str(cassette),
                       graphtape_policy="enforce") as (addon, _):
        flow = graph_flow("POST", "/$batch", batch)
        addon.requestheaders(flow)
        addon.request(flow)
        assert [i["id"] for i in json.loads(flow.request.content or b"")["requests"]] == ["2"]  # only the good one
        flow.response = graph_response(200, {"responses": [{"id": "2", "status": 201, "body": {"id": "AAMk="}}]})
        addon.response(flow)
        refused = send(addon, graph_flow("POST", "/$batch", batch),  # Graph's answer is no batch answer: it stands
                       upstream=graph_response(400, {"error": {"code": "BadRequest", "message": "no"}}))
        addon.done()
    answer = json.loads(flow.response.content or b"")
    assert sorted((i["id"], i["status"]) for i in answer["responses"]) == [("1", 400), ("2", 201)]
    assert refused.response is not None and json.loads(refused.response.content or b"")["error"]["code"] == "BadRequest"
    recorded = load_cassette(cassette).interactions[0]  # the batch as the client sent it, the answer as it got it
    assert [i["id"] for i in json.loads(recorded.request.body)["requests"]] == ["1", "2"]
    assert json.loads(recorded.response.body) == answer


@pytest.mark.parametrize("uploads", [False, True])
def test_record_takes_an_upload_url_into_scope_from_graphs_answer(tmp_path: Path, uploads: bool) -> None:
    cassette = tmp_path / "c.yaml"
    with running_addon(graphtape_mode="record", graphtape_cassette=str(cassette),
                       graphtape_upstream="https://127.0.0.1:8443", graphtape_upstream_uploads=uploads) as (addon, _):
        item = {"AttachmentItem": {"attachmentType": "file", "name": "a", "size": SIZE}}
        send(addon, graph_flow("POST", CREATE, item),
             upstream=graph_response(201, {"uploadUrl": f"{UPLOAD}?authtoken=live", "nextExpectedRanges": ["0-"]}))
        chunk = send(addon, graph_flow("PUT", f"{UPLOAD}?authtoken=live", b"\0" * CHUNK,
                                       {"Content-Type": "application/octet-stream",
                                        "Content-Range": f"bytes 0-{CHUNK - 1}/{SIZE}"}),
                     upstream=graph_response(200, {"nextExpectedRanges": [f"{CHUNK}-"]}))
        addon.done()
    assert chunk.request.host == ("127.0.0.1" if uploads else "outlook.office.com")
    assert [(e.outcome, e.findings) for e in addon.session.exchanges] == [(Outcome.RECORDED, [])] * 2
    assert [i.request.method for i in load_cassette(cassette).interactions] == ["POST", "PUT"]


def test_inspect_warns_of_a_retry_sooner_than_graphs_retry_after() -> None:
    with running_addon(graphtape_mode="inspect") as (addon, _):
        send(addon, graph_flow("GET", "/me/messages"),
             upstream=graph_response(429, {"error": {"code": "TooManyRequests", "message": "slow down"}},
                                     {"Retry-After": "30"}))
        send(addon, graph_flow("GET", "/me/messages"), upstream=graph_response(200, {"value": []}))
    first, retry = addon.session.exchanges
    assert first.findings == []
    assert [(f.rule, f.severity) for f in retry.findings] == [("retry.too-soon", "warning")]
