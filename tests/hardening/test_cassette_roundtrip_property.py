"""The cassette writer and reader round trip: whatever the Recorder writes, the reader loads back equal.

Through the very functions the Recorder uses (``interaction_to_data`` -> ``interaction_chunk`` ->
``render_head`` / ``assemble`` -> ``parse_cassette``), over arbitrary interactions and arbitrary text:
trailing newlines, whitespace-only lines, ``...`` and ``---`` lines, tabs, CR, NUL, NEL, non-BMP
characters (lone surrogates cannot be UTF-8, so they are left out).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphtape.cassette.format import (
    UnwritableInteraction,
    assemble,
    interaction_chunk,
    interaction_to_data,
    parse_cassette,
    render_head,
)
from graphtape.model import HttpRequest, HttpResponse, Interaction

# Fragments that have broken YAML writers: block-scalar chomping, document markers, odd line breaks.
_TRICKY = ["\n", "\n\n", "\n\n\n", " ", "  \n", "\t", "\t\n", "\r", "\r\n", "\x00", "\x85", "\u2028", "\u2029",
           "\ufeff", "...", "---", "\n...\n", "\n---\n", "# ", ": ", "- ", "|", ">", "'", '"', "\\", "&a", "*a",
           "!!binary", "2017-12-23T07:29:57Z", "null", "~", "yes", "0x1F", "1e3", "\U0001f600", "\ue009", "é"]
_CHARS = st.characters(exclude_categories=["Cs"])
TEXT = st.lists(st.one_of(st.sampled_from(_TRICKY), st.text(_CHARS, max_size=50)), max_size=12).map("".join)
TOKEN = st.text("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1,
                max_size=20)
# a header value as it can reach the recorder: no CR, LF or NUL (mitmproxy decodes undecodable bytes as Latin-1)
HEADER_VALUE = TEXT.map(lambda s: s.replace("\r", "").replace("\n", "").replace("\x00", ""))
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)


def _mime(text: str, wrap: int, crlf: bool) -> bytes:
    message = f"From: a@contoso.com\nTo: b@contoso.com\nSubject: {text[:20]!r}\n\n{text}".encode()
    b64 = base64.b64encode(message).decode()
    lines = [b64[i:i + wrap] for i in range(0, len(b64), wrap)] if wrap else [b64]
    return ("\r\n" if crlf else "\n").join(lines).encode() + (b"\n" if wrap else b"")


_BATCH_ITEM = st.builds(
    lambda n, body: {"id": str(n), "method": "POST", "url": "/me/sendMail",
                     "headers": {"Content-Type": "text/plain"}, "body": body},
    st.integers(0, 20),
    st.one_of(st.tuples(TEXT, st.sampled_from([0, 64, 76]), st.booleans()).map(lambda t: _mime(*t).decode()),
              TEXT, st.none()),
)
BODY = st.one_of(
    st.just((b"", "")),
    st.tuples(st.sampled_from(["requests", "responses"]), st.lists(_BATCH_ITEM, max_size=3)).map(  # $batch MIME items
        lambda b: (json.dumps({b[0]: b[1]}, separators=(",", ":"), ensure_ascii=False).encode(), "application/json")),
    st.tuples(JSON, st.sampled_from([(",", ":"), (", ", ": ")])).map(
        lambda js: (json.dumps(js[0], separators=js[1], ensure_ascii=False).encode(), "application/json")),
    st.tuples(TEXT, st.sampled_from([0, 64, 76]), st.booleans()).map(lambda t: (_mime(*t), "text/plain")),
    TEXT.map(lambda s: (s.encode(), "text/html")),
    st.binary(max_size=64).map(lambda b: (b, "application/octet-stream")),
)
HEADERS = st.lists(st.tuples(TOKEN, HEADER_VALUE), max_size=4)
URL = st.text(_CHARS, max_size=30).map(lambda s: "https://graph.microsoft.com/v1.0/me/" + s.encode().hex())
REASON = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f\x85"), max_size=20)


@st.composite
def interactions(draw: st.DrawFn) -> Interaction:
    req_body, req_type = draw(BODY)
    resp_body, resp_type = draw(BODY)
    req_headers = [("Content-Type", req_type)] if req_type else []
    resp_headers = [("Content-Type", resp_type)] if resp_type else []
    return Interaction(
        request=HttpRequest(draw(TOKEN).upper(), draw(URL), req_headers + draw(HEADERS), req_body),
        response=HttpResponse(draw(st.integers(100, 599)), draw(REASON), resp_headers + draw(HEADERS), resp_body,
                              body_as_sent=bool(resp_body) and draw(st.booleans())),
        recorded_at=draw(TEXT),
        duration_ms=draw(st.none() | st.floats(0, 1e6).map(lambda f: round(f, 1))),
    )


META = st.fixed_dictionaries({"created": TEXT, "graphtape_version": TEXT},
                             optional={"ignore": st.lists(TEXT, max_size=3), "appended": TEXT})


def _write_and_load(items: list[Interaction], meta: dict[str, object]) -> tuple[list[Interaction], dict[str, object]]:
    chunks = [interaction_chunk(interaction_to_data(i)).encode() for i in items]
    text = b"".join(assemble(render_head(meta), chunks)).decode()
    loaded = parse_cassette(Path("prop.yaml"), text)
    return loaded.interactions, loaded.meta


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(st.lists(interactions(), max_size=4), META)
def test_whatever_the_recorder_writes_loads_back_equal(items, meta):
    assert _write_and_load(items, meta) == (items, meta)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(st.lists(TEXT, min_size=1, max_size=3))
def test_any_body_text_round_trips_in_every_position_of_the_file(texts):
    """Each text as a body in the first, a middle and the last interaction (where the end line follows)."""
    items = [Interaction(HttpRequest("POST", "https://graph.microsoft.com/v1.0/me/sendMail",
                                     [("Content-Type", "text/plain")], t.encode()),
                         HttpResponse(202, "Accepted", [("X-Note", "n")], t.encode()))
             for t in [*texts, *texts]]
    assert _write_and_load(items, {"created": "now"})[0] == items


def test_a_sendmail_mime_ending_in_a_blank_line_round_trips_twice_in_one_file():
    """The recording that used to fail with 'did not find expected <document start>'."""
    mime = base64.encodebytes(b"From: a@contoso.com\nTo: b@contoso.com\nSubject: Hello there\n\n"
                              b"Hello, this is a longer body of more than forty characters.\n\n")
    item = Interaction(HttpRequest("POST", "https://graph.microsoft.com/v1.0/me/sendMail",
                                   [("Content-Type", "text/plain")], mime), HttpResponse(202, "Accepted"))
    assert _write_and_load([item, item], {"created": "now"})[0] == [item, item]


@pytest.mark.parametrize("interaction", [
    Interaction(HttpRequest("GET", "https://graph.microsoft.com/v1.0/me"),
                HttpResponse(200, "OK", [("X-Note", "a\r\nSet-Cookie: injected=1")])),
    Interaction(HttpRequest("GET", "https://graph.microsoft.com/v1.0/me", [("Bad Name", "x")]), HttpResponse(200)),
    Interaction(HttpRequest("GET", "https://graph.microsoft.com/v1.0/me"), HttpResponse(200, "OK\x00")),
    Interaction(HttpRequest("G T", "https://graph.microsoft.com/v1.0/me"), HttpResponse(200)),
    Interaction(HttpRequest("GET", "https://graph.microsoft.com/v1.0/\nme"), HttpResponse(200)),
], ids=["crlf-in-header", "space-in-name", "nul-in-reason", "bad-method", "lf-in-url"])
def test_what_the_reader_would_refuse_is_never_written(interaction):
    with pytest.raises(UnwritableInteraction, match="cannot be recorded"):
        interaction_to_data(interaction)
