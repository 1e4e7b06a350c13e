"""The stand-in answers every body on every route in Graph's shape: it never crashes, never drops the connection."""

from __future__ import annotations

import json
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphtape.contract import RULES
from graphtape.testing.fakegraph import FakeGraph

PATHS = [
    "/v1.0/me/sendMail",
    "/v1.0/me/messages",
    "/beta/users/megan@contoso.com/mailFolders/drafts/messages",
    "/v1.0/me/messages/AAMkAGRWAAAFSmKXAAA=/send",
    "/v1.0/me/messages/AAMkAGRWAAAFSmKXAAA=/createReply",
    "/v1.0/me/messages/AAMkAGRWAAAFSmKXAAA=/forward",
    "/v1.0/me/messages/AAMkAGRWAAAFSmKXAAA=/attachments",
    "/v1.0/me/nowhere",
]

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
# Objects shaped like what the stand-in reads, each field any JSON value.
FIELDS = st.fixed_dictionaries({}, optional={k: JSON for k in ("subject", "importance", "body", "toRecipients",
                                                                "ccRecipients", "contentBytes", "name")})
BODIES = JSON | FIELDS | st.builds(lambda f: {"message": f}, FIELDS | JSON) | st.builds(lambda f: {"Message": f}, JSON)


@pytest.fixture(scope="module")
def graph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeGraph]:
    with FakeGraph(tmp_path_factory.mktemp("fakegraph-fuzz")) as g:
        yield g


@pytest.fixture(scope="module")
def client(graph: FakeGraph) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=graph.url, verify=str(graph.cert), timeout=10) as c:
        yield c


def _graph_shaped(r: httpx.Response) -> Any:
    assert r.status_code in (201, 202, 400, 404, 413, 501), (r.status_code, r.text)
    if r.status_code == 202:
        assert r.content == b""
        return None
    assert r.headers["content-type"].startswith("application/json"), r.headers
    doc = r.json()
    assert isinstance(doc, dict)
    if r.status_code >= 400:
        assert isinstance(doc["error"]["code"], str) and isinstance(doc["error"]["message"], str), doc
    if r.status_code == 501:  # an endpoint the simulator does not simulate says so, never a silent success
        assert doc["error"]["code"] == "graphtape.NotSimulated", doc
    return doc


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(PATHS), body=BODIES)
def test_any_json_value_gets_a_graph_shaped_answer(client: httpx.Client, path: str, body: Any) -> None:
    _graph_shaped(client.post(path, content=json.dumps(body), headers={"Content-Type": "application/json"}))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(PATHS), body=st.binary(max_size=64),
       ctype=st.sampled_from(["application/json", "text/plain", "application/json; charset=utf-16", ""]))
def test_any_bytes_get_a_graph_shaped_answer(client: httpx.Client, path: str, body: bytes, ctype: str) -> None:
    _graph_shaped(client.post(path, content=body, headers={"Content-Type": ctype} if ctype else {}))


def test_null_to_send_is_graphs_400(client: httpx.Client) -> None:
    # send takes no body at all: the contract's send.no-body answers it (before the stand-in reads the JSON)
    r = client.post(PATHS[3], content=b"null", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == RULES["send.no-body"].code
    r = client.post(PATHS[1], content=b"null", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "RequestBodyRead"


def test_deep_nesting_and_other_methods_are_answered(client: httpx.Client) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    _graph_shaped(client.post(PATHS[0], content=deep, headers={"Content-Type": "application/json"}))
    for method in ("PATCH", "PUT", "DELETE"):
        _graph_shaped(client.request(method, PATHS[1]))
    listed = client.get(PATHS[1])  # a read the stand-in serves (fakegraph_reads)
    assert listed.status_code == 200 and isinstance(listed.json()["value"], list)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("length", ["-5", "abc", "99999999999999999999"])
def test_a_bad_content_length_is_answered_not_waited_on(graph: FakeGraph, length: str) -> None:
    host, port = graph.url.removeprefix("https://").split(":")
    ctx = ssl.create_default_context(cafile=str(Path(graph.cert)))
    with socket.create_connection((host, int(port)), timeout=10) as raw, \
            ctx.wrap_socket(raw, server_hostname=host) as s:
        s.sendall(f"POST {PATHS[0]} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  f"Content-Length: {length}\r\nConnection: close\r\n\r\n{{}}".encode())
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400"), answer
    assert json.loads(body)["error"]["code"], answer
