"""Keeping secrets out of cassettes and logs.

Two layers: known secret-bearing headers, query and form parameters and JSON fields are replaced by
``<redacted>`` before anything is written; then a scan refuses to write anything that still looks like
a token (a JWT, a bearer credential), saying where it was.

Redaction changes the secret's value and nothing else: it replaces the span of the value, byte for
byte everywhere else (URLs are not re-encoded, JSON is not re-serialized, a MIME message keeps its
layout). A value is a run of characters up to a delimiter (``&``, ``;``, ``#``, whitespace, quotes,
brackets, ``\\``), without trailing sentence punctuation, so ``(see ...?code=123).`` loses only ``123``.
A parameter in text starts after ``?``, ``&``, ``;`` (also ``&amp;``) or ``#``.

What graphtape prints or writes about live traffic (deviations, findings, notes, reports, logs) goes
through ``scrub_text`` / ``scrub_value`` (see ``redaction_output``), which apply the same rules and
also replace anything token-shaped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

from graphtape.bodies.kinds import is_json_type, is_mime_upload_type, media_type
from graphtape.cassette.bodycodec import decode_body, encode_body
from graphtape.model import Headers, HttpRequest, HttpResponse, Interaction

REDACTED = "<redacted>"

SECRET_HEADERS: frozenset[str] = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-api-key",
        "api-key",
        "apikey",
        "ocp-apim-subscription-key",
        "x-functions-key",
        "x-ms-client-secret",
        "x-anchormailbox-token",
    }
)
SECRET_PARAMS: frozenset[str] = frozenset(
    {
        "authtoken",
        "access_token",
        "id_token",
        "refresh_token",
        "client_secret",
        "client_assertion",
        "code",
        "sig",
        "signature",
        "api_key",
        "apikey",
        "key",
        "password",
        "token",
        "tempauth",
    }
)
# JSON fields whose string value is a secret. Not "code", "key" or "token": Graph uses those for
# error codes and ordinary data.
SECRET_JSON_KEYS: frozenset[str] = frozenset(
    {"authtoken", "access_token", "id_token", "refresh_token", "client_secret", "client_assertion", "password",
     "tempauth", "api_key", "apikey"}
)

JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
BEARER_RE = re.compile(r"(?i)\bbearer\s+[A-Za-z0-9\-._~+/]{16,}=*")

VALUE_CHARS = r"[^\s&#;\"'<>()\[\]{}\\|^`]"
TRAILING_PUNCTUATION = ".,:!?*"
_NAME = r"[A-Za-z0-9_.%+\-]+"
_PARAM_IN_TEXT = re.compile(r"(?<=[?&;#])(" + _NAME + r")=(" + VALUE_CHARS + "*)")
# A JSON string token (valid JSON has '"' only inside strings), and whether a ':' follows (a key).
_JSON_STRING = re.compile(r'"([^"\\]*(?:\\.[^"\\]*)*)"(\s*:)?', re.S)
_MIME_FIELD = re.compile(r"(?m)^([!-9;-~]+):([ \t]*)([^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)")
FORM_TYPE = "application/x-www-form-urlencoded"


def param_name(raw: str) -> str:
    """How a parameter name is compared: decoded (``access%5Ftoken``, ``a+b``) and lower case."""
    return unquote_plus(raw).lower() if "%" in raw or "+" in raw else raw.lower()


def split_value(value: str) -> tuple[str, str]:
    """``"123)."``-like runs: (the value, the trailing punctuation that is not part of it)."""
    kept = value.rstrip(TRAILING_PUNCTUATION)
    return kept, value[len(kept):]


@dataclass(frozen=True)
class Redactor:
    headers: frozenset[str] = SECRET_HEADERS
    params: frozenset[str] = SECRET_PARAMS
    json_keys: frozenset[str] = field(default=SECRET_JSON_KEYS)

    @classmethod
    def with_extra(cls, headers: Iterable[str] = (), params: Iterable[str] = ()) -> Redactor:
        extra = {p.strip().lower() for p in params if p.strip()}
        return cls(
            headers=SECRET_HEADERS | {h.strip().lower() for h in headers if h.strip()},
            params=SECRET_PARAMS | extra,
            json_keys=SECRET_JSON_KEYS | extra,
        )

    def header_list(self, headers: Headers) -> Headers:
        """Secret headers replaced whole; secret parameters in the others (a ``Location`` URL) replaced."""
        return [(k, REDACTED if k.lower() in self.headers else self.text(v)) for k, v in headers]

    def query(self, query: str) -> str:
        """A query string (or a form body) with the values of secret parameters replaced, the rest as it was."""
        if "=" not in query:
            return query
        pieces = query.split("&")
        changed = False
        for i, piece in enumerate(pieces):
            name, eq, value = piece.partition("=")
            if eq and value and value != REDACTED and param_name(name) in self.params:
                pieces[i] = f"{name}={REDACTED}"
                changed = True
        return "&".join(pieces) if changed else query

    def url(self, url: str) -> str:
        start = url.find("?")
        hash_at = url.find("#")
        if start < 0 or (0 <= hash_at < start):
            return url if hash_at < 0 else url[:hash_at] + self.text(url[hash_at:])
        end = len(url) if hash_at < 0 else hash_at
        query = self.query(url[start + 1 : end])
        return url[: start + 1] + query + self.text(url[end:])

    def text(self, text: str) -> str:
        """Secret parameters of URLs (or HTML links, ``&amp;``) inside a text, replaced in place."""
        if "=" not in text or not any(c in text for c in "?&;#"):  # each a scan in C: a 4 MB base64 string is cheap
            return text
        return _PARAM_IN_TEXT.sub(self._param, text)

    def _param(self, m: re.Match[str]) -> str:
        value, rest = split_value(m.group(2))
        if not value or param_name(m.group(1)) not in self.params:
            return m.group(0)
        return f"{m.group(1)}={REDACTED}{rest}"

    def json_text(self, text: str) -> str:
        """A JSON document with secret fields and URL parameters in its strings replaced; nothing re-serialized."""
        out: list[str] = []
        pos = 0
        secret_after = -1  # where the value of a secret key would start
        for m in _JSON_STRING.finditer(text):
            inner = m.group(1)
            if m.group(2):  # a key
                secret_after = m.end() if _json_key(inner) in self.json_keys else -1
                continue
            if secret_after >= 0 and not text[secret_after : m.start()].strip() and inner != REDACTED:
                new = REDACTED
            else:
                new = self.text(inner)
            secret_after = -1
            if new != inner:
                out.append(text[pos : m.start(1)])
                out.append(new)
                pos = m.end(1)
        if not out:
            return text
        out.append(text[pos:])
        return "".join(out)

    def mime(self, message: str) -> str:
        """An RFC 5322 message (any part): secret header fields and URL parameters replaced, layout kept."""
        out = self.text(message)
        if ":" not in out:
            return out

        def field_value(m: re.Match[str]) -> str:
            if m.group(1).lower() not in self.headers or m.group(3) == REDACTED:
                return m.group(0)
            return f"{m.group(1)}:{m.group(2)}{REDACTED}"

        return _MIME_FIELD.sub(field_value, out)

    def body(self, body: bytes, content_type: str) -> bytes:
        if not body:
            return body
        if media_type(content_type) == FORM_TYPE:
            return _as_text(body, self.query)
        declared = is_json_type(content_type)
        if declared or (body.lstrip()[:1] in (b"{", b"[") and _parses(body)):
            redacted = _as_text(body, self.json_text)
            if (redacted is body and declared) or _parses(redacted):
                return redacted
        if is_mime_upload_type(content_type) or not content_type:
            node = encode_body(body, content_type)
            if node is not None and "mime" in node:
                fake = {**node, "mime": self.mime(node["mime"])}
                return body if fake == node else decode_body(fake)
        return _as_text(body, self.text)

    def interaction(self, interaction: Interaction) -> Interaction:
        req, resp = interaction.request, interaction.response
        return Interaction(
            request=HttpRequest(
                method=req.method,
                url=self.url(req.url),
                headers=self.header_list(req.headers),
                body=self.body(req.body, req.content_type),
                body_digest=req.body_digest,
            ),
            response=HttpResponse(
                status=resp.status,
                reason=resp.reason,
                headers=self.header_list(resp.headers),
                body=self.body(resp.body, resp.content_type),
                body_as_sent=resp.body_as_sent,
            ),
            recorded_at=interaction.recorded_at,
            duration_ms=interaction.duration_ms,
        )


def _json_key(inner: str) -> str:
    if "\\" not in inner:
        return inner.lower()
    try:
        return str(json.loads(f'"{inner}"')).lower()
    except ValueError:
        return inner.lower()


def _parses(body: bytes) -> bool:
    try:
        json.loads(body)
    except (ValueError, RecursionError):
        return False
    return True


def _as_text(body: bytes, fn: Any) -> bytes:
    """``fn`` applied to the UTF-8 text of ``body``; the very same bytes when nothing changed or not UTF-8."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return body
    new = fn(text)
    return body if new == text else str(new).encode("utf-8")


# --------------------------------------------------------------------------- the scan


@dataclass(frozen=True)
class SecretHit:
    where: str  # e.g. "response.body.value[0].uploadUrl"
    kind: str  # "JWT" or "bearer token"
    excerpt: str = field(default="")

    def __str__(self) -> str:
        return f"{self.kind} at {self.where} ({self.excerpt})"


def _scan_string(where: str, text: str) -> Iterator[SecretHit]:
    for regex, kind in ((JWT_RE, "JWT"), (BEARER_RE, "bearer token")):
        m = regex.search(text)
        if m:
            yield SecretHit(where.lstrip("."), kind, f"{len(m.group(0))} characters")


def _walk(where: str, value: Any) -> Iterator[SecretHit]:
    if isinstance(value, str):
        yield from _scan_string(where, value)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _scan_string(f"{where} key", str(k))
            yield from _walk(f"{where}.{k}", v)
        yield from _scan_encoded(where, value)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(f"{where}[{i}]", v)


def _scan_encoded(where: str, node: dict[str, Any]) -> Iterator[SecretHit]:
    """What a body node holds encoded: the bytes of a ``base64:`` body, the decoded parts of a MIME one."""
    from graphtape.privacy.output import decoded_texts  # the email package, only for bodies that need it

    for label, text in decoded_texts(node):
        yield from _scan_string(f"{where}.{label}", text)


def find_secrets(data: dict[str, Any]) -> list[SecretHit]:
    """Token-looking strings anywhere in an interaction's cassette data (as written to YAML), also inside
    base64 bodies and base64 or quoted-printable MIME parts."""
    return list(_walk("", data))
