"""Keeping secrets out of cassettes and logs.

Two layers: known secret-bearing headers and query parameters are replaced by ``<redacted>``
before anything is written; then a scan refuses to write anything that still looks like a token
(a JWT, a bearer credential), saying where it was.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

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

JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
BEARER_RE = re.compile(r"(?i)\bbearer\s+[A-Za-z0-9\-._~+/]{16,}=*")
_URL_IN_TEXT = re.compile(r'https?://[^\s"<>]+')


@dataclass(frozen=True)
class Redactor:
    headers: frozenset[str] = SECRET_HEADERS
    params: frozenset[str] = SECRET_PARAMS

    @classmethod
    def with_extra(cls, headers: Iterable[str] = (), params: Iterable[str] = ()) -> Redactor:
        return cls(
            headers=SECRET_HEADERS | {h.strip().lower() for h in headers if h.strip()},
            params=SECRET_PARAMS | {p.strip().lower() for p in params if p.strip()},
        )

    def header_list(self, headers: Headers) -> Headers:
        return [(k, REDACTED if k.lower() in self.headers else v) for k, v in headers]

    def url(self, url: str) -> str:
        parts = urlsplit(url)
        if not parts.query:
            return url
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        if not any(k.lower() in self.params for k, _ in pairs):
            return url
        clean = [(k, REDACTED if k.lower() in self.params else v) for k, v in pairs]
        return urlunsplit(parts._replace(query=urlencode(clean, safe="$,<>")))

    def text(self, text: str) -> str:
        """Redact token-bearing query parameters of URLs inside a body (e.g. an uploadUrl)."""
        if "?" not in text:
            return text
        return _URL_IN_TEXT.sub(lambda m: self.url(m.group(0)), text)

    def body(self, body: bytes, content_type: str) -> bytes:
        if not body or b"?" not in body:
            return body
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return body
        if "json" in content_type.lower():
            try:
                value = json.loads(text)
            except ValueError:
                return body
            cleaned = _map_strings(value, self.text)
            if cleaned == value:
                return body
            compact = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
            spaced = compact == body
            return json.dumps(
                cleaned, separators=(",", ":") if spaced else (", ", ": "), ensure_ascii=False
            ).encode()
        redacted = self.text(text)
        return body if redacted == text else redacted.encode("utf-8")

    def interaction(self, interaction: Interaction) -> Interaction:
        req, resp = interaction.request, interaction.response
        return Interaction(
            request=HttpRequest(
                method=req.method,
                url=self.url(req.url),
                headers=self.header_list(req.headers),
                body=self.body(req.body, req.content_type),
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


def _map_strings(value: Any, fn: Any) -> Any:
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, list):
        return [_map_strings(v, fn) for v in value]
    if isinstance(value, dict):
        return {k: _map_strings(v, fn) for k, v in value.items()}
    return value


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
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(f"{where}[{i}]", v)


def find_secrets(data: dict[str, Any]) -> list[SecretHit]:
    """Token-looking strings anywhere in an interaction's cassette data (as written to YAML)."""
    return list(_walk("", data))
