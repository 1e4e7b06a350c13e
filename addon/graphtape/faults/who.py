"""Whose call a request is, as Outlook's limits count it: the app (the token's ``appid``/``azp`` claim) and the
mailbox (``/me``: the token's user; ``/users/{id | userPrincipalName}``; an upload URL's ``Users('oid@tenant')``).

Pure, and never keeps or logs a token: only the claims it needs are read (unverified, as graphtape never checks a
signature), and only their values leave this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from graphtape.model import HttpRequest, header
from graphtape.signin.tokens import jwt_claims

DEFAULT_APP = "unknown-app"  # a call whose token names no app (no token, or not a JWT)
ME = "me"  # /me with a token that names no user
_USERS = re.compile(r"^/users(?:/([^/]+)|\('([^']*)'\))", re.IGNORECASE)
_UPLOAD_USER = re.compile(r"/users\('([^']+)'\)", re.IGNORECASE)
_BEARER = re.compile(r"^\s*bearer\s+(\S+)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Caller:
    app: str  # lower case
    mailbox: str  # lower case; "" for a call that reaches no mailbox (not counted by Outlook's limits)
    # The token's user, both ways it can be named (object id, userPrincipalName), for the aliases of a mailbox.
    names: tuple[str, ...] = ()


def _claims(token: str | None) -> dict[str, Any]:
    claims = jwt_claims(token) if token else None
    return claims or {}


def _bearer(req: HttpRequest) -> str | None:
    m = _BEARER.match(header(req.headers, "authorization") or "")
    return m.group(1) if m else None


def _app(claims: dict[str, Any]) -> str:
    for name in ("appid", "azp"):  # appid: v1.0 access tokens; azp: v2.0 ones
        value = claims.get(name)
        if isinstance(value, str) and value:
            return value.lower()
    return DEFAULT_APP


def _names(claims: dict[str, Any]) -> tuple[str, ...]:
    out = []
    for name in ("oid", "upn", "preferred_username"):
        value = claims.get(name)
        if isinstance(value, str) and value and value.lower() not in out:
            out.append(value.lower())
    return tuple(out)


def _graph_mailbox(resource: str, names: tuple[str, ...]) -> str:
    lowered = resource.lower()
    if lowered == "/me" or lowered.startswith("/me/"):
        return names[0] if names else ME
    m = _USERS.match(resource)
    if m:
        return unquote(m.group(1) or m.group(2) or "").lower()
    return ""


def _upload_token(url: str) -> str | None:
    for key, value in parse_qsl(urlsplit(url).query):
        if key.lower() == "authtoken":
            return value
    return None


def caller_of(req: HttpRequest) -> Caller:
    """The app and mailbox of a Graph request or of an upload-session call (its URL names the user as
    ``Users('oid@tenant')`` and carries its own ``authtoken``: the app is that token's, when it names one)."""
    parsed = req.graph_url
    if parsed is not None:
        claims = _claims(_bearer(req))
        names = _names(claims)
        return Caller(_app(claims), _graph_mailbox(parsed.resource, names), names)
    m = _UPLOAD_USER.search(unquote(urlsplit(req.url).path))
    if m is None:
        return Caller(DEFAULT_APP, "")
    user = m.group(1).split("@", 1)[0].lower()  # "oid@tenant": the object id is what /me's token says
    return Caller(_app(_claims(_bearer(req) or _upload_token(req.url))), user)
