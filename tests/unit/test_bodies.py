"""A request's parsed view (HttpRequest.json, .mime_bytes, .graph_url) parses its body once and keeps it on the
request; nothing is remembered process-wide. What it returns is what the plain parsers return."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphtape.bodies import kinds as bodies
from graphtape.model import HttpRequest

URL = "https://graph.microsoft.com/v1.0/me/sendMail"


def test_a_request_decodes_its_body_once_and_an_equal_request_anew() -> None:
    body = base64.encodebytes(b"From: a@contoso.com\r\nTo: b@contoso.com\r\n\r\nhi\r\n")
    req = HttpRequest("POST", URL, [("Content-Type", "text/plain")], body)
    first = req.mime_bytes
    assert first == b"From: a@contoso.com\r\nTo: b@contoso.com\r\n\r\nhi\r\n"
    assert req.mime_bytes is first  # kept on the request
    twin = HttpRequest("POST", URL, [("Content-Type", "text/plain")], body)
    again = twin.mime_bytes
    assert again == first and again is not first  # another request: its own decoding, nothing process-wide
    assert twin == req  # the view takes no part in equality


def test_nothing_is_remembered_process_wide() -> None:
    assert not hasattr(bodies, "_recent_decoded")
    body = base64.encodebytes(b"To: a@b.c\r\n\r\nx")
    assert bodies.decode_base64_mime(body) is not bodies.decode_base64_mime(body)


def test_json_view_keeps_value_and_repeated_keys() -> None:
    req = HttpRequest("POST", URL, [("Content-Type", "application/json")],
                      b'{"a": 1, "a": 2, "b": [{"c": 1, "c": 3}], "d": {"e": {}}}')
    parsed = req.json
    assert parsed.ok and parsed.value == {"a": 2, "b": [{"c": 3}], "d": {"e": {}}}
    assert type(parsed.value) is dict and type(parsed.value["b"][0]) is dict  # plain values, as json gives
    assert parsed.repeated == (((), "a"), (("b", 0), "c"))
    assert req.json is parsed


def test_an_overwritten_object_with_repeated_keys_is_not_reported_for_another() -> None:
    # the first "a" (with a repeated key) is dropped by "last wins"; the objects built after it must not inherit
    parsed = bodies.parse_json_body(b'{"a": {"x": 1, "x": 2}, "a": 0, "b": {"y": 1}, "c": [{}, {}, {}]}')
    assert parsed.value == {"a": 0, "b": {"y": 1}, "c": [{}, {}, {}]}
    assert parsed.repeated == (((), "a"),)  # the dropped object's "x" is gone with it, as before


def test_json_view_of_bad_json_keeps_the_error() -> None:
    parsed = HttpRequest("POST", URL, [], b"{bad").json
    assert not parsed.ok and isinstance(parsed.error, ValueError) and parsed.value is None
    deep = bodies.parse_json_body(b"[" * 100_000 + b"]" * 100_000)
    assert isinstance(deep.error, RecursionError)


def test_graph_url_and_key_are_parsed_from_the_url() -> None:
    req = HttpRequest("post", "https://graph.microsoft.com/v1.0//me/messages?$top=5&$select=a", [], b"")
    assert req.graph_url is not None and req.graph_url.resource == "/me/messages"
    assert req.key == "POST /v1.0/me/messages?$select=a&$top=5"
    outside = HttpRequest("GET", "https://Example.com//a?y=2&x=1", [], b"")
    assert outside.graph_url is None and outside.key == "GET https://example.com/a?x=1&y=2"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40) | st.binary(max_size=30).map(base64.encodebytes))
def test_base64_view_is_the_decoder(body: bytes) -> None:
    # the decoder itself is checked against the plain definition in tests/diffing/test_robustness.py
    assert HttpRequest("POST", URL, [], body).mime_bytes == bodies.decode_base64_mime(body)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_json_view_equals_json_loads(value: object) -> None:
    body = json.dumps(value).encode()
    parsed = bodies.parse_json_body(body)
    assert parsed.ok and parsed.value == json.loads(body) and parsed.repeated == ()


@pytest.mark.parametrize("body", [b"\xef\xbb\xbf{}", b"{}"])
def test_a_byte_order_mark_is_read_as_utf8(body: bytes) -> None:
    assert bodies.parse_json_body(body).value == {}
