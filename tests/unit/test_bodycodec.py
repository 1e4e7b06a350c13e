"""bodycodec: every body written to a cassette comes back byte for byte, in the most readable form."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphtape.cassette.bodycodec import BodyFormatError, BodyNode, decode_body, encode_base64_layout, encode_body
from graphtape.cassette.format import load_cassette, save_cassette
from graphtape.model import HttpRequest, HttpResponse, Interaction

MIME = (
    b"From: Alex Wilber <AlexW@contoso.com>\r\n"
    b"To: Megan Bowen <MeganB@contoso.com>\r\n"
    b"Subject: Internal Resume Submission: Sales Associate\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=\"utf-8\"\r\n"
    b"\r\n"
    b"Hi, Megan.\r\n\r\nI have an interest in the Sales Associate position. Please consider my resume, "
    b"which you can access here... Caf\xc3\xa9.\r\n\r\nBest Regards,\r\nAlex\r\n"
)
B64 = base64.b64encode(MIME)


def body_kind(node: BodyNode) -> str:
    """The layout ``encode_body`` chose: ``json``, ``mime``, ``text``, ``base64`` or ``empty``."""
    if not node:
        return "empty"
    return next((kind for kind in ("json", "mime", "text", "base64") if kind in node), "unknown")


def wrapped(data: bytes, width: int, newline: bytes, final: bool) -> bytes:
    lines = [data[i : i + width] for i in range(0, len(data), width)]
    return newline.join(lines) + (newline if final else b"")


def roundtrip(body: bytes, content_type: str) -> bytes:
    return decode_body(encode_body(body, content_type))


# --------------------------------------------------------------------------- JSON


@pytest.mark.parametrize(
    ("body", "style"),
    [
        (b'{"subject":"Hi","toRecipients":[{"emailAddress":{"address":"a@contoso.com"}}]}', "compact"),
        (b'{"subject": "Hi", "isRead": false, "n": 1.5, "x": null}', "spaced"),
        (b'{"subject":"Caf\\u00e9"}', "compact-ascii"),
        ('{"subject": "Café"}'.encode(), "spaced"),
        (b'{\n  "a": [\n    1,\n    2\n  ]\n}', "indent2"),
        (b"[1,2,3]", "compact"),
    ],
)
def test_json_round_trips_in_its_style(body: bytes, style: str) -> None:
    node = encode_body(body, "application/json; charset=utf-8")
    assert node is not None
    assert node["style"] == style
    assert "json" in node
    assert decode_body(node) == body


def test_json_value_is_stored_parsed() -> None:
    node = encode_body(b'{"Message":{"subject":"Hi"},"SaveToSentItems":false}', "application/json")
    assert node == {"json": {"Message": {"subject": "Hi"}, "SaveToSentItems": False}, "style": "compact"}


@pytest.mark.parametrize(
    "body",
    [
        b'{"a":1,  "b":2}',  # odd whitespace
        b'{"a" : 1}',
        b'{"a":1,"a":2}',  # duplicate keys: parsing would lose one
        b'{"n":1.00}',  # 1.00 would come back as 1.0
        b'{"n":1E5}',  # 1E5 comes back as 100000.0
        b'{"a":1}\n',  # trailing newline
        b'\xef\xbb\xbf{"a":1}',  # BOM
    ],
)
def test_json_that_would_not_round_trip_falls_back(body: bytes) -> None:
    node = encode_body(body, "application/json")
    assert node is not None
    assert "json" not in node
    assert decode_body(node) == body


def test_json_float_and_int_stay_distinct() -> None:
    for body in (b'{"n":1.0}', b'{"n":1}'):
        node = encode_body(body, "application/json")
        assert node is not None and "json" in node
        assert decode_body(node) == body


def test_json_looking_body_without_json_type_still_stored_as_json() -> None:
    node = encode_body(b'{"a":1}', "")
    assert body_kind(node) == "json"


def test_deeply_nested_json_is_not_stored_as_yaml_tree(tmp_path: Path) -> None:
    # A tree too deep for YAML's recursive loader must stay loadable: stored as text instead.
    body = b"[" * 400 + b"]" * 400
    node = encode_body(body, "application/json")
    assert body_kind(node) != "json"
    assert decode_body(node) == body
    save_cassette(tmp_path / "c.yaml", [_interaction(body, "application/json")])
    assert load_cassette(tmp_path / "c.yaml").interactions[0].request.body == body


# --------------------------------------------------------------------------- MIME


@pytest.mark.parametrize("newline", [b"\n", b"\r\n"])
@pytest.mark.parametrize("final", [True, False])
@pytest.mark.parametrize("width", [0, 76, 64])
def test_base64_mime_stored_decoded(newline: bytes, final: bool, width: int) -> None:
    body = B64 + (newline if final else b"") if width == 0 else wrapped(B64, width, newline, final)
    node = encode_body(body, "text/plain")
    assert node is not None
    assert body_kind(node) == "mime"
    assert node["mime"] == MIME.decode("utf-8")
    assert node["wrap"] == width
    assert node["final_newline"] is final
    if width:
        assert node["newline"] == {b"\n": "lf", b"\r\n": "crlf"}[newline]
    assert decode_body(node) == body


def test_base64_mime_with_odd_wrap_width_round_trips() -> None:
    # Line-wrapped base64 decodes whatever the width; a width that is not a multiple of 4 is still a layout.
    body = wrapped(B64, 75, b"\n", False)
    node = encode_body(body, "text/plain")
    assert node is not None
    assert decode_body(node) == body


def test_base64_mime_with_no_content_type_is_recognised() -> None:
    assert body_kind(encode_body(B64, "")) == "mime"


def test_base64_mime_not_recognised_for_json_type() -> None:
    node = encode_body(B64, "application/octet-stream")
    assert body_kind(node) == "text"
    assert decode_body(node) == B64


@pytest.mark.parametrize(
    "body",
    [
        base64.b64encode(b"\x00\x01\x02 not a message at all"),  # base64, not RFC 5322
        base64.b64encode(b"Just some words with no header line"),
        base64.b64encode(b"Subject: latin-1 \xe9\r\n\r\nbody"),  # RFC 5322 but not UTF-8
        wrapped(B64, 76, b"\n", False).replace(b"\n", b"\r\n", 1),  # mixed newlines
        wrapped(B64, 76, b"\n", False) + b"\n\n",  # two final newlines
        b" " + B64,  # leading space
        B64[:-4] + b"====",  # not valid base64
    ],
)
def test_base64_that_is_not_a_regular_mime_layout_falls_back(body: bytes) -> None:
    node = encode_body(body, "text/plain")
    assert body_kind(node) in ("text", "base64")
    assert decode_body(node) == body


def test_encode_base64_layout_matches_stdlib_mime_wrapping() -> None:
    assert encode_base64_layout(MIME, 76, "\n", True) == base64.encodebytes(MIME)


# --------------------------------------------------------------------------- text, binary, empty


def test_text_body() -> None:
    node = encode_body("plain text, café\r\nsecond line\n".encode(), "text/plain")
    assert node == {"text": "plain text, café\r\nsecond line\n"}
    assert decode_body(node) == "plain text, café\r\nsecond line\n".encode()


@pytest.mark.parametrize("body", [b"\xff\xfe\x00binary", bytes(range(256)), b"a\x00b", "\ufeffbom".encode()])
def test_binary_and_control_characters_go_base64(body: bytes) -> None:
    node = encode_body(body, "application/octet-stream")
    assert body_kind(node) == "base64"
    assert decode_body(node) == body


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", ""])
def test_empty_body_is_none(content_type: str) -> None:
    assert encode_body(b"", content_type) is None
    assert decode_body(None) == b""
    assert body_kind(None) == "empty"


# --------------------------------------------------------------------------- bad nodes


@pytest.mark.parametrize(
    ("node", "words"),
    [
        ("a string", "must be a mapping"),
        (["json"], "must be a mapping"),
        ({"yaml": 1}, "unknown body form ['yaml']"),
        ({}, "unknown body form"),
        ({"json": {}, "style": "pretty"}, "unknown JSON style 'pretty'"),
        ({"text": 12}, "body.text must be a string"),
        ({"base64": "not base64!"}, "body.base64 is not valid base64"),
        ({"mime": 5}, "body.mime must be a string"),
        ({"mime": "Subject: x\n\nhi", "encoding": "quoted-printable"}, "body.encoding 'quoted-printable'"),
        ({"mime": "Subject: x\n\nhi", "wrap": -4}, "body.wrap"),
        ({"mime": "Subject: x\n\nhi", "wrap": "76"}, "body.wrap"),
        ({"mime": "Subject: x\n\nhi", "newline": "\n"}, "body.newline must be lf or crlf"),
        ({"mime": "Subject: x\n\nhi", "newline": "cr"}, "body.newline must be lf or crlf, not 'cr'"),
    ],
)
def test_bad_nodes_raise_body_format_error(node: object, words: str) -> None:
    with pytest.raises(BodyFormatError) as info:
        decode_body(node)
    assert words in str(info.value)


def test_body_format_error_is_a_value_error() -> None:
    assert issubclass(BodyFormatError, ValueError)


# --------------------------------------------------------------------------- properties

CONTENT_TYPES = st.sampled_from(
    ["application/json", "application/json; charset=utf-8", "text/plain", "application/octet-stream", "",
     "text/html"]
)


def _json_texts() -> st.SearchStrategy[bytes]:
    values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4),
        max_leaves=12,
    )
    separators = st.sampled_from([(",", ":"), (", ", ": ")])
    return st.builds(
        lambda v, sep, asc: json.dumps(v, separators=sep, ensure_ascii=asc).encode("utf-8"),
        values, separators, st.booleans(),
    )


def _mime_bodies() -> st.SearchStrategy[bytes]:
    message = st.builds(
        lambda subject, text: f"Subject: {subject}\r\nTo: a@contoso.com\r\n\r\n{text}".encode(),
        st.text(max_size=20).map(lambda s: s.replace("\r", "").replace("\n", "")), st.text(max_size=200),
    )
    return st.builds(
        lambda m, width, nl, final: encode_base64_layout(m, width, nl, final),
        message, st.sampled_from([0, 4, 64, 72, 76, 75]), st.sampled_from(["\n", "\r\n"]), st.booleans(),
    )


def _batch_bodies() -> st.SearchStrategy[bytes]:
    """$batch requests and answers whose items carry base64 MIME (stored lifted), JSON or other strings."""
    item_body = st.one_of(_mime_bodies().map(bytes.decode), st.text(max_size=40), st.none(),
                          st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=2))
    item = st.builds(lambda i, b, extra: {"id": str(i), "method": "POST", "url": "/me/sendMail",
                                          "headers": {"Content-Type": "text/plain"}, "body": b, **extra},
                     st.integers(0, 30), item_body, st.sampled_from([{}, {"dependsOn": ["1"]}]))
    doc = st.builds(lambda key, items: {key: items}, st.sampled_from(["requests", "responses"]),
                    st.lists(item, max_size=4))
    separators = st.sampled_from([(",", ":"), (", ", ": ")])
    return st.builds(lambda d, sep, asc: json.dumps(d, separators=sep, ensure_ascii=asc).encode("utf-8"),
                     doc, separators, st.booleans())


BODIES = st.one_of(
    _batch_bodies(),
    st.binary(max_size=300),
    st.text(max_size=200).map(lambda s: s.encode("utf-8")),
    _json_texts(),
    _mime_bodies(),
)


def _interaction(body: bytes, content_type: str) -> Interaction:
    headers = [("Content-Type", content_type)] if content_type else []
    return Interaction(
        request=HttpRequest("POST", "https://graph.microsoft.com/v1.0/me/messages", headers, body),
        response=HttpResponse(201, "Created", headers, body),
    )


@settings(max_examples=200, deadline=None, database=None)
@given(body=BODIES, content_type=CONTENT_TYPES)
def test_property_encode_decode_is_identity(body: bytes, content_type: str) -> None:
    assert decode_body(encode_body(body, content_type)) == body


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=BODIES, content_type=CONTENT_TYPES)
def test_property_cassette_file_gives_back_identical_bytes(tmp_path: Path, body: bytes, content_type: str) -> None:
    path = tmp_path / "prop.yaml"
    save_cassette(path, [_interaction(body, content_type)])
    loaded = load_cassette(path).interactions[0]
    assert loaded.request.body == body
    assert loaded.response.body == body


@pytest.mark.parametrize(
    "text",
    [
        "a\x85b",  # NEL: a line break to YAML
        "x" * 50 + "\n\x85y",
        "a\u2028b",
        "a\t\nb",  # tab before a line break
        "a\n\tb",  # tab after a line break
        "x" * 45 + "\t\ny\n",
        "  leading\n trailing  \n\n",
        "a\rb",
    ],
)
def test_text_with_yaml_line_break_characters_survives_a_cassette(tmp_path: Path, text: str) -> None:
    body = text.encode("utf-8")
    save_cassette(tmp_path / "c.yaml", [_interaction(body, "text/plain")])
    assert load_cassette(tmp_path / "c.yaml").interactions[0].request.body == body
    # ... and inside JSON string values and MIME text
    doc = json.dumps({"subject": text}, separators=(",", ":"), ensure_ascii=False).encode()
    mime = base64.b64encode(b"Subject: x\r\n\r\n" + body)
    save_cassette(tmp_path / "d.yaml", [_interaction(doc, "application/json"), _interaction(mime, "text/plain")])
    loaded = load_cassette(tmp_path / "d.yaml").interactions
    assert loaded[0].request.body == doc
    assert loaded[1].request.body == mime
