"""bodies.decode_base64_mime remembers the last bodies it decoded, by identity: replay decodes one request's
body to check it, to match it and to diff it. What it returns must not depend on what it remembers."""

from __future__ import annotations

import base64

from hypothesis import given, settings
from hypothesis import strategies as st

from graphtape.bodies import kinds as bodies


def test_the_same_body_is_decoded_once_and_an_equal_one_anew() -> None:
    body = base64.encodebytes(b"From: a@contoso.com\r\nTo: b@contoso.com\r\n\r\nhi\r\n")
    first = bodies.decode_base64_mime(body)
    assert first is not None and bodies.decode_base64_mime(body) is first  # remembered
    twin = bytes(bytearray(body))
    assert twin is not body
    again = bodies.decode_base64_mime(twin)
    assert again == first and again is not first  # an equal body is decoded, not looked up by value


def test_a_request_then_its_recording_then_the_request_again_is_remembered() -> None:
    request, recorded = base64.encodebytes(b"To: a@b.c\r\n\r\nx"), base64.encodebytes(b"To: a@b.c\r\n\r\ny")
    decoded = bodies.decode_base64_mime(request)
    bodies.decode_base64_mime(recorded)
    assert bodies.decode_base64_mime(request) is decoded


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=40) | st.binary(max_size=30).map(base64.encodebytes), min_size=1, max_size=6))
def test_answers_do_not_depend_on_what_was_decoded_before(items: list[bytes]) -> None:
    for body in items + items[::-1]:
        assert bodies.decode_base64_mime(body) == bodies._decode_base64_mime(body)
