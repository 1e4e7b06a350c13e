"""The token endpoint (``/oauth2/v2.0/token``, ``/oauth2/token``) offline: each grant's request checked as Entra
checks it, and answered with graphtape's fake tokens. A malformed request raises ``Refusal`` (Entra's error and
AADSTS code), so an app's mistake still shows in replay.

Grants: client credentials (a secret, HTTP Basic, or a client assertion: a certificate), refresh token,
authorization code (with PKCE), device code, password, on-behalf-of. No secret is ever checked against anything:
offline, any well-formed credential signs in.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from graphtape.bodies.kinds import media_type
from graphtape.model import HttpRequest, header
from graphtape.signin.answers import Refusal, missing
from graphtape.signin.documents import cloud_of, issuer
from graphtape.signin.tokens import (
    LIFETIME_S,
    USER_NAME,
    Subject,
    access_token,
    b64url,
    id_token,
    jwt_claims,
    opaque,
    read_opaque,
)
from graphtape.signin.urls import COMMON_TENANTS, Endpoint, fake_id

FORM = "application/x-www-form-urlencoded"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
OBO_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
OIDC_SCOPES = ("openid", "profile", "email", "offline_access")


@dataclass
class Grant:
    """What a token request asks for, read from its form."""

    ep: Endpoint
    form: dict[str, str]
    client_id: str
    now: int  # seconds since the epoch
    user: str = ""  # "" for an app signing in as itself
    nonce: str = ""
    scopes: list[str] = field(default_factory=list)

    def need(self, name: str) -> str:
        value = self.form.get(name, "")
        if not value:
            raise missing(name)
        return value


def read_form(req: HttpRequest) -> dict[str, str]:
    """The request's form fields (the first of each name); none unless the body is a form, as for Entra."""
    if media_type(req.content_type) != FORM:
        return {}
    fields: dict[str, str] = {}
    for key, value in parse_qsl(req.body.decode("utf-8", "replace"), keep_blank_values=True):
        fields.setdefault(key, value)
    return fields


def basic_client(req: HttpRequest) -> tuple[str, str] | None:
    """(client_id, secret) from ``Authorization: Basic`` (client_secret_basic), if there is one."""
    auth = header(req.headers, "authorization") or ""
    scheme, _, value = auth.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, sep, secret = base64.b64decode(value.strip()).decode("utf-8").partition(":")
    except (ValueError, binascii.Error):
        raise Refusal("invalid_client", 7000215,
                      "Invalid client secret provided in the Authorization header.") from None
    return (client_id, secret) if sep else None


def _check_assertion(g: Grant) -> None:
    """A client assertion, not expired: the app's own JWT (CertificateCredential: ``iss`` and ``sub`` its client
    id), or a federated identity's token (WorkloadIdentityCredential: an ``https`` issuer such as GitHub's, which
    Entra matches against the app's federated credentials, and graphtape cannot know)."""
    kind = g.form.get("client_assertion_type", "")
    if kind != ASSERTION_TYPE:
        raise Refusal("invalid_request", 50027, f"client_assertion_type must be '{ASSERTION_TYPE}', not '{kind}'.")
    claims = jwt_claims(g.form["client_assertion"])
    if claims is None:
        raise Refusal("invalid_client", 50027, "JWT token is invalid or malformed (client_assertion).")
    federated = str(claims.get("iss", "")).startswith("https://")
    for name in () if federated else ("iss", "sub"):
        if claims.get(name) != g.client_id:
            raise Refusal("invalid_client", 700021, f"Client assertion application identifier doesn't match "
                                                   f"'client_id' parameter ({name} is {claims.get(name)!r}).")
    exp = claims.get("exp")
    if not isinstance(exp, (int, float)) or exp < g.now:
        raise Refusal("invalid_client", 700024, "Client assertion is not within its valid time range.")


def authenticate(g: Grant, req: HttpRequest, *, required: bool) -> None:
    """The client's credential: a secret (form or Basic) or an assertion; checked for form, never for value."""
    if g.form.get("client_assertion"):
        _check_assertion(g)
    elif not g.form.get("client_secret") and basic_client(req) is None and required:
        raise Refusal("invalid_client", 7000218, "The request body must contain the following parameter: "
                                                 "'client_assertion' or 'client_secret'.")


def _scopes(g: Grant, *, required: bool) -> None:
    text = g.form.get("scope", "")
    if not text and required and g.ep.v2:
        raise missing("scope")
    g.scopes = text.split()


def resource_of(g: Grant) -> str:
    """The API the access token is for: v1's ``resource``, else the scopes' (Graph for a bare ``Mail.Send``)."""
    if not g.ep.v2 and g.form.get("resource"):
        return g.form["resource"]
    for scope in g.scopes:
        if scope not in OIDC_SCOPES and "/" in scope:
            return scope.rsplit("/", 1)[0]
    return f"https://{cloud_of(g.ep).graph_host or 'graph.microsoft.com'}"


def _client_credentials(g: Grant, req: HttpRequest) -> None:
    if g.ep.tenant.lower() in COMMON_TENANTS:
        raise Refusal("invalid_request", 50059, f"No tenant-identifying information found in either the request "
                                                f"or implied by any provided credentials ('{g.ep.tenant}' names "
                                                "no tenant: give the app's tenant id or domain).")
    authenticate(g, req, required=True)
    if g.ep.v2:
        _scopes(g, required=True)
        if len(g.scopes) != 1 or not g.scopes[0].endswith("/.default"):
            raise Refusal("invalid_scope", 1002012, f"The provided value for scope {' '.join(g.scopes)} is not "
                                                    "valid. Client credential flows must have a scope value with "
                                                    "/.default suffixed to the resource identifier "
                                                    "(application ID URI).")
    elif not g.form.get("resource"):
        raise missing("resource")


def _redeemed(g: Grant, kind: str, value: str) -> dict[str, Any]:
    """What a refresh token or code graphtape issued carries (a real one from elsewhere: nothing), checked to
    belong to this app."""
    doc = read_opaque(kind, value) or {}
    if doc.get("client_id", g.client_id) != g.client_id:
        raise Refusal("invalid_grant", 70000, f"The provided {kind.replace('-', ' ')} was issued to another "
                                              f"client ({doc['client_id']}), not to '{g.client_id}'.")
    g.user = str(doc.get("user") or g.user or USER_NAME)
    return doc


def _refresh_token(g: Grant, req: HttpRequest) -> None:
    authenticate(g, req, required=False)
    _scopes(g, required=False)
    _redeemed(g, "refresh-token", g.need("refresh_token"))


def _authorization_code(g: Grant, req: HttpRequest) -> None:
    authenticate(g, req, required=False)
    _scopes(g, required=False)
    doc = _redeemed(g, "code", g.need("code"))
    redirect_uri = g.need("redirect_uri")
    if doc.get("redirect_uri", redirect_uri) != redirect_uri:
        raise Refusal("invalid_grant", 70000, "The provided value for the 'redirect_uri' is not valid. The value "
                                              "must exactly match the redirect URI used to obtain the code.")
    challenge = doc.get("code_challenge", "")
    if challenge:
        verifier = g.need("code_verifier")
        if b64url(hashlib.sha256(verifier.encode("ascii", "replace")).digest()) != challenge:
            raise Refusal("invalid_grant", 501481, "The Code_Verifier does not match the code_challenge supplied "
                                                   "in the authorization request.")
    g.nonce = str(doc.get("nonce", ""))
    g.scopes = g.scopes or str(doc.get("scope", "")).split()  # what the authorize request asked for


def _device_code(g: Grant, req: HttpRequest) -> None:
    authenticate(g, req, required=False)
    _scopes(g, required=False)
    doc = _redeemed(g, "device-code", g.need("device_code" if g.ep.v2 else "code"))
    g.scopes = g.scopes or str(doc.get("scope", "")).split()  # what the device code was asked for


def _password(g: Grant, req: HttpRequest) -> None:
    authenticate(g, req, required=False)
    _scopes(g, required=False)
    g.user = g.need("username")
    g.need("password")


def _on_behalf_of(g: Grant, req: HttpRequest) -> None:
    authenticate(g, req, required=True)
    _scopes(g, required=True)
    claims = jwt_claims(g.need("assertion"))
    if claims is None:
        raise Refusal("invalid_grant", 50027, "JWT token is invalid or malformed (assertion).")
    if g.need("requested_token_use") != "on_behalf_of":
        raise Refusal("invalid_request", 900144, "requested_token_use must be 'on_behalf_of'.")
    g.user = str(claims.get("preferred_username") or claims.get("upn") or USER_NAME)


GRANTS: dict[str, Callable[[Grant, HttpRequest], None]] = {
    "client_credentials": _client_credentials,
    "refresh_token": _refresh_token,
    "authorization_code": _authorization_code,
    DEVICE_GRANT: _device_code,
    "device_code": _device_code,  # ADAL's spelling on v1
    "password": _password,
    OBO_GRANT: _on_behalf_of,
}


def read_grant(ep: Endpoint, req: HttpRequest, now: int) -> Grant:
    """The token request checked as Entra checks it (Refusal if it would not), with its grant's fields read."""
    if req.method.upper() != "POST":
        raise Refusal("invalid_request", 900561, f"The endpoint only accepts POST, OPTIONS requests. Received a "
                                                 f"{req.method.upper()} request.")
    form = read_form(req)
    grant_type = form.get("grant_type", "")
    if not grant_type:
        raise missing("grant_type")
    basic = basic_client(req)
    client_id = form.get("client_id") or (basic[0] if basic else "")
    if not client_id:
        raise missing("client_id")
    handler = GRANTS.get(grant_type)
    if handler is None:
        raise Refusal("unsupported_grant_type", 70003, f"The app requested an unsupported grant type "
                                                       f"'{grant_type}'.")
    g = Grant(ep, form, client_id, now)
    handler(g, req)
    return g


def token_response(g: Grant) -> dict[str, Any]:
    """Entra's answer to a good token request, with graphtape's tokens (v2.0 or v1 shape)."""
    ep, tid, now = g.ep, g.ep.tenant_id, g.now
    subject = (Subject(tid, g.client_id, fake_id("user", tid, g.user), g.user) if g.user
               else Subject(tid, g.client_id, fake_id("app", tid, g.client_id)))
    resource = resource_of(g)
    granted = [s for s in g.scopes if s != "offline_access"]
    doc: dict[str, Any] = {"token_type": "Bearer"}
    if ep.v2:
        if g.user:
            doc["scope"] = " ".join(granted)
        doc.update(expires_in=LIFETIME_S, ext_expires_in=LIFETIME_S)
    else:
        doc.update(expires_in=str(LIFETIME_S), ext_expires_in=str(LIFETIME_S), expires_on=str(now + LIFETIME_S),
                   not_before=str(now), resource=resource)
    names = [s.rsplit("/", 1)[-1] for s in granted if s not in OIDC_SCOPES]  # scp names scopes without the API
    doc["access_token"] = access_token(subject, resource, [n for n in names if n != ".default"], now, v2=ep.v2)
    if g.user and (not ep.v2 or "offline_access" in g.scopes):
        doc["refresh_token"] = opaque("refresh-token", {"client_id": g.client_id, "user": g.user})
    if g.user and (not ep.v2 or "openid" in g.scopes):
        doc["id_token"] = id_token(subject, issuer(ep, tenant_id=tid), now, g.nonce)
    if g.form.get("client_info") == "1" and g.user:
        doc["client_info"] = subject.client_info()
    return doc
