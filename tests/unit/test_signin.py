"""graphtape.signin, the pure offline answers to Entra's sign-in endpoints: which URLs it answers, the documents,
each grant's tokens, and the AADSTS errors of malformed requests."""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import json
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from graphtape.graph import LOGIN_CLOUDS, is_login_host, is_token_endpoint, login_cloud
from graphtape.model import HttpRequest
from graphtape.privacy.redaction import JWT_RE
from graphtape.signin import answer, offline_answer
from graphtape.signin.tokens import NOTICE, b64url, jwt, jwt_claims
from graphtape.signin.urls import Kind, parse_endpoint, tenant_id

NOW = _dt.datetime(2026, 12, 1, 12, 0, tzinfo=_dt.UTC)
T0 = int(NOW.timestamp())
HOST = "https://login.microsoftonline.com"
TENANT = "contoso.onmicrosoft.com"
TID = tenant_id(TENANT)
APP = "5b6f2c1e-8a3d-4e7f-9c0b-1d2e3f4a5b6c"
SECRET = "-".join(["a", "secret"])
FORM = [("Content-Type", "application/x-www-form-urlencoded")]


def get(url: str) -> tuple[int, Any]:
    resp = offline_answer(HttpRequest("GET", url), NOW)
    assert resp is not None
    return resp.status, json.loads(resp.body)


def token(fields: dict[str, str], url: str = f"{HOST}/{TENANT}/oauth2/v2.0/token",
          headers: list[tuple[str, str]] | None = None) -> tuple[int, dict[str, Any]]:
    resp = offline_answer(HttpRequest("POST", url, headers if headers is not None else FORM,
                                      urlencode(fields).encode()), NOW)
    assert resp is not None
    assert ("x-graphtape", "offline sign-in") in resp.headers
    return resp.status, json.loads(resp.body)


def client_credentials(**extra: str) -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_id": APP, "client_secret": SECRET,
            "scope": "https://graph.microsoft.com/.default", **extra}


def assertion(**claims: Any) -> str:
    """A client assertion as CertificateCredential makes one (its signature is not checked offline)."""
    header = b64url(json.dumps({"alg": "RS256", "typ": "JWT", "x5t": "abc"}).encode())
    payload = b64url(json.dumps({"iss": APP, "sub": APP, "aud": f"{HOST}/{TENANT}/oauth2/v2.0/token",
                                 "exp": T0 + 600, **claims}).encode())
    return f"{header}.{payload}.{b64url(b'sig')}"


# ---------------------------------------------------------------- hosts and endpoints


@pytest.mark.parametrize("host", [h for c in LOGIN_CLOUDS for h in c.aliases]
                         + ["westus2.login.microsoft.com", "contoso.b2clogin.com", "contoso.ciamlogin.com"])
def test_every_clouds_sign_in_host_is_a_login_host_and_a_token_endpoint(host: str) -> None:
    assert is_login_host(host) and is_login_host(host.upper() + ".")
    assert is_token_endpoint(host, "/anything")


@pytest.mark.parametrize("host", ["graph.microsoft.com", "login.microsoftonline.com.evil.example",
                                  "evil-login.microsoftonline.com", "example.com", ""])
def test_other_hosts_are_not_login_hosts(host: str) -> None:
    assert not is_login_host(host)


def test_login_cloud_groups_aliases_and_regional_hosts() -> None:
    public = login_cloud("login.windows.net")
    assert public is not None and public.graph_host == "graph.microsoft.com"
    assert login_cloud("westus2.login.microsoft.com") is public
    china = login_cloud("login.chinacloudapi.cn")
    assert china is not None and china.graph_host == "microsoftgraph.chinacloudapi.cn"
    assert login_cloud("contoso.b2clogin.com") is None


@pytest.mark.parametrize(("url", "kind", "v2", "tenant"), [
    (f"{HOST}/common/discovery/instance?api-version=1.1", Kind.INSTANCE_DISCOVERY, False, "common"),
    (f"{HOST}/{TENANT}/v2.0/.well-known/openid-configuration", Kind.OPENID_CONFIGURATION, True, TENANT),
    (f"{HOST}/{TENANT}/.well-known/openid-configuration", Kind.OPENID_CONFIGURATION, False, TENANT),
    (f"{HOST}//{TENANT}//oauth2/v2.0/token", Kind.TOKEN, True, TENANT),
    (f"{HOST}/{TENANT}/oauth2/token", Kind.TOKEN, False, TENANT),
    (f"{HOST}/organizations/oauth2/v2.0/devicecode", Kind.DEVICE_CODE, True, "organizations"),
    (f"{HOST}/common/oauth2/v2.0/authorize?client_id=x", Kind.AUTHORIZE, True, "common"),
    (f"{HOST}/{TID}/discovery/v2.0/keys", Kind.KEYS, True, TID),
    (f"{HOST}/common/userrealm/megan@contoso.com?api-version=1.0", Kind.USER_REALM, False, "common"),
    ("https://contoso.b2clogin.com/contoso.onmicrosoft.com/B2C_1_signin/v2.0/.well-known/openid-configuration",
     Kind.OPENID_CONFIGURATION, True, TENANT),
    ("https://contoso.ciamlogin.com/v2.0/.well-known/openid-configuration", Kind.OPENID_CONFIGURATION, True,
     "contoso.onmicrosoft.com"),
])
def test_parse_endpoint(url: str, kind: Kind, v2: bool, tenant: str) -> None:
    ep = parse_endpoint(url)
    assert ep is not None and (ep.kind, ep.v2, ep.tenant) == (kind, v2, tenant)


@pytest.mark.parametrize("url", [
    "https://graph.microsoft.com/v1.0/me/sendMail",  # not a login host
    "https://example.com/contoso/oauth2/v2.0/token",  # OAuth path, but not Entra's host
    f"{HOST}/{TENANT}/saml2",  # a login host's endpoint graphtape does not answer
    f"{HOST}/a/b/c/oauth2/v2.0/token",  # deeper than tenant/policy
    f"{HOST}/v2.0/.well-known/openid-configuration",  # no tenant
])
def test_urls_that_are_not_answered(url: str) -> None:
    assert parse_endpoint(url) is None
    assert answer(HttpRequest("POST", url, FORM, urlencode(client_credentials()).encode())) is None


def test_tenant_id_is_a_guid_as_given_else_a_stable_fake_one() -> None:
    guid = "11111111-2222-3333-4444-555555555555"
    assert tenant_id(guid.upper()) == guid
    assert tenant_id(TENANT) == tenant_id(TENANT.upper()) != tenant_id("fabrikam.com")


# ---------------------------------------------------------------- documents


@pytest.mark.parametrize("cloud", LOGIN_CLOUDS, ids=lambda c: c.aliases[0])
def test_openid_configuration_points_to_the_same_host(cloud: Any) -> None:
    host = cloud.aliases[0]
    status, doc = get(f"https://{host}/{TENANT}/v2.0/.well-known/openid-configuration")
    assert status == 200
    for name in ("token_endpoint", "authorization_endpoint", "device_authorization_endpoint", "jwks_uri"):
        assert doc[name].startswith(f"https://{host}/{TID}/"), name
    assert doc["token_endpoint"].endswith("/oauth2/v2.0/token")
    assert doc["issuer"] == f"https://{host}/{TID}/v2.0"
    assert doc["cloud_instance_name"] == cloud.name
    assert "graphtape" in doc["graphtape"]


def test_openid_configuration_v1_and_multi_tenant() -> None:
    _, v1 = get(f"{HOST}/{TENANT}/.well-known/openid-configuration")
    assert v1["token_endpoint"] == f"{HOST}/{TID}/oauth2/token"
    assert v1["issuer"] == f"https://sts.windows.net/{TID}/"
    _, common = get(f"{HOST}/common/v2.0/.well-known/openid-configuration")
    assert common["token_endpoint"] == f"{HOST}/common/oauth2/v2.0/token"
    assert common["issuer"] == f"{HOST}/{{tenantid}}/v2.0"


def test_instance_discovery_names_the_tenant_discovery_endpoint_and_every_clouds_aliases() -> None:
    asked = urlencode({"api-version": "1.1", "authorization_endpoint": f"https://login.windows.net/{TENANT}/oauth2/v2.0/authorize"})
    status, doc = get(f"{HOST}/common/discovery/instance?{asked}")
    assert status == 200
    assert doc["tenant_discovery_endpoint"] == f"https://login.windows.net/{TENANT}/v2.0/.well-known/openid-configuration"
    assert [set(g["aliases"]) for g in doc["metadata"]] == [set(c.aliases) for c in LOGIN_CLOUDS]


def test_instance_discovery_refuses_an_unknown_instance() -> None:
    asked = urlencode({"authorization_endpoint": "https://login.example.com/t/oauth2/v2.0/authorize"})
    status, doc = get(f"{HOST}/common/discovery/instance?{asked}")
    assert status == 400 and doc["error"] == "invalid_instance" and doc["error_codes"] == [50049]
    status, doc = get(f"{HOST}/common/discovery/instance")
    assert status == 400 and doc["error_codes"] == [90014]


def test_keys_and_user_realm() -> None:
    assert get(f"{HOST}/{TID}/discovery/v2.0/keys") == (200, {"keys": []})
    _, realm = get(f"{HOST}/common/userrealm/megan%40contoso.com?api-version=1.0")
    assert realm["account_type"] == "Managed" and realm["domain_name"] == "contoso.com"


# ---------------------------------------------------------------- tokens


def test_tokens_are_jwt_shaped_unsigned_and_say_they_are_graphtapes() -> None:
    status, doc = token(client_credentials())
    assert status == 200
    assert doc["token_type"] == "Bearer" and doc["expires_in"] == doc["ext_expires_in"] == 3599
    assert set(doc) == {"token_type", "expires_in", "ext_expires_in", "access_token"}
    parts = doc["access_token"].split(".")
    assert len(parts) == 3 and all(parts)
    header = json.loads(base64.urlsafe_b64decode(parts[0] + "=="))
    assert header["alg"] == "none"
    claims = jwt_claims(doc["access_token"])
    assert claims is not None
    assert claims["graphtape"] == NOTICE and "graphtape" in claims["iss"] and claims["idp"] == "graphtape"
    assert claims["aud"] == "https://graph.microsoft.com" and claims["tid"] == TID and claims["azp"] == APP
    assert claims["exp"] == T0 + 3599
    assert JWT_RE.fullmatch(doc["access_token"])  # what the recorder's secret scan looks for


def test_client_secret_basic_and_a_client_assertion_sign_in_too() -> None:
    basic = base64.b64encode(f"{APP}:{SECRET}".encode()).decode()
    fields = {k: v for k, v in client_credentials().items() if k not in ("client_id", "client_secret")}
    assert token(fields, headers=[*FORM, ("Authorization", f"Basic {basic}")])[0] == 200
    cert = {k: v for k, v in client_credentials().items() if k != "client_secret"}
    cert.update(client_assertion_type="urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                client_assertion=assertion())
    assert token(cert)[0] == 200


def _refused(fields: dict[str, str], url: str = f"{HOST}/{TENANT}/oauth2/v2.0/token", method: str = "POST",
             headers: list[tuple[str, str]] | None = None) -> tuple[int, str, int]:
    resp = offline_answer(HttpRequest(method, url, FORM if headers is None else headers,
                                      urlencode(fields).encode()), NOW)
    assert resp is not None
    doc = json.loads(resp.body)
    assert doc["error_description"].startswith(f"AADSTS{doc['error_codes'][0]}: ")
    assert "answered offline by graphtape" in doc["error_description"] and doc["trace_id"]
    assert SECRET not in resp.body.decode()
    return resp.status, doc["error"], doc["error_codes"][0]


@pytest.mark.parametrize(("fields", "expected"), [
    ({k: v for k, v in client_credentials().items() if k != "grant_type"}, (400, "invalid_request", 900144)),
    ({k: v for k, v in client_credentials().items() if k != "client_id"}, (400, "invalid_request", 900144)),
    ({k: v for k, v in client_credentials().items() if k != "client_secret"}, (401, "invalid_client", 7000218)),
    ({k: v for k, v in client_credentials().items() if k != "scope"}, (400, "invalid_request", 900144)),
    (client_credentials(scope="https://graph.microsoft.com/Mail.Send"), (400, "invalid_scope", 1002012)),
    (client_credentials(grant_type="urn:x-made-up"), (400, "unsupported_grant_type", 70003)),
    ({"grant_type": "refresh_token", "client_id": APP}, (400, "invalid_request", 900144)),
    ({"grant_type": "password", "client_id": APP, "username": "megan@contoso.com"}, (400, "invalid_request", 900144)),
])
def test_malformed_token_requests_get_entras_error(fields: dict[str, str], expected: tuple[int, str, int]) -> None:
    assert _refused(fields) == expected


def test_token_endpoint_refusals_of_method_body_tenant_and_assertion() -> None:
    assert _refused(client_credentials(), method="GET")[2] == 900561
    assert _refused(client_credentials(), headers=[("Content-Type", "application/json")])[2] == 900144
    assert _refused(client_credentials(), url=f"{HOST}/common/oauth2/v2.0/token")[2] == 50059
    cert = {k: v for k, v in client_credentials().items() if k != "client_secret"}
    cert["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    assert _refused({**cert, "client_assertion": assertion(iss="someone-else")})[1:] == ("invalid_client", 700021)
    assert _refused({**cert, "client_assertion": assertion(exp=T0 - 60)})[2] == 700024
    federated = assertion(iss="https://token.actions.githubusercontent.com", sub="repo:contoso/app:ref:main")
    assert token({**cert, "client_assertion": federated})[0] == 200  # WorkloadIdentityCredential's kind
    assert _refused({**cert, "client_assertion": assertion(iss="https://x.example", exp=T0 - 60)})[2] == 700024
    assert _refused({**cert, "client_assertion": "not-a-jwt"})[2] == 50027
    assert _refused({**cert, "client_assertion_type": "x", "client_assertion": assertion()})[2] == 50027


def test_refresh_token_grant_returns_tokens_for_the_user_and_msal_client_info() -> None:
    fields = {"grant_type": "refresh_token", "client_id": APP, "refresh_token": "from-config",
              "scope": "https://graph.microsoft.com/Mail.Send openid profile offline_access", "client_info": "1"}
    status, doc = token(fields)
    assert status == 200
    assert doc["scope"] == "https://graph.microsoft.com/Mail.Send openid profile"
    assert doc["refresh_token"].startswith("graphtape-offline-refresh-token.")
    id_claims = jwt_claims(doc["id_token"])
    assert id_claims is not None and id_claims["aud"] == APP and id_claims["iss"] == f"{HOST}/{TID}/v2.0"
    info = json.loads(base64.urlsafe_b64decode(doc["client_info"] + "=="))
    assert info == {"uid": id_claims["oid"], "utid": TID}
    access = jwt_claims(doc["access_token"])
    assert access is not None and access["scp"] == "Mail.Send" and access["idtyp"] == "user"
    # graphtape's refresh token redeemed again: the same user; by another app: refused
    again = token({**fields, "refresh_token": doc["refresh_token"]})[1]
    assert jwt_claims(again["id_token"])["oid"] == id_claims["oid"]  # type: ignore[index]
    other = {**fields, "refresh_token": doc["refresh_token"], "client_id": "another-app"}
    assert _refused(other)[1:] == ("invalid_grant", 70000)


def test_v1_token_response_shape() -> None:
    fields = {"grant_type": "client_credentials", "client_id": APP, "client_secret": SECRET,
              "resource": "https://graph.microsoft.com"}
    status, doc = token(fields, url=f"{HOST}/{TENANT}/oauth2/token")
    assert status == 200 and doc["resource"] == "https://graph.microsoft.com"
    assert doc["expires_in"] == "3599" and doc["expires_on"] == str(T0 + 3599)
    assert jwt_claims(doc["access_token"])["ver"] == "1.0"  # type: ignore[index]
    no_resource = {k: v for k, v in fields.items() if k != "resource"}
    assert _refused(no_resource, url=f"{HOST}/{TENANT}/oauth2/token")[2] == 900144


def _authorize(**extra: str) -> dict[str, list[str]]:
    query = urlencode({"client_id": APP, "response_type": "code", "redirect_uri": "http://localhost:8400/",
                       "scope": "Mail.Send openid offline_access", "state": "s1", "nonce": "n1", **extra})
    resp = offline_answer(HttpRequest("GET", f"{HOST}/{TENANT}/oauth2/v2.0/authorize?{query}"), NOW)
    assert resp is not None and resp.status == 302
    location = dict(resp.headers)["Location"]
    assert location.startswith("http://localhost:8400/?")
    return parse_qs(urlsplit(location).query)


def test_authorization_code_flow_with_pkce() -> None:
    verifier = "v" * 43
    challenge = b64url(hashlib.sha256(verifier.encode()).digest())
    back = _authorize(code_challenge=challenge, code_challenge_method="S256")
    assert back["state"] == ["s1"]
    fields = {"grant_type": "authorization_code", "client_id": APP, "code": back["code"][0],
              "redirect_uri": "http://localhost:8400/", "code_verifier": verifier, "scope": "Mail.Send openid"}
    status, doc = token(fields)
    assert status == 200 and jwt_claims(doc["id_token"])["nonce"] == "n1"  # type: ignore[index]
    assert _refused({**fields, "code_verifier": "w" * 43})[2] == 501481
    assert _refused({**fields, "redirect_uri": "http://localhost:9999/"})[2] == 70000


def test_device_code_flow_and_password_and_on_behalf_of() -> None:
    resp = offline_answer(HttpRequest("POST", f"{HOST}/organizations/oauth2/v2.0/devicecode", FORM,
                                      urlencode({"client_id": APP, "scope": "Mail.Send"}).encode()), NOW)
    assert resp is not None and resp.status == 200
    flow = json.loads(resp.body)
    assert flow["user_code"] and flow["interval"] >= 1 and "graphtape" in flow["message"]
    device = {"grant_type": "urn:ietf:params:oauth:grant-type:device_code", "client_id": APP,
              "device_code": flow["device_code"], "scope": "Mail.Send offline_access"}
    assert "refresh_token" in token(device, url=f"{HOST}/organizations/oauth2/v2.0/token")[1]
    password = {"grant_type": "password", "client_id": APP, "username": "megan@contoso.com", "password": "x",
                "scope": "Mail.Send openid"}
    assert jwt_claims(token(password)[1]["id_token"])["preferred_username"] == "megan@contoso.com"  # type: ignore[index]
    user_token = jwt({"upn": "megan@contoso.com"})
    obo = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "client_id": APP, "client_secret": SECRET,
           "assertion": user_token, "requested_token_use": "on_behalf_of",
           "scope": "https://graph.microsoft.com/.default"}
    assert jwt_claims(token(obo)[1]["access_token"])["upn"] == "megan@contoso.com"  # type: ignore[index]
    assert _refused({k: v for k, v in obo.items() if k != "client_secret"})[2] == 7000218


def test_answer_names_the_endpoint_and_the_refusal() -> None:
    found = answer(HttpRequest("POST", f"{HOST}/{TENANT}/oauth2/v2.0/token", FORM,
                               urlencode(client_credentials()).encode()), NOW)
    assert found is not None and found.endpoint == "token v2.0 (client_credentials)" and found.refusal == ""
    refused = answer(HttpRequest("POST", f"{HOST}/{TENANT}/oauth2/v2.0/token", FORM, b"client_id=x"), NOW)
    assert refused is not None and refused.refusal.startswith("invalid_request: AADSTS900144: ")
