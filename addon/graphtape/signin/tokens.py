"""graphtape's fake tokens: JWT-shaped (header.payload.signature, base64url), unsigned, and saying so in their
claims (``"graphtape": "offline sign-in, not a real token"``, an ``iss`` on graphtape.invalid).

Refresh tokens, authorization and device codes are opaque to an app; graphtape's carry what it needs to answer
their redemption the same way, offline and without state: ``graphtape-offline-<kind>.<base64url JSON>``.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

NOTICE = "offline sign-in, not a real token"
ISSUER = "https://graphtape.invalid/offline-sign-in"
_HEADER = {"typ": "JWT", "alg": "none", "kid": "graphtape-offline-sign-in"}
_SIGNATURE = b"graphtape: not signed"
_OPAQUE = "graphtape-offline-"
LIFETIME_S = 3599  # what Entra gives an access token by default (an hour, less a second)
USER_NAME = "offline.user@graphtape.invalid"  # whom a delegated sign-in is for, when the request does not say
DISPLAY_NAME = "graphtape offline user"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _json(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, separators=(",", ":"), sort_keys=True).encode("utf-8")


def jwt(claims: dict[str, Any]) -> str:
    """A JWT-shaped token with ``claims`` and graphtape's notice; its signature part says it is not signed."""
    return ".".join([b64url(_json(_HEADER)), b64url(_json({**claims, "graphtape": NOTICE})), b64url(_SIGNATURE)])


def jwt_claims(token: str) -> dict[str, Any] | None:
    """The claims of a JWT-shaped token (any issuer's), unverified; None if it is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(b64url_decode(parts[1]))
    except (ValueError, binascii.Error):
        return None
    return claims if isinstance(claims, dict) else None


def opaque(kind: str, doc: dict[str, Any]) -> str:
    """``graphtape-offline-refresh-token.<b64url JSON>`` and the like: what graphtape needs when it comes back."""
    return f"{_OPAQUE}{kind}.{b64url(_json(doc))}"


def read_opaque(kind: str, value: str) -> dict[str, Any] | None:
    """What ``opaque(kind, ...)`` carried; None for anything else (a real token from production config, say)."""
    prefix = f"{_OPAQUE}{kind}."
    if not value.startswith(prefix):
        return None
    try:
        doc = json.loads(b64url_decode(value[len(prefix):]))
    except (ValueError, binascii.Error):
        return None
    return doc if isinstance(doc, dict) else None


@dataclass(frozen=True)
class Subject:
    """Who a token is for: an app alone (client credentials) or a user signed in to an app."""

    tenant_id: str
    client_id: str
    object_id: str  # the user's, or the app's service principal's
    user: str = ""  # the user's sign-in name; "" for an app

    def client_info(self) -> str:
        """MSAL's ``client_info``: base64url JSON naming the account (``uid``) and its home tenant (``utid``)."""
        return b64url(_json({"uid": self.object_id, "utid": self.tenant_id}))


def access_token(subject: Subject, resource: str, scopes: list[str], now: int, *, v2: bool) -> str:
    claims: dict[str, Any] = {
        "aud": resource,
        "iss": f"{ISSUER}/{subject.tenant_id}/",
        "iat": now, "nbf": now, "exp": now + LIFETIME_S,
        "appid" if not v2 else "azp": subject.client_id,
        "app_displayname": "graphtape offline sign-in",
        "idp": "graphtape",
        "oid": subject.object_id,
        "sub": subject.object_id,
        "tid": subject.tenant_id,
        "ver": "2.0" if v2 else "1.0",
    }
    if subject.user:
        claims.update(idtyp="user", scp=" ".join(scopes) or "user_impersonation", upn=subject.user,
                      name=DISPLAY_NAME)
    else:
        claims.update(idtyp="app", roles=["graphtape.offline"])
    return jwt(claims)


def id_token(subject: Subject, issuer: str, now: int, nonce: str = "") -> str:
    """The OpenID Connect id token MSAL reads the account from (it checks ``aud`` against the app's id)."""
    claims: dict[str, Any] = {
        "aud": subject.client_id,
        "iss": issuer.replace("{tenantid}", subject.tenant_id),
        "iat": now, "nbf": now, "exp": now + LIFETIME_S,
        "name": DISPLAY_NAME,
        "oid": subject.object_id,
        "preferred_username": subject.user,
        "sub": subject.object_id,
        "tid": subject.tenant_id,
        "ver": "2.0",
    }
    if nonce:
        claims["nonce"] = nonce
    return jwt(claims)
