"""The example requests and responses of a Graph docs page, and comparing JSON by shape (pure; for the tests).

``extract_examples`` reads a page as Markdown source (```` ```http ```` blocks) or as rendered text alike: a request
is a line ``METHOD https://...`` with its header lines and a body (JSON, or the base64 lines of MIME); a response
is a line ``HTTP/1.1 NNN ...`` with its headers and JSON body. Each request is paired with the response that comes
next, before any other request; a response with no request before it (an error example) is kept unpaired.

``shape_differences`` compares two JSON values by shape, never by value: the same JSON types, the same keys
(when the expected side is truncated, as the docs mark shortened examples, its keys only need to be there), lists
by the shape of their elements. A ``null`` in the expected side matches any value (a property without a value).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from graphtape.model import HttpRequest

_REQUEST = re.compile(r"^(GET|POST|PATCH|PUT|DELETE) (https://\S+)$")
_RESPONSE = re.compile(r"^HTTP/1\.1 (\d{3})\b")
_HEADER = re.compile(r"^([A-Za-z][\w-]*): ?(.*)$")
_BASE64_LINE = re.compile(r"^[A-Za-z0-9+/=]+$")
_TRUNCATED = re.compile(r'"truncated"\s*:\s*true|shortened|truncated', re.IGNORECASE)
_LOOKBACK = 400  # characters before a response where the docs say whether it is truncated


@dataclass(frozen=True)
class DocResponse:
    status: int
    headers: tuple[tuple[str, str], ...] = ()
    json: Any = None
    truncated: bool = False
    line: int = 0


@dataclass(frozen=True)
class DocExample:
    page: str
    number: int  # 1, 2, ... in the page's order
    request: HttpRequest | None  # None: a response the page shows without a request (an error example)
    response: DocResponse | None
    line: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def name(self) -> str:
        return f"{self.page}-{self.number}"


def _headers(lines: list[str], at: int) -> tuple[list[tuple[str, str]], int]:
    headers = []
    while at < len(lines) and (m := _HEADER.match(lines[at].strip())) and not lines[at].startswith("{"):
        headers.append((m.group(1), m.group(2).strip()))
        at += 1
    return headers, at


def _body(lines: list[str], at: int) -> tuple[str, int]:
    """The body after the headers: a JSON value (balanced), or consecutive base64 lines; "" if neither."""
    while at < len(lines) and not lines[at].strip():
        at += 1
    if at >= len(lines) or lines[at].startswith("```"):
        return "", at
    if lines[at].lstrip().startswith(("{", "[")):
        text = "\n".join(lines[at:])
        value, end = json.JSONDecoder().raw_decode(text.lstrip())
        consumed = text[: len(text) - len(text.lstrip()) + end].count("\n") + 1
        return json.dumps(value), at + consumed
    start = at
    while at < len(lines) and _BASE64_LINE.match(lines[at].strip()):
        at += 1
    return "\n".join(line.strip() for line in lines[start:at]), at


def extract_examples(text: str, page: str) -> list[DocExample]:
    """The page's request/response examples, in order (see the module's docstring)."""
    lines = text.splitlines()
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    examples: list[DocExample] = []
    pending: tuple[HttpRequest, int] | None = None
    at = 0
    while at < len(lines):
        line = lines[at].strip()
        request, response = _REQUEST.match(line), _RESPONSE.match(line)
        if request:
            headers, after = _headers(lines, at + 1)
            body, after = _body(lines, after)
            pending = (HttpRequest(request.group(1), request.group(2), headers, body.encode()), at + 1)
            at = after
            continue
        if response:
            headers, after = _headers(lines, at + 1)
            body, after = _body(lines, after)
            before = text[max(0, offsets[at] - _LOOKBACK):offsets[at]]
            before = before.rsplit("HTTP/1.1", 1)[-1].rsplit("\nPOST ", 1)[-1]
            answer = DocResponse(int(response.group(1)), tuple(headers), json.loads(body) if body else None,
                                 bool(_TRUNCATED.search(before)), at + 1)
            req, req_line = pending if pending else (None, at + 1)
            examples.append(DocExample(page, len(examples) + 1, req, answer, req_line))
            pending = None
            at = after
            continue
        at += 1
    return examples


# ---- shapes ---------------------------------------------------------------------------------------------

def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def shape_differences(expected: Any, actual: Any, *, truncated: bool = False, path: str = "$") -> list[str]:
    """How ``actual`` differs in shape from ``expected`` (JSONPath-like places; [] if the same shape)."""
    if expected is None:
        return []
    want, got = json_type(expected), json_type(actual)
    if want != got:
        return [f"{path}: the docs have {want}, the answer has {got}"]
    if want == "object":
        out = [f"{path}.{key}: in the docs, missing in the answer" for key in expected if key not in actual]
        if not truncated:
            out += [f"{path}.{key}: in the answer, not in the docs" for key in actual if key not in expected]
        for key in expected:
            if key in actual:
                out += shape_differences(expected[key], actual[key], truncated=truncated, path=f"{path}.{key}")
        return out
    if want == "array" and expected and actual:
        out = []
        for i, item in enumerate(actual):
            out += shape_differences(expected[0], item, truncated=truncated, path=f"{path}[{i}]")
        return out
    return []
