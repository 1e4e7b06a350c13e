"""Pseudonymizing a recording so it can be shared: people and tenants replaced, consistently.

``graphtape record --pseudonymize`` replaces, in URLs, headers, JSON and base64 MIME bodies:

- email addresses and UPNs -> ``user-<10 hex>@d<6 hex>.example.com`` (case-insensitive; the domain
  is replaced on its own, so two people of one tenant keep one fake domain);
- display names (``emailAddress.name``, ``displayName``, ``givenName``, ``surname``, the names in MIME
  To/From/Cc/Bcc/Reply-To/Sender, RFC 2047 encoded or not) -> ``Person <6 hex>``, also where the same
  name appears in the text of that JSON or MIME message;
- GUIDs (tenant, user, request ids) -> ``f4ce0000-0000-4000-8000-<12 hex>``, except well-known ones
  (mostly zeros, such as Graph's app id);
- the ``{id}`` of ``/users/{id}`` (a GUID, a UPN, or anything else -> ``user-<10 hex>``).

A fake value is an HMAC-SHA256 of the real one under a random per-cassette salt, so the same real
value always gives the same fake one, across interactions and across ``--append``. The salt is kept
in the cassette's meta (never the real values): replay pseudonymizes each incoming request with it,
so the unchanged client, sending real addresses, still matches; a client that sends the fake values
matches too (fake values are left as they are).

Not rewritten: base64 or quoted-printable encoded MIME parts and attachments, base64 JSON fields
(``contentBytes``), Graph item ids (which encode the mailbox), and any name that appears only in free
text. Anyone with the cassette can test a guess ("is alice@contoso.com in it?") by hashing it with
the salt; pseudonymized is not anonymous.
"""

from __future__ import annotations

import email.header
import email.utils
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from graphtape.bodycodec import decode_body, encode_body
from graphtape.model import Headers, HttpRequest, HttpResponse, Interaction

META_KEY = "pseudonymized"
FAKE_DOMAIN = "example.com"
GUID_PREFIX = "f4ce0000-0000-4000-8000-"

EMAIL_RE = re.compile(r"(?<![\w.%+-])[A-Za-z0-9._%+-][A-Za-z0-9._%+'-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?![\w-])")
GUID_RE = re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
                     r"(?![0-9A-Za-z])")
FAKE_EMAIL_RE = re.compile(r"^user-[0-9a-f]{10}@d[0-9a-f]{6}\." + re.escape(FAKE_DOMAIN) + "$")
FAKE_NAME_RE = re.compile(r"^Person [0-9a-f]{6}$")
FAKE_USER_RE = re.compile(r"^user-[0-9a-f]{10}$")
NAME_KEYS = frozenset({"displayName", "givenName", "surname"})
ADDRESS_HEADERS = frozenset({"from", "to", "cc", "bcc", "reply-to", "sender", "resent-from", "resent-to"})
UNTOUCHED_HEADERS = frozenset({"content-type", "content-length", "content-encoding", "transfer-encoding",
                               "date", "etag", "if-match"})
_MIN_NAME = 3  # shorter names are replaced where they are named, not searched for in text


@dataclass(frozen=True)
class Pseudonymizer:
    salt: bytes

    @classmethod
    def new(cls) -> Pseudonymizer:
        return cls(secrets.token_bytes(16))

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> Pseudonymizer | None:
        """The cassette's pseudonymizer, or None if it was recorded with real values."""
        entry = meta.get(META_KEY)
        if not isinstance(entry, dict) or not isinstance(entry.get("salt"), str):
            return None
        try:
            return cls(bytes.fromhex(entry["salt"]))
        except ValueError:
            raise ValueError(f"graphtape: meta.{META_KEY}.salt is not hex; the cassette was edited?") from None

    def meta(self) -> dict[str, Any]:
        return {"salt": self.salt.hex(), "method": "hmac-sha256"}

    # ------------------------------------------------------------------ single values

    def _tag(self, kind: str, value: str, n: int) -> str:
        return hmac.new(self.salt, f"{kind}\0{value}".encode(), hashlib.sha256).hexdigest()[:n]

    def email(self, address: str) -> str:
        if FAKE_EMAIL_RE.match(address):
            return address
        domain = address.rpartition("@")[2]
        return f"user-{self._tag('email', address.lower(), 10)}@d{self._tag('domain', domain.lower(), 6)}.{FAKE_DOMAIN}"

    def name(self, name: str) -> str:
        clean = " ".join(name.split())
        if not clean or FAKE_NAME_RE.match(clean):
            return name
        if EMAIL_RE.fullmatch(clean):
            return self.email(clean)
        return f"Person {self._tag('name', clean.lower(), 6)}"

    def guid(self, value: str) -> str:
        if value.lower().startswith(GUID_PREFIX) or value.count("0") >= 20:
            return value  # already fake, or a well-known id (null GUID, Graph's 00000003-0000-0000-c000-...)
        return GUID_PREFIX + self._tag("guid", value.lower(), 12)

    def user_id(self, value: str) -> str:
        if value.lower() == "me" or FAKE_USER_RE.match(value):
            return value
        if EMAIL_RE.fullmatch(value):
            return self.email(value)
        if GUID_RE.fullmatch(value):
            return self.guid(value)
        return f"user-{self._tag('user', value.lower(), 10)}"

    def text(self, text: str, names: Iterable[str] = ()) -> str:
        """Emails, GUIDs and the given names replaced wherever they appear in ``text``."""
        out = EMAIL_RE.sub(lambda m: self.email(m.group(0)), text)
        out = GUID_RE.sub(lambda m: self.guid(m.group(0)), out)
        for real in sorted({n for n in names if len(n.strip()) >= _MIN_NAME}, key=len, reverse=True):
            fake = self.name(real)
            out = re.sub(r"(?<!\w)" + re.escape(real) + r"(?!\w)", fake.replace("\\", r"\\"), out)
        return out

    # ------------------------------------------------------------------ places

    def url(self, url: str) -> str:
        parts = urlsplit(url)
        segments = parts.path.split("/")
        for i in range(1, len(segments)):
            real = unquote(segments[i])
            fake = self.user_id(real) if segments[i - 1].lower() == "users" and real else self.text(real)
            if fake != real:
                segments[i] = quote(fake, safe="@")
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            fake_pairs = [(k, self.text(v)) for k, v in pairs]
            if fake_pairs != pairs:
                query = urlencode(fake_pairs, safe="$,<>@'")
        return urlunsplit(parts._replace(path="/".join(segments), query=query))

    def headers(self, headers: Headers) -> Headers:
        return [(k, v if k.lower() in UNTOUCHED_HEADERS else self.text(v)) for k, v in headers]

    def body(self, body: bytes, content_type: str) -> bytes:
        node = encode_body(body, content_type)
        if node is None or "base64" in node:
            return body
        if "json" in node:
            fake = {**node, "json": self.json(node["json"])}
        elif "mime" in node:
            fake = {**node, "mime": self.mime(node["mime"])}
        else:
            fake = {**node, "text": self.text(node["text"])}
        return body if fake == node else decode_body(fake)

    def json(self, value: Any) -> Any:
        names: set[str] = set()
        _collect_names(value, names)
        return _map(value, lambda s: self.text(s, names), self._named)

    def _named(self, key: str, value: str, parent: dict[str, Any]) -> str | None:
        if key in NAME_KEYS or (key == "name" and "address" in parent):
            return self.name(value)
        return None

    def mime(self, text: str) -> str:
        """An RFC 5322 message: address headers rewritten from their parsed (decoded) form, the rest as text."""
        match = re.search(r"\r?\n\r?\n", text)
        head, rest = (text[: match.start()], text[match.start():]) if match else (text, "")
        newline = "\r\n" if "\r\n" in head else "\n"
        fields = re.split(r"\r?\n(?![ \t])", head)  # one item per header field, folding kept
        names: set[str] = set()
        out = []
        for field in fields:
            name, colon, value = field.partition(":")
            pairs = email.utils.getaddresses([_decoded(re.sub(r"\r?\n[ \t]", " ", value))]) if colon else []
            if name.strip().lower() in ADDRESS_HEADERS and any("@" in a for _, a in pairs):
                names.update(n for n, _ in pairs if n)
                fake = ", ".join(_address(self.name(n) if n else "", self.email(a) if "@" in a else a)
                                 for n, a in pairs)
                out.append(f"{name}: {fake}")
            else:
                out.append(field)
        return self.text(newline.join(out), names) + self.text(rest, names)

    def request(self, req: HttpRequest) -> HttpRequest:
        return HttpRequest(req.method, self.url(req.url), self.headers(req.headers),
                           self.body(req.body, req.content_type))

    def response(self, resp: HttpResponse) -> HttpResponse:
        return HttpResponse(resp.status, resp.reason, self.headers(resp.headers),
                            self.body(resp.body, resp.content_type), resp.body_as_sent)

    def interaction(self, it: Interaction) -> Interaction:
        return Interaction(self.request(it.request), self.response(it.response), it.recorded_at, it.duration_ms)


def _address(name: str, addr: str) -> str:
    """``Name <addr>`` as written by hand: fake names and addresses are plain ASCII (formataddr refuses some input)."""
    return f"{name} <{addr}>" if name else addr


def _decoded(value: str) -> str:
    """A header value with RFC 2047 encoded words decoded (as-is if they are broken)."""
    try:
        return str(email.header.make_header(email.header.decode_header(value)))
    except (ValueError, LookupError, UnicodeError):
        return value


def _collect_names(value: Any, names: set[str]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, str) and (k in NAME_KEYS or (k == "name" and "address" in value)):
                names.add(v)
            else:
                _collect_names(v, names)
    elif isinstance(value, list):
        for v in value:
            _collect_names(v, names)


def _map(value: Any, text: Callable[[str], str], named: Callable[[str, str, dict[str, Any]], str | None]) -> Any:
    if isinstance(value, str):
        return text(value)
    if isinstance(value, list):
        return [_map(v, text, named) for v in value]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            fake = named(k, v, value) if isinstance(v, str) else None
            out[k] = fake if fake is not None else _map(v, text, named)
        return out
    return value
