"""A cassette's interactions and meta from the plain data ``fastyaml`` reads, exactly as ``nodes.Reader`` makes
them from the node tree, for data it would accept; anything it would not (or might not) raises ``Doubt``.

The two must agree: a property test compares them over whatever the writer writes, and the hand-edit and fuzz
tests over what it does not. Here no error is worded, and no line is known: on ``Doubt`` the strict reader reads
the file again and says what is wrong, and where.
"""

from __future__ import annotations

import re
from typing import Any

from graphtape.bodies.digest import DIGEST_KEYS, BodyDigest
from graphtape.cassette.bodycodec import BODY_FORMS, decode_body
from graphtape.cassette.fastyaml import Doubt
from graphtape.cassette.matchon import parse_match_on
from graphtape.cassette.nodes import _TOKEN, _UNSENDABLE, AS_SENT, url_problem
from graphtape.model import Headers, HttpRequest, HttpResponse, Interaction

# The keys read here, each as nodes.Reader reads it. A key nodes.py learns (with a meaning of its own) is not in
# these until this module learns it too: till then a cassette that has it is left to the strict reader (a test
# holds these to nodes.py's).
INTERACTION_KEYS = frozenset({"request", "response", "recorded_at", "duration_ms"})
REQUEST_KEYS = frozenset({"method", "url", "headers", "body"})
RESPONSE_KEYS = frozenset({"status", "reason", "headers", "body"})
META_TEXT = frozenset({"created", "graphtape_version", "mitmproxy_version", "appended"})  # Reader.text of each
META_KEYS = META_TEXT | {"ignore", "pseudonymized", "match_on"}
_DIGEST_KEYS = frozenset(DIGEST_KEYS)
# A body form's keys, as ``Reader.body`` allows them: the form's own, and ``as_sent`` in a response.
_FORM_KEYS = {form: (frozenset(keys), frozenset((*keys, AS_SENT))) for form, keys in BODY_FORMS.items()}
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")


def _doubt(why: str) -> Doubt:
    return Doubt(-1, why)


def text(value: Any) -> str:
    """``Reader.text`` of a scalar: a string as it is, null as ``""``; anything else is left to the strict reader
    (which keeps a number's text as written, and that is not known here)."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    raise _doubt("a value that is not a string where text is expected")


def _empty(value: Any) -> bool:
    return value is None or (type(value) is str and not value)


def _match_on(value: Any) -> Any:
    """``Reader._match_on``: a list of strings or one string that ``parse_match_on`` takes (anything else, a typo
    included, is left to the strict reader, which words the error with its line)."""
    if type(value) is not str and (type(value) is not list or not all(type(v) is str for v in value)):
        raise _doubt("meta.match_on")
    try:
        parse_match_on(value, "meta.match_on")
    except ValueError:
        raise _doubt("meta.match_on") from None
    return value if type(value) is str else list(value)


def meta(value: Any) -> dict[str, Any]:
    if _empty(value):
        return {}
    if type(value) is not dict or not value.keys() <= META_KEYS:
        raise _doubt("meta")
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key == "ignore":
            if item is not None and (type(item) is not list or not all(type(v) is str for v in item)):
                raise _doubt("meta.ignore")
            out[key] = item if item is not None else []
        elif key == "pseudonymized":
            if type(item) is not dict or not item.keys() <= {"salt", "method"}:
                raise _doubt("meta.pseudonymized")
            fields = {k: text(v) for k, v in item.items()}
            if not _HEX.fullmatch(fields.get("salt", "")):
                raise _doubt("meta.pseudonymized.salt")
            out[key] = fields
        elif key == "match_on":
            out[key] = _match_on(item)
        elif key in META_TEXT:
            out[key] = text(item)
        else:
            raise _doubt(f"meta.{key}")
    return out


def headers(value: Any) -> Headers:
    if _empty(value) or value == []:
        return []
    # checked a list at a time (in C): 10,000 interactions have 170,000 headers
    if type(value) is not list or not set(map(type, value)) <= {dict} or not set(map(len, value)) <= {1}:
        raise _doubt("a header entry")
    out: Headers = [pair for entry in value for pair in entry.items()]
    names, values = zip(*out, strict=True)
    if not set(map(type, values)) <= {str}:
        out = [(name, text(item)) for name, item in out]  # a null value is ""
        values = tuple(item for _, item in out)
    if not all(map(_TOKEN.fullmatch, set(names))) or _UNSENDABLE.search("".join(values)):
        raise _doubt("a header")
    return out


def body(value: Any, response: bool) -> tuple[bytes, bool]:
    if _empty(value):
        return b"", False
    if type(value) is not dict:
        raise _doubt("a body")
    forms = [form for form in BODY_FORMS if form in value]
    if len(forms) != 1 or not value.keys() <= _FORM_KEYS[forms[0]][response]:
        raise _doubt("a body's keys")
    as_sent = value.get(AS_SENT, False)
    if type(as_sent) is not bool:
        raise _doubt("as_sent")
    return decode_body({k: v for k, v in value.items() if k != AS_SENT} if AS_SENT in value else value), as_sent


def request(value: Any) -> HttpRequest:
    if type(value) is not dict or not value.keys() <= REQUEST_KEYS:
        raise _doubt("a request")
    method, url, content = value["method"], value["url"], value.get("body")
    if type(method) is not str or not _TOKEN.fullmatch(method) or type(url) is not str or url_problem(url):
        raise _doubt("a method or URL")
    digest = None
    if type(content) is dict and DIGEST_KEYS[0] in content:
        if not content.keys() <= _DIGEST_KEYS:
            raise _doubt("a digest body")
        digest = BodyDigest.from_node(content)  # ValueError: the strict reader says what is wrong
    return HttpRequest(method=method.upper(), url=url, headers=headers(value.get("headers")),
                       body=b"" if digest is not None else body(content, False)[0], body_digest=digest)


def response(value: Any) -> HttpResponse:
    if type(value) is not dict or not value.keys() <= RESPONSE_KEYS:
        raise _doubt("a response")
    status = value["status"]
    if type(status) is not int or not 100 <= status <= 599:
        raise _doubt("a status")
    reason = text(value["reason"]) if "reason" in value else ""
    if _UNSENDABLE.search(reason):
        raise _doubt("a reason")
    content, as_sent = body(value.get("body"), True)
    return HttpResponse(status=status, reason=reason, headers=headers(value.get("headers")), body=content,
                        body_as_sent=as_sent)


def interaction(value: Any) -> Interaction:
    if type(value) is not dict or not value.keys() <= INTERACTION_KEYS:
        raise _doubt("an interaction")
    duration = value.get("duration_ms")
    if duration is not None and type(duration) is not int and type(duration) is not float:
        raise _doubt("duration_ms")
    return Interaction(
        request=request(value["request"]),
        response=response(value["response"]),
        recorded_at=text(value["recorded_at"]) if "recorded_at" in value else "",
        duration_ms=float(duration) if duration is not None else None,
    )


def interactions(value: Any) -> list[Interaction]:
    if value is None:
        return []
    if type(value) is not list:
        raise _doubt("interactions")
    return [interaction(item) for item in value]
