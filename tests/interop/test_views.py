"""The views' text (pure) and mitmproxy's own contentview calls on flows: which view mitmproxy picks, what it
shows, and an edited MIME view encoded again (what mitmproxy's console does after its editor: reencode_message)."""

from __future__ import annotations

import base64
import json

import pytest
from mitmproxy import contentviews, http
from mitmproxy.test import taddons, tflow

from graphtape.proxy.addon import GraphTape
from graphtape.views.text import MESSAGE_LINE, message_of

from .mitmtools import PDF, batch_body, mime_message


def _flow(path: str, body: bytes, content_type: str, host: str = "graph.microsoft.com") -> http.HTTPFlow:
    flow = tflow.tflow(resp=True)
    flow.request.host, flow.request.port, flow.request.scheme = host, 443, "https"
    flow.request.path, flow.request.method = path, "POST"
    flow.request.headers["content-type"] = content_type
    flow.request.content = body
    return flow


@pytest.fixture
def tctx():
    with taddons.context(GraphTape()) as ctx:  # the addon registers the views when it loads
        yield ctx


def _wrapped(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n")  # 76 columns, CRLF: as some clients send


def test_a_base64_mime_body_on_graph_gets_the_mime_view(tctx):
    flow = _flow("/v1.0/me/sendMail", base64.b64encode(mime_message()), "text/plain")
    pretty = contentviews.prettify_message(flow.request, flow)
    assert pretty.view_name == "Graph-MIME"
    assert pretty.text.splitlines()[:4] == [f"MIME message (base64), {len(mime_message())} bytes decoded",
                                            "From: Alex <alex@contoso.com>", "To: Megan <megan@contoso.com>",
                                            "Subject: Quarterly report"]
    assert f"  [1] attachment 'report.pdf': application/pdf, {len(PDF)} bytes" in pretty.text.splitlines()


def test_the_same_body_off_graph_is_left_to_mitmproxys_views(tctx):
    flow = _flow("/v1.0/me/sendMail", base64.b64encode(mime_message()), "text/plain", host="example.com")
    assert contentviews.prettify_message(flow.request, flow).view_name != "Graph-MIME"


def test_an_edited_mime_view_is_encoded_again_in_the_original_layout(tctx):
    original = _wrapped(mime_message())
    flow = _flow("/v1.0/me/messages", original, "text/plain")
    pretty = contentviews.prettify_message(flow.request, flow, "Graph-MIME")
    edited = pretty.text.replace("Subject: Quarterly report", "Subject: Quarterly report (final)").replace("\r\n", "\n")
    again = contentviews.reencode_message(edited, flow.request, flow, "Graph-MIME")
    lines = again.split(b"\r\n")
    assert {len(line) for line in lines[:-2]} == {76} and lines[-1] == b"" and b"\n" not in again.replace(b"\r\n", b"")
    assert base64.b64decode(again) == mime_message().replace(b"Subject: Quarterly report",
                                                             b"Subject: Quarterly report (final)")
    unchanged = contentviews.reencode_message(pretty.text, flow.request, flow, "Graph-MIME")
    assert unchanged == original  # nothing edited: the same bytes


def test_an_edit_that_lost_the_separator_line_is_refused():
    with pytest.raises(ValueError, match="is missing from the edited view"):
        message_of("Subject: x\n\nbody", b"Subject: x\r\n\r\nbody")
    assert message_of(f"summary\n{MESSAGE_LINE}\nSubject: y\n\nbody", b"Subject: x\r\n\r\nbody") == \
        b"Subject: y\r\n\r\nbody"


def test_a_batch_request_and_its_answer_are_shown_item_by_item(tctx):
    flow = _flow("/v1.0/$batch", json.dumps(batch_body()).encode(), "application/json")
    assert flow.response is not None
    flow.response.headers["content-type"] = "application/json"
    flow.response.content = json.dumps({"responses": [{"id": "2", "status": 202, "body": None},
                                                      {"id": "1", "status": 201, "body": {"id": "AAMk1"}}]}).encode()
    asked = contentviews.prettify_message(flow.request, flow)
    answer = contentviews.prettify_message(flow.response, flow)
    assert asked.view_name == answer.view_name == "Graph-batch"
    assert asked.text.splitlines()[0] == "$batch request: 2 item(s)"
    assert "        Subject: Batched MIME" in asked.text.splitlines()
    assert answer.text.splitlines()[:2] == ["$batch answer: 2 item(s)",
                                            "[0] id 2: 202  (answers request item [1] POST /me/sendMail)"]
    assert '          "id": "AAMk1"' in answer.text.splitlines()


def test_a_json_body_that_is_no_batch_keeps_the_json_view(tctx):
    flow = _flow("/v1.0/$batch", b'{"value": []}', "application/json")
    assert contentviews.prettify_message(flow.request, flow).view_name == "JSON"
