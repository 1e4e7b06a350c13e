"""A $batch is stored readably: JSON items as YAML, base64 MIME item bodies as their RFC 5322 text, byte-exact."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from graphtape.cassette.bodycodec import BodyFormatError, decode_body, encode_body
from graphtape.cassette.format import load_cassette, save_cassette
from graphtape.model import HttpRequest, HttpResponse, Interaction

MESSAGE = b"From: Alex <alex@contoso.com>\r\nTo: Megan <megan@contoso.com>\r\nSubject: Batch MIME\r\n\r\nHello.\r\n"
BATCH_URL = "https://graph.microsoft.com/v1.0/$batch"
JSON = [("Content-Type", "application/json")]


def batch(*bodies: object, key: str = "requests") -> bytes:
    items = [{"id": str(n), "method": "POST", "url": "/me/sendMail",
              "headers": {"Content-Type": "text/plain"}, "body": body} for n, body in enumerate(bodies, 1)]
    return json.dumps({key: items}).encode()


@pytest.mark.parametrize("b64", [base64.b64encode(MESSAGE).decode(), base64.encodebytes(MESSAGE).decode(),
                                 base64.encodebytes(MESSAGE).decode().replace("\n", "\r\n").rstrip()],
                         ids=["one-line", "wrapped-76", "crlf-no-final"])
def test_a_mime_item_body_is_stored_as_its_text_and_restored_byte_for_byte(b64: str) -> None:
    body = batch({"subject": "json"}, b64)
    node = encode_body(body, "application/json")
    assert node is not None
    assert node["json"]["requests"][1]["body"] == MESSAGE.decode()  # readable, in place
    assert node["json"]["requests"][0]["body"] == {"subject": "json"}
    assert [e["at"] for e in node["base64_mime"]] == ["/requests/1/body"]
    assert decode_body(node) == body


def test_a_response_item_holding_mime_is_lifted_too() -> None:
    body = batch(base64.b64encode(MESSAGE).decode(), key="responses")
    node = encode_body(body, "application/json")
    assert node is not None and node["base64_mime"][0]["at"] == "/responses/0/body"
    assert decode_body(node) == body


def test_strings_that_are_not_mime_stay_as_they_are() -> None:
    body = batch("hello", base64.b64encode(b"\x00\x01binary").decode())
    node = encode_body(body, "application/json")
    assert node is not None and "base64_mime" not in node
    assert decode_body(node) == body


def test_a_cassette_file_shows_the_mime_text_and_gives_back_the_same_bytes(tmp_path: Path) -> None:
    body = batch({"subject": "json"}, base64.encodebytes(MESSAGE).decode())
    answer = json.dumps({"responses": [{"id": "1", "status": 201, "body": {"id": "AAMk="}},
                                       {"id": "2", "status": 202, "headers": {}}]}).encode()
    item = Interaction(HttpRequest("POST", BATCH_URL, JSON, body), HttpResponse(200, "OK", JSON, answer))
    path = tmp_path / "batch.yaml"
    save_cassette(path, [item])
    text = path.read_text()
    assert "Subject: Batch MIME" in text and "base64_mime:" in text
    assert base64.b64encode(MESSAGE).decode()[:40] not in text
    loaded = load_cassette(path).interactions[0]
    assert loaded.request.body == body and loaded.response.body == answer


@pytest.mark.parametrize(("entries", "words"), [
    ([{"at": "/requests/5/body", "wrap": 0}], "not a string body"),
    ([{"at": "/other/0/body"}], "must be /requests/N/body"),
    ([{"at": "/requests/0/body", "wrapp": 0}], "unknown key"),
    ("no", "must be a list"),
])
def test_a_bad_base64_mime_entry_is_refused_naming_it(entries: object, words: str) -> None:
    node = {"json": {"requests": [{"id": "1", "body": "From: a@b.c\n\nx"}]}, "style": "compact",
            "base64_mime": entries}
    with pytest.raises(BodyFormatError, match=words):
        decode_body(node)


def test_a_hand_edited_mime_text_is_encoded_again(tmp_path: Path) -> None:
    body = batch(base64.b64encode(MESSAGE).decode())
    node = encode_body(body, "application/json")
    assert node is not None
    node["json"]["requests"][0]["body"] = node["json"]["requests"][0]["body"].replace("Batch MIME", "Edited")
    sent = json.loads(decode_body(node))["requests"][0]["body"]
    assert base64.b64decode(sent) == MESSAGE.replace(b"Batch MIME", b"Edited")
