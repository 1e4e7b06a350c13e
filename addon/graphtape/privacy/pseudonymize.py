"""Pseudonymizing a recording so it can be shared: people and tenants replaced, consistently.

``graphtape record --pseudonymize`` replaces, in URLs, headers, JSON and base64 MIME bodies:

- email addresses and UPNs -> ``user-<10 hex>@d<6 hex>.example.com`` (case-insensitive; the domain
  is replaced on its own, so two people of one tenant keep one fake domain), percent-encoded ones
  (``alice%40contoso.com``, as in ``@odata.context``) too; a domain that an address in the same request
  (or exchange) has is replaced wherever it stands alone (``@odata.nextLink``, ``$filter``);
- display names (``emailAddress.name``, ``displayName``, ``givenName``, ``surname``, the names in MIME
  To/From/Cc/Bcc/Reply-To/Sender, RFC 2047 encoded or not, at any depth of the message, so also in a
  forwarded ``message/rfc822`` part) -> ``Person <6 hex>``, also where the same name appears in the
  text of that JSON or MIME message, in RFC 2047 encoded words (``Subject``) and in RFC 2231 file
  names (``filename*=utf-8''...``);
- ``mailNickname`` and ``onPremisesSamAccountName`` -> ``user-<10 hex>``, also where they appear in text;
- GUIDs (tenant, user, request ids) -> ``f4ce0000-0000-4000-8000-<12 hex>``, except well-known ones
  (mostly zeros, such as Graph's app id);
- the ``{id}`` of ``/users/{id}`` (a GUID, a UPN, or anything else -> ``user-<10 hex>``).

A fake value is an HMAC-SHA256 of the real one under a random per-cassette salt, so the same real
value always gives the same fake one, across interactions and across ``--append``. The salt is kept
in the cassette's meta (never the real values): replay pseudonymizes each incoming request with it,
so the unchanged client, sending real addresses, still matches; a client that sends the fake values
matches too (fake values are left as they are).

Not rewritten: base64 or quoted-printable encoded MIME parts and attachments, base64 JSON fields
(``contentBytes``), Graph item ids (which encode the mailbox), RFC 2231 continuations
(``filename*0*=``), a domain named in a request that holds no address of it, and any name that
appears only in free text. Anyone with the cassette can test a guess ("is alice@contoso.com in it?") by hashing it with
the salt; pseudonymized is not anonymous.
"""

from __future__ import annotations

import dataclasses
import email.header
import email.utils
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from graphtape.cassette.bodycodec import decode_body, encode_body
from graphtape.model import Headers, HttpRequest, HttpResponse, Interaction

META_KEY = "pseudonymized"
FAKE_DOMAIN = "example.com"
GUID_PREFIX = "f4ce0000-0000-4000-8000-"

EMAIL_RE = re.compile(r"(?<![\w.%+-])[A-Za-z0-9._%+-][A-Za-z0-9._%+'-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?![\w-])")
PCT_EMAIL_RE = re.compile(r"(?<![\w.%+-])[A-Za-z0-9._+-][A-Za-z0-9._+'-]*%40[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?![\w-])")
GUID_RE = re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
                     r"(?![0-9A-Za-z])")
FAKE_EMAIL_RE = re.compile(r"^user-[0-9a-f]{10}@d[0-9a-f]{6}\." + re.escape(FAKE_DOMAIN) + "$")
FAKE_NAME_RE = re.compile(r"^Person [0-9a-f]{6}$")
FAKE_USER_RE = re.compile(r"^user-[0-9a-f]{10}$")
NAME_KEYS = frozenset({"displayName", "givenName", "surname"})
ALIAS_KEYS = frozenset({"mailNickname", "onPremisesSamAccountName"})
ADDRESS_HEADERS = frozenset({"from", "to", "cc", "bcc", "reply-to", "sender", "resent-from", "resent-to"})
UNTOUCHED_HEADERS = frozenset({"content-type", "content-length", "content-encoding", "transfer-encoding",
                               "date", "etag", "if-match"})
_MIN_NAME = 3  # shorter names are replaced where they are named, not searched for in text
_ADDRESS_FIELD = re.compile(r"(?im)^(" + "|".join(sorted(ADDRESS_HEADERS)) + r"):([^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)")
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=(?:[ \t]*=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=)*")
_RFC2231 = re.compile(r"(?i)(\b(?:file)?name\*=)(\"?)([^\s;\"]+)(\"?)")


@dataclass(frozen=True)
class Pseudonymizer:
    salt: bytes
    domains: frozenset[str] = field(default=frozenset(), compare=False)  # real domains replaced where they stand alone

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

    def text(self, text: str, names: Iterable[str] = (), aliases: Iterable[str] = ()) -> str:
        """Emails (also percent-encoded), GUIDs, known domains and the given names and aliases replaced
        wherever they appear in ``text``."""
        out = EMAIL_RE.sub(lambda m: self.email(m.group(0)), text) if "@" in text else text
        if "%40" in out:
            out = PCT_EMAIL_RE.sub(lambda m: self.email(unquote(m.group(0))).replace("@", "%40"), out)
        out = GUID_RE.sub(lambda m: self.guid(m.group(0)), out)
        fakes = {real: self.name(real) for real in names} | {real: self.user_id(real) for real in aliases}
        for real in sorted({n for n in fakes if len(n.strip()) >= _MIN_NAME}, key=len, reverse=True):
            if real in out:
                out = re.sub(r"(?<!\w)" + re.escape(real) + r"(?!\w)", fakes[real].replace("\\", r"\\"), out)
        for domain in sorted(self.domains, key=len, reverse=True):  # bare domains: case-insensitive, whole names
            if domain in out.lower():
                out = re.sub(r"(?i)(?<![\w.-])" + re.escape(domain) + r"(?![\w-])", self._domain(domain), out)
        return out

    def _domain(self, domain: str) -> str:
        return f"d{self._tag('domain', domain.lower(), 6)}.{FAKE_DOMAIN}"

    def knowing_domains_of(self, *texts: str) -> Pseudonymizer:
        """This pseudonymizer, also replacing the domains of the addresses in ``texts`` where they stand alone."""
        found = {m.group(0).rpartition("@")[2].lower() for t in texts for m in EMAIL_RE.finditer(t)}
        found |= {m.group(0).rpartition("%40")[2].lower() for t in texts for m in PCT_EMAIL_RE.finditer(t)}
        found -= {d for d in found if d.endswith("." + FAKE_DOMAIN)}
        return dataclasses.replace(self, domains=self.domains | found) if found - self.domains else self

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
        aliases: set[str] = set()
        _collect_names(value, names, aliases)
        return _map(value, lambda s: self.text(s, names, aliases), self._named)

    def _named(self, key: str, value: str, parent: dict[str, Any]) -> str | None:
        if key in NAME_KEYS or (key == "name" and "address" in parent):
            return self.name(value)
        if key in ALIAS_KEYS:
            return self.user_id(value)
        return None

    def mime(self, text: str) -> str:
        """An RFC 5322 message: address fields (at any depth) rewritten from their parsed, decoded form;
        encoded words and RFC 2231 file names decoded, rewritten and encoded again; the rest as text."""
        names: set[str] = set()

        def address_field(m: re.Match[str]) -> str:
            pairs = [(n, a) for n, a in email.utils.getaddresses([_decoded(re.sub(r"\r?\n[ \t]", " ", m.group(2)))])
                     if n or a]  # an empty item ('a@b.c, , d@e.f', or what is left of a broken one) is written as none
            if not any("@" in a for _, a in pairs):
                return m.group(0)
            names.update(n for n, _ in pairs if n)
            fake = ", ".join(_address(self.name(n) if n else "", self.email(a) if "@" in a else a) for n, a in pairs)
            return f"{m.group(1)}: {fake}"

        out = _ADDRESS_FIELD.sub(address_field, text)
        if "=?" in out:
            out = _ENCODED_WORD.sub(lambda m: self._encoded_words(m.group(0), names), out)
        if "*=" in out:
            out = _RFC2231.sub(lambda m: self._rfc2231(m, names), out)
        return self.text(out, names)

    def _encoded_words(self, words: str, names: set[str]) -> str:
        decoded = _decoded(words)
        fake = self.text(decoded, names)
        return words if fake == decoded else email.header.Header(fake, "utf-8").encode(maxlinelen=0)

    def _rfc2231(self, m: re.Match[str], names: set[str]) -> str:
        parts = email.utils.decode_rfc2231(m.group(3))
        if len(parts) != 3:
            return m.group(0)
        charset, lang, value = parts
        real = unquote(value, encoding=charset or "utf-8", errors="replace")
        fake = self.text(real, names)
        if fake == real:
            return m.group(0)
        return m.group(1) + m.group(2) + email.utils.encode_rfc2231(fake, charset or "utf-8", lang or None) + m.group(4)

    def request(self, req: HttpRequest) -> HttpRequest:
        """A request rewritten from what it holds alone (so record and replay rewrite it alike). An upload chunk's
        bytes are a file's, not mail: left as they are (its recorded digest is of them)."""
        from graphtape.uploads.chunks import is_chunk  # uploads imports the contract, which imports privacy

        body = b"" if is_chunk(req) else req.body
        pz = self.knowing_domains_of(*_texts(req.url, req.headers, body, req.content_type))
        return HttpRequest(req.method, pz.url(req.url), pz.headers(req.headers),
                           req.body if body is not req.body else pz.body(req.body, req.content_type), req.body_digest)

    def response(self, resp: HttpResponse, req: HttpRequest | None = None) -> HttpResponse:
        texts = _texts(req.url, req.headers, req.body, req.content_type) if req is not None else []
        pz = self.knowing_domains_of(*texts, *_texts("", resp.headers, resp.body, resp.content_type))
        return HttpResponse(resp.status, resp.reason, pz.headers(resp.headers), pz.body(resp.body, resp.content_type),
                            resp.body_as_sent)

    def interaction(self, it: Interaction) -> Interaction:
        return Interaction(self.request(it.request), self.response(it.response, it.request), it.recorded_at,
                           it.duration_ms)


def _address(name: str, addr: str) -> str:
    """``Name <addr>`` as written by hand: fake names and addresses are plain ASCII (formataddr refuses some input)."""
    return f"{name} <{addr}>" if name else addr


def _decoded(value: str) -> str:
    """A header value with RFC 2047 encoded words decoded (as-is if they are broken)."""
    try:
        return str(email.header.make_header(email.header.decode_header(value)))
    except (ValueError, LookupError, UnicodeError):
        return value


def _texts(url: str, headers: Headers, body: bytes, content_type: str) -> list[str]:
    """Where a message's addresses are: its URL, header values and body (a base64 MIME body decoded)."""
    texts = [unquote(url), *(v for _, v in headers)]
    node = encode_body(body, content_type) if body else None
    if node is not None:
        texts.append(node["mime"] if "mime" in node else body.decode("utf-8", "replace"))
    return texts


def _collect_names(value: Any, names: set[str], aliases: set[str]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, str) and (k in NAME_KEYS or (k == "name" and "address" in value)):
                names.add(v)
            elif isinstance(v, str) and k in ALIAS_KEYS:
                aliases.add(v)
            else:
                _collect_names(v, names, aliases)
    elif isinstance(value, list):
        for v in value:
            _collect_names(v, names, aliases)


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
