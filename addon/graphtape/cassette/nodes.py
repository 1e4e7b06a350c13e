"""From a cassette's composed YAML nodes to graphtape's data, refusing anything it does not mean exactly.

Every level of the format has a fixed set of keys: an unknown one (``bdy:``) is refused with the key it
was probably meant to be, a repeated one at any level (a body's JSON and ``meta`` too) is refused, and so
is every YAML tag outside plain data (``!!binary``, ``!!set``, ``!!python/...``). What a person obviously
meant is taken as written: an unquoted timestamp (``createdDateTime: 2017-12-23T07:29:57Z``) is the
text ``2017-12-23T07:29:57Z``, and a header's or a reason's plain scalar is its text (``Content-Length:
1024`` is ``"1024"``). Header names and values, reasons, methods and URLs that could not be sent as
HTTP (a CR or LF inside one would inject headers) are refused at load, each with its line.
"""

from __future__ import annotations

import difflib
import os
import re
import urllib.parse
from collections.abc import Collection
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from graphtape.bodies.digest import DIGEST_KEYS, BodyDigest
from graphtape.cassette.bodycodec import BODY_FORMS, BodyFormatError, decode_body
from graphtape.cassette.matchon import parse_match_on
from graphtape.model import Headers, HttpRequest, HttpResponse, Interaction


class CassetteError(Exception):
    """A cassette that cannot be read: says which file, which line, what is wrong and what to do."""

    def __init__(self, path: str | os.PathLike[str], message: str, line: int | None = None, hint: str = ""):
        self.path = str(path)
        self.line = line
        self.detail = message
        self.hint = hint
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {message}" + (f" ({hint})" if hint else ""))


_TAG = "tag:yaml.org,2002:"
_SCALARS = {_TAG + t for t in ("str", "int", "float", "bool", "null")}
_AS_WRITTEN = {_TAG + "timestamp", _TAG + "value"}  # 2017-12-23T07:29:57Z and a lone '=' are their text
INTERACTION_KEYS = ("request", "response", "recorded_at", "duration_ms")
REQUEST_KEYS = ("method", "url", "headers", "body")
RESPONSE_KEYS = ("status", "reason", "headers", "body")
META_KEYS = ("created", "graphtape_version", "mitmproxy_version", "appended", "ignore", "pseudonymized", "match_on")
AS_SENT = "as_sent"  # a response body kept as it came, its Content-Encoding not undone (it could not be)
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 token: a header name or a method
_UNSENDABLE = re.compile(r"[\r\n\x00]")


class UnwritableInteraction(ValueError):
    """An interaction the reader would refuse (a header that could not be sent as HTTP): never written."""


def check_writable(interaction: Interaction) -> None:
    """Raise UnwritableInteraction for what ``Reader`` refuses in an interaction, so that the writer never puts
    a file on disk that graphtape cannot read back."""
    req, resp = interaction.request, interaction.response
    problems = [f"the method {req.method!r} is not an HTTP method"] if not _TOKEN.fullmatch(req.method) else []
    url = url_problem(req.url)
    if url:
        problems.append(f"the URL {url}")
    if _UNSENDABLE.search(resp.reason):
        problems.append("the reason phrase holds a CR, LF or NUL")
    if not 100 <= resp.status <= 599:
        problems.append(f"the status {resp.status} is not an HTTP status code")
    for side, headers in (("request", req.headers), ("response", resp.headers)):
        for name, value in headers:
            if not _TOKEN.fullmatch(name):
                problems.append(f"the {side} header name {name!r} is not a valid header name")
            elif _UNSENDABLE.search(value):
                problems.append(f"the {side} header {name!r} holds a CR, LF or NUL")
    if problems:
        raise UnwritableInteraction(f"graphtape: {req.method} {req.url} cannot be recorded: {'; '.join(problems)}")


def url_problem(url: str) -> str | None:
    """What makes ``url`` no absolute http(s) URL graphtape can match on, or None."""
    try:
        parts = urllib.parse.urlsplit(url)
        _ = parts.port  # ValueError for a port out of range or not a number
    except ValueError as e:
        return f"is not a valid URL ({e})"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "is not an absolute http(s) URL with a host"
    if re.search(r"[\x00-\x1f\x7f]", url):
        return "holds a control character"
    return None


def _did_you_mean(key: str, known: Collection[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?" if close else ""
    return (hint + " " if hint else "") + f"the keys here are {', '.join(known)}"


class Reader:
    """Walks the composed YAML nodes so every error can name its line."""

    def __init__(self, path: str | os.PathLike[str], loader: Any):
        self.path = path
        self.loader = loader

    def fail(self, node: Node | None, message: str, hint: str = "") -> CassetteError:
        line = node.start_mark.line + 1 if node is not None else None
        return CassetteError(self.path, message, line, hint)

    # ------------------------------------------------------------------ plain data

    def value(self, node: Node) -> Any:
        """The plain data a node holds: mappings with string keys, lists, strings, numbers, booleans, null."""
        if isinstance(node, ScalarNode):
            return self._scalar(node)
        if isinstance(node, SequenceNode) and node.tag == _TAG + "seq":
            return [self.value(item) for item in node.value]
        if isinstance(node, MappingNode) and node.tag == _TAG + "map":
            return {key: self.value(v) for key, v in self.fields(node, "a mapping").items()}
        raise self._bad_tag(node)

    def _scalar(self, node: ScalarNode) -> Any:
        if node.tag in _AS_WRITTEN:
            return node.value
        if node.tag not in _SCALARS:
            raise self._bad_tag(node)
        try:
            return self.loader.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, TypeError) as e:
            raise self.fail(node, f"cannot read this value: {getattr(e, 'problem', None) or e}") from None

    def _bad_tag(self, node: Node) -> CassetteError:
        if node.tag == _TAG + "merge":
            return self.fail(node, "a YAML merge key '<<' is not allowed in a cassette",
                             "quote it ('<<') if it is a key of a body")
        tag = node.tag.replace(_TAG, "!!")
        hint = ("write binary data as a body 'base64: ...'" if tag == "!!binary"
                else "a cassette holds plain data only: mappings, lists, strings, numbers, true/false, null")
        return self.fail(node, f"the YAML tag {tag} is not allowed in a cassette", hint)

    def text(self, node: Node, what: str) -> str:
        """A scalar as it is written (``1024`` is ``"1024"``, an empty value is ``""``)."""
        if not isinstance(node, ScalarNode) or node.tag not in _SCALARS | _AS_WRITTEN:
            raise self.fail(node, f"{what} must be a string") if not isinstance(node, ScalarNode) \
                else self._bad_tag(node)
        if node.tag == _TAG + "null" and not node.style and node.value in ("", "~", "null", "Null", "NULL"):
            return ""
        return str(node.value)

    def string(self, node: Node, what: str) -> str:
        value = self.value(node)
        if not isinstance(value, str):
            raise self.fail(node, f"{what} must be a string, got {value!r}")
        return value

    def fields(self, node: Node, what: str, known: Collection[str] | None = None) -> dict[str, Node]:
        """A mapping's entries by key: keys are strings, none repeated, each one of ``known`` (if given)."""
        if not isinstance(node, MappingNode) or node.tag != _TAG + "map":
            if isinstance(node, MappingNode):
                raise self._bad_tag(node)
            raise self.fail(node, f"{what} must be a mapping")
        out: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = self.value(key_node)
            if not isinstance(key, str):
                raise self.fail(key_node, f"{what}: keys must be strings, got {key!r}",
                                f"quote it ('{key_node.value}') if it is meant as text")
            if key in out:
                raise self.fail(key_node, f"{what}: duplicate key {key!r}", "keep one of them")
            if known is not None and key not in known:
                raise self.fail(key_node, f"{what}: unknown key {key!r}", _did_you_mean(key, known))
            out[key] = value_node
        return out

    def required(self, fields: dict[str, Node], parent: Node, key: str, what: str) -> Node:
        if key not in fields:
            raise self.fail(parent, f"{what} has no {key!r}")
        return fields[key]

    # ------------------------------------------------------------------ HTTP

    def headers(self, node: Node | None, what: str) -> Headers:
        if node is None or (isinstance(node, ScalarNode) and self.text(node, what) == ""):
            return []
        if not isinstance(node, SequenceNode) or node.tag != _TAG + "seq":
            raise self.fail(node, f"{what} must be a list of 'Name: value' entries")
        out: Headers = []
        for item in node.value:
            pairs = self.fields(item, f"{what} entry")
            if len(pairs) != 1:
                raise self.fail(item, f"{what} entry must have exactly one 'Name: value'")
            ((name, value_node),) = pairs.items()
            if not _TOKEN.fullmatch(name):
                raise self.fail(item, f"{what}: {name!r} is not a valid header name",
                                "a header name is letters, digits and !#$%&'*+-.^_`|~ only (no spaces or colons)")
            out.append((name, self._sendable(value_node, self.text(value_node, f"{what} {name!r}"),
                                             f"{what} {name!r}")))
        return out

    def _sendable(self, node: Node, value: str, what: str) -> str:
        if _UNSENDABLE.search(value):
            raise self.fail(node, f"{what} holds a CR, LF or NUL, which would be sent as raw header lines",
                            "remove it; one header entry is one line")
        return value

    def body(self, node: Node | None, what: str, *, response: bool = False) -> tuple[bytes, bool]:
        """The body's bytes and whether it is kept as sent (a response whose Content-Encoding did not decode)."""
        if node is None or (isinstance(node, ScalarNode) and self.text(node, what) == ""):
            return b"", False
        known = [*BODY_FORMS, *(k for keys in BODY_FORMS.values() for k in keys[1:]), *([AS_SENT] if response else [])]
        f = self.fields(node, what, known)
        forms = [form for form in BODY_FORMS if form in f]
        if len(forms) != 1:
            raise self.fail(node, f"{what} must have exactly one of {', '.join(BODY_FORMS)}")
        for key, key_node in f.items():
            if key not in (*BODY_FORMS[forms[0]], AS_SENT):
                raise self.fail(key_node, f"{what}: {key!r} is not a key of a {forms[0]} body",
                                f"a {forms[0]} body has {', '.join(BODY_FORMS[forms[0]])}")
        as_sent = self.value(f[AS_SENT]) if AS_SENT in f else False
        if not isinstance(as_sent, bool):
            raise self.fail(f[AS_SENT], f"{what}.{AS_SENT} must be true or false")
        try:
            return decode_body({key: self.value(v) for key, v in f.items() if key != AS_SENT}), as_sent
        except BodyFormatError as e:
            raise self.fail(node, f"{what}: {e}") from None

    def url(self, node: Node, what: str) -> str:
        url = self.string(node, what)
        problem = url_problem(url)
        if problem:
            raise self.fail(node, f"{what} {problem}: {url!r}", "a recorded URL is absolute: https://graph...")
        return url

    def request(self, node: Node, what: str) -> HttpRequest:
        f = self.fields(node, what, REQUEST_KEYS)
        method = self.string(self.required(f, node, "method", what), f"{what}.method")
        if not _TOKEN.fullmatch(method):
            raise self.fail(f["method"], f"{what}.method {method!r} is not an HTTP method")
        digest = self.digest(f.get("body"), f"{what}.body")
        body = b"" if digest is not None else self.body(f.get("body"), f"{what}.body")[0]
        return HttpRequest(method=method.upper(), url=self.url(self.required(f, node, "url", what), f"{what}.url"),
                           headers=self.headers(f.get("headers"), f"{what}.headers"), body=body, body_digest=digest)

    def digest(self, node: Node | None, what: str) -> BodyDigest | None:
        """A request body kept as its digest (``{sha256: ..., size: ...}``: an upload chunk), else None."""
        if not isinstance(node, MappingNode) or not any(
                isinstance(k, ScalarNode) and k.value == DIGEST_KEYS[0] for k, _ in node.value):
            return None
        fields = {key: self.value(v) for key, v in self.fields(node, what, DIGEST_KEYS).items()}
        try:
            return BodyDigest.from_node(fields)
        except ValueError as e:
            raise self.fail(node, f"{what}: {e}", "it was written by graphtape: restore it from version control "
                            "or record the upload again") from None

    def response(self, node: Node, what: str) -> HttpResponse:
        f = self.fields(node, what, RESPONSE_KEYS)
        status_node = self.required(f, node, "status", what)
        status = self.value(status_node)
        if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
            raise self.fail(status_node, f"{what}.status must be an HTTP status code, got {status!r}")
        reason = self.text(f["reason"], f"{what}.reason") if "reason" in f else ""
        body, as_sent = self.body(f.get("body"), f"{what}.body", response=True)
        return HttpResponse(status=status, reason=self._sendable(f.get("reason", node), reason, f"{what}.reason"),
                            headers=self.headers(f.get("headers"), f"{what}.headers"), body=body,
                            body_as_sent=as_sent)

    def interaction(self, node: Node, index: int) -> Interaction:
        what = f"interaction {index + 1}"
        f = self.fields(node, what, INTERACTION_KEYS)
        recorded_at = self.text(f["recorded_at"], f"{what}.recorded_at") if "recorded_at" in f else ""
        duration = self.value(f["duration_ms"]) if "duration_ms" in f else None
        if duration is not None and (not isinstance(duration, (int, float)) or isinstance(duration, bool)):
            raise self.fail(f["duration_ms"], f"{what}.duration_ms must be a number")
        return Interaction(
            request=self.request(self.required(f, node, "request", what), f"{what}.request"),
            response=self.response(self.required(f, node, "response", what), f"{what}.response"),
            recorded_at=recorded_at,
            duration_ms=float(duration) if duration is not None else None,
        )

    # ------------------------------------------------------------------ meta

    def meta(self, node: Node) -> dict[str, Any]:
        if isinstance(node, ScalarNode) and self.text(node, "meta") == "":
            return {}
        f = self.fields(node, "meta", META_KEYS)
        out: dict[str, Any] = {}
        for key, value_node in f.items():
            if key == "ignore":
                out[key] = self._ignore(value_node)
            elif key == "pseudonymized":
                out[key] = self._pseudonymized(value_node)
            elif key == "match_on":
                out[key] = self._match_on(value_node)
            else:
                out[key] = self.text(value_node, f"meta.{key}")
        return out

    def _ignore(self, node: Node) -> list[str]:
        value = self.value(node)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(node, "meta.ignore must be a list of paths (strings)",
                            "e.g. ignore: ['body.Message.subject', 'query.$top']")
        return value

    def _match_on(self, node: Node) -> Any:
        value = self.value(node)
        try:
            parse_match_on(value, "meta.match_on")  # a typo is refused here, with its line
        except ValueError as e:
            raise self.fail(node, str(e).removeprefix("graphtape: "), "e.g. match_on: [method, url, body]") from None
        return value if isinstance(value, str) else list(value)

    def _pseudonymized(self, node: Node) -> dict[str, str]:
        f = self.fields(node, "meta.pseudonymized", ("salt", "method"))
        out = {key: self.text(v, f"meta.pseudonymized.{key}") for key, v in f.items()}
        if not re.fullmatch(r"(?:[0-9a-fA-F]{2})+", out.get("salt", "")):
            raise self.fail(node, "meta.pseudonymized.salt must be hex digits",
                            "it was written by graphtape; restore it from version control")
        return out
