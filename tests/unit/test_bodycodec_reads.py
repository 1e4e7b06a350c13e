"""Bodies of reads in a cassette: a message's $value (CRLF MIME text) and an attachment's $value (bytes) are
written readably, as YAML blocks, and decode back byte for byte."""

from __future__ import annotations

import base64

import pytest
import yaml

from graphtape.cassette.bodycodec import BodyFormatError, decode_body, encode_body
from graphtape.cassette.yamldump import dump_yaml

MIME_TEXT = (b"Subject: Budget\r\nTo: megan@contoso.com\r\nContent-Type: text/plain; charset=\"utf-8\"\r\n"
             b"MIME-Version: 1.0\r\n\r\nSee the figures.\r\n")
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 3 + b"\r\n%%EOF\n"


def test_crlf_text_is_kept_with_lf_and_a_newline_key() -> None:
    node = encode_body(MIME_TEXT, "text/plain")
    assert node == {"text": MIME_TEXT.decode().replace("\r\n", "\n"), "newline": "crlf"}
    assert decode_body(node) == MIME_TEXT
    dumped = dump_yaml({"body": node})
    assert "text: |" in dumped and "  Subject: Budget\n" in dumped  # a block, one header a line
    assert decode_body(yaml.safe_load(dumped)["body"]) == MIME_TEXT


@pytest.mark.parametrize("text", [b"lf only\nsecond\n", b"mixed\r\nand\nlf\n", b"lone\rcr\r\n", b"no newline"])
def test_other_text_is_kept_as_it_is(text: bytes) -> None:
    node = encode_body(text, "text/plain")
    assert node == {"text": text.decode()}
    assert decode_body(node) == text


def test_binary_is_base64_in_lines_of_76_that_decode_back_exactly() -> None:
    node = encode_body(PDF, "application/pdf")
    assert node is not None and set(node) == {"base64"}
    lines = node["base64"].splitlines()
    assert len(lines) > 1 and {len(line) for line in lines[:-1]} == {76}
    assert decode_body(node) == PDF
    dumped = dump_yaml({"body": node})
    assert "base64: |" in dumped
    assert decode_body(yaml.safe_load(dumped)["body"]) == PDF


def test_a_one_line_base64_body_of_an_older_cassette_still_decodes() -> None:
    assert decode_body({"base64": base64.b64encode(PDF).decode()}) == PDF


@pytest.mark.parametrize("node", [{"base64": "QUJD\n!!!!\n"}, {"text": "x", "newline": "cr"}])
def test_bad_nodes_are_refused(node: dict[str, str]) -> None:
    with pytest.raises(BodyFormatError):
        decode_body(node)
