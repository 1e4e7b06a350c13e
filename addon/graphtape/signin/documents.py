"""The discovery documents MSAL and azure-identity read before they ask for a token, built for the host asked.

- instance discovery (``/common/discovery/instance``): the tenant discovery endpoint of an authority and the
  groups of host aliases of every cloud (``graph.LOGIN_CLOUDS``);
- OpenID configuration, v2.0 and v1: endpoints on the same host and authority, the issuer, ``jwks_uri``...;
- signing keys: none (graphtape signs nothing);
- user realm (``/common/userrealm/{user}``): a managed (not federated) account.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from graphtape.graph import LOGIN_CLOUDS, LoginCloud
from graphtape.signin.answers import Refusal
from graphtape.signin.urls import COMMON_TENANTS, Endpoint, Kind, parse_endpoint

_DEFAULT_CLOUD = LOGIN_CLOUDS[0]  # B2C and External ID hosts belong to the global cloud


def cloud_of(ep: Endpoint) -> LoginCloud:
    return ep.cloud or _DEFAULT_CLOUD


def issuer(ep: Endpoint, *, tenant_id: str | None = None) -> str:
    """The ``iss`` of the authority's tokens (v2.0: ``https://host/{tid}/v2.0``; v1: ``https://sts.windows.net/{tid}/``
    in the global cloud, the host itself elsewhere). A multi-tenant authority says ``{tenantid}``, as Entra does."""
    common = ep.tenant.lower() in COMMON_TENANTS
    tid = tenant_id or ("{tenantid}" if common else ep.tenant_id)
    if ep.v2:
        return f"https://{ep.host}/{tid}/v2.0"
    sts = "sts.windows.net" if cloud_of(ep) is _DEFAULT_CLOUD else ep.host
    return f"https://{sts}/{tid}/"


def _endpoints_base(ep: Endpoint) -> str:
    """Where the token endpoint lives: Entra names a tenant by its id, a multi-tenant authority as given."""
    if ep.tenant.lower() in COMMON_TENANTS or ep.authority.count("/") > 1:  # common, or B2C's /tenant/policy
        return ep.base
    return f"https://{ep.host}/{ep.tenant_id}"


def openid_configuration(ep: Endpoint) -> dict[str, Any]:
    base, cloud = _endpoints_base(ep), cloud_of(ep)
    oauth = f"{base}/oauth2/v2.0" if ep.v2 else f"{base}/oauth2"
    doc: dict[str, Any] = {
        "token_endpoint": f"{oauth}/token",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": f"{base}/discovery/v2.0/keys" if ep.v2 else f"{base}/discovery/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": issuer(ep),
        "request_uri_parameter_supported": False,
        "authorization_endpoint": f"{oauth}/authorize",
        "device_authorization_endpoint": f"{oauth}/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{oauth}/logout",
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "name", "nonce", "oid", "tid", "ver",
                             "preferred_username", "email"],
        "kerberos_endpoint": f"{base}/kerberos",
        "tenant_region_scope": "WW",
        "cloud_instance_name": cloud.name,
        "graphtape": "offline sign-in: answered by graphtape, not by Microsoft Entra",
    }
    if cloud.graph_host:
        doc["msgraph_host"] = cloud.graph_host
        doc["userinfo_endpoint"] = f"https://{cloud.graph_host}/oidc/userinfo"
    if not ep.v2:
        doc["microsoft_multi_refresh_token"] = True
    return doc


def instance_discovery(ep: Endpoint, query: str) -> dict[str, Any]:
    """What ``/common/discovery/instance?authorization_endpoint=...`` says; Refusal for an unknown authority."""
    params = dict(parse_qsl(query, keep_blank_values=True))
    asked = params.get("authorization_endpoint", "")
    if not asked:
        raise Refusal("invalid_request", 90014, "The required field 'authorization_endpoint' is missing.")
    target = parse_endpoint(asked)
    if target is None or target.kind != Kind.AUTHORIZE or target.cloud is None:
        raise Refusal("invalid_instance", 50049, f"Unknown or invalid instance: {urlsplit(asked).hostname!r}.")
    suffix = "/v2.0/.well-known/openid-configuration" if target.v2 else "/.well-known/openid-configuration"
    return {
        "tenant_discovery_endpoint": f"{target.base}{suffix}",
        "api-version": params.get("api-version", "1.1"),
        "metadata": [{"preferred_network": c.aliases[0], "preferred_cache": c.aliases[0], "aliases": list(c.aliases)}
                     for c in LOGIN_CLOUDS],
    }


def signing_keys() -> dict[str, Any]:
    return {"keys": []}  # graphtape's tokens are not signed: nothing can verify them, and nothing should


def user_realm(ep: Endpoint) -> dict[str, Any]:
    user = unquote(ep.user)
    return {
        "ver": "1.0",
        "account_type": "Managed",
        "domain_name": user.rpartition("@")[2] or user,
        "cloud_instance_name": cloud_of(ep).name,
        "cloud_audience_urn": "urn:federation:MicrosoftOnline",
    }
