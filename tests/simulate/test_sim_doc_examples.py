"""doc_examples: reading a docs page's examples (Markdown source and rendered text) and comparing JSON by shape."""

from __future__ import annotations

import json
from typing import Any

import pytest
from doc_examples import extract_examples, json_type, shape_differences

MARKDOWN = '''\
## HTTP request
```http
POST /me/messages
POST https://graph.microsoft.com/v1.0/me/ignored
```
##### Request
<!-- { "blockType": "request", "name": "x" }-->
```http
PATCH https://graph.microsoft.com/v1.0/me/messages/{id}
Content-type: application/json

{
  "subject": "new"
}
```
##### Response
<!-- { "blockType": "response", "truncated": true } -->
```http
HTTP/1.1 200 OK
Content-type: application/json

{"id": "A", "subject": "new"}
```
'''

RENDERED = '''\
Request

POST https://graph.microsoft.com/v1.0/me/sendMail
Content-type: text/plain

RnJvbTogYQpUbzogYgoK
U3ViamVjdDogeAo=

Response

The following example shows the response.

HTTP/1.1 202 Accepted

If it fails, this method returns the following error message.

HTTP/1.1 400 Bad Request
Content-type: application/json

{
    "error": {"code": "ErrorX", "message": "bad"}
}
'''


def test_markdown_blocks_pair_a_request_with_its_response() -> None:
    (example,) = extract_examples(MARKDOWN, "page")
    assert example.name == "page-1"
    assert example.request is not None and example.response is not None
    assert (example.request.method, example.request.url) == ("PATCH", "https://graph.microsoft.com/v1.0/me/messages/{id}")
    assert example.request.headers == [("Content-type", "application/json")]
    assert json.loads(example.request.body) == {"subject": "new"}
    assert (example.response.status, example.response.json, example.response.truncated) == (
        200, {"id": "A", "subject": "new"}, True)


def test_rendered_text_keeps_base64_bodies_and_unpaired_error_examples() -> None:
    sent, error = extract_examples(RENDERED, "page")
    assert sent.request is not None and sent.response is not None
    assert sent.request.body == b"RnJvbTogYQpUbzogYgoK\nU3ViamVjdDogeAo="
    assert (sent.response.status, sent.response.json, sent.response.truncated) == (202, None, False)
    assert (error.request, error.response and error.response.status) == (None, 400)
    assert error.response is not None and error.response.json == {"error": {"code": "ErrorX", "message": "bad"}}


def test_a_request_without_a_response_is_no_example() -> None:
    text = ("POST https://graph.microsoft.com/v1.0/me/a\n\nPOST https://graph.microsoft.com/v1.0/me/b\n"
            "HTTP/1.1 204 No Content\n")
    (example,) = extract_examples(text, "p")
    assert example.request is not None and example.request.url.endswith("/me/b")


@pytest.mark.parametrize(("value", "name"), [
    (None, "null"), (True, "boolean"), (3, "number"), (2.5, "number"), ("x", "string"), ([], "array"), ({}, "object"),
])
def test_json_type(value: object, name: str) -> None:
    assert json_type(value) == name


def test_same_shape_different_values_is_no_difference() -> None:
    docs = {"id": "A", "n": 1, "ok": True, "to": [{"emailAddress": {"address": "a"}}], "tags": []}
    answer = {"id": "B", "n": 7, "ok": False, "to": [{"emailAddress": {"address": "b"}}] * 2, "tags": ["x"]}
    assert shape_differences(docs, answer) == []


def test_shape_differences_name_the_place() -> None:
    docs = {"id": "A", "flag": {"flagStatus": "x"}, "to": [{"emailAddress": {"address": "a"}}], "n": 1}
    answer: dict[str, Any] = {"flag": {"flagStatus": 1}, "to": [{"emailAddress": {}}], "n": "1", "extra": None}
    assert shape_differences(docs, answer) == [
        "$.id: in the docs, missing in the answer",
        "$.extra: in the answer, not in the docs",
        "$.flag.flagStatus: the docs have string, the answer has number",
        "$.to[0].emailAddress.address: in the docs, missing in the answer",
        "$.n: the docs have number, the answer has string",
    ]


def test_a_truncated_example_needs_only_its_keys_and_a_docs_null_matches_any_value() -> None:
    assert shape_differences({"id": "A"}, {"id": "B", "more": 1}, truncated=True) == []
    assert shape_differences({"from": None}, {"from": {"emailAddress": {}}}) == []
    assert shape_differences({"from": {"emailAddress": {}}}, {"from": None}) == [
        "$.from: the docs have object, the answer has null"]
