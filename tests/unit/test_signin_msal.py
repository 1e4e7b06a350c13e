"""MSAL itself, every flow and every cloud, answered by graphtape.signin: MSAL's own ``http_client`` hook hands
each request to the offline answers in this process (the proxy path is tests/test_proxy_signin.py). A request
the module does not answer fails the test: nothing goes to a network."""

from __future__ import annotations

import json
import warnings
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import msal
import pytest

from graphtape.graph import LOGIN_CLOUDS
from graphtape.model import HttpRequest, HttpResponse
from graphtape.signin import answer
from graphtape.signin.tokens import jwt, jwt_claims

APP = "5b6f2c1e-8a3d-4e7f-9c0b-1d2e3f4a5b6c"
TENANT = "contoso.onmicrosoft.com"
SECRET = "-".join(["a", "secret"])


class _Response:
    def __init__(self, resp: HttpResponse):
        self.status_code = resp.status
        self.text = resp.body.decode("utf-8")
        self.headers = dict(resp.headers)

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise RuntimeError(f"HTTP {self.status_code}: {self.text}")


class OfflineHttp:
    """MSAL's http_client interface (``get``/``post``), answered by graphtape.signin; records what MSAL called."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def _send(self, method: str, url: str, params: Any, body: bytes, headers: Any) -> _Response:
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params)
        self.calls.append(f"{method} {url.split('?')[0]}")
        hdrs = [(k, v) for k, v in (headers or {}).items() if v is not None]
        found = answer(HttpRequest(method, url, hdrs, body))
        assert found is not None, f"graphtape.signin does not answer {method} {url}"
        return _Response(found.response)

    def get(self, url: str, params: Any = None, headers: Any = None, **kwargs: Any) -> _Response:
        return self._send("GET", url, params, b"", headers)

    def post(self, url: str, params: Any = None, data: Any = None, headers: Any = None, **kwargs: Any) -> _Response:
        body = urlencode(data).encode() if isinstance(data, dict) else (data or b"")
        hdrs = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        return self._send("POST", url, params, body if isinstance(body, bytes) else body.encode(), hdrs)

    def close(self) -> None:
        pass


def _ok(result: dict[str, Any] | None) -> dict[str, Any]:
    assert result is not None and "access_token" in result, result
    claims = jwt_claims(result["access_token"])
    assert claims is not None and "graphtape" in claims
    return result


@pytest.mark.parametrize("host", [h for c in LOGIN_CLOUDS for h in c.aliases if h != "sts.windows.net"])
def test_client_credentials_on_every_clouds_host(host: str) -> None:
    http = OfflineHttp()
    app = msal.ConfidentialClientApplication(APP, client_credential=SECRET, authority=f"https://{host}/{TENANT}",
                                             http_client=http)
    _ok(app.acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"]))
    assert http.calls[0] == f"GET https://{host}/{TENANT}/v2.0/.well-known/openid-configuration"
    assert http.calls[-1].startswith(f"POST https://{host}/") and http.calls[-1].endswith("/oauth2/v2.0/token")


def test_a_regional_host_goes_through_instance_discovery() -> None:
    http = OfflineHttp()
    app = msal.ConfidentialClientApplication(APP, client_credential=SECRET, http_client=http,
                                             authority=f"https://westus2.login.microsoft.com/{TENANT}")
    _ok(app.acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"]))
    assert http.calls[:2] == ["GET https://login.microsoftonline.com/common/discovery/instance",
                              f"GET https://westus2.login.microsoft.com/{TENANT}/v2.0/.well-known/openid-configuration"]


def test_refresh_token_then_silent_from_the_cache() -> None:
    http = OfflineHttp()
    app = msal.PublicClientApplication(APP, authority=f"https://login.microsoftonline.com/{TENANT}", http_client=http)
    _ok(app.acquire_token_by_refresh_token("from-config", scopes=["Mail.Send"]))
    (account,) = app.get_accounts()
    assert account["username"]
    _ok(app.acquire_token_silent(["Mail.Send"], account=account, force_refresh=True))


def test_device_flow() -> None:
    http = OfflineHttp()
    app = msal.PublicClientApplication(APP, authority="https://login.microsoftonline.com/organizations",
                                       http_client=http)
    flow = app.initiate_device_flow(scopes=["Mail.Send"])
    assert "user_code" in flow, flow
    result = _ok(app.acquire_token_by_device_flow(flow))
    (account,) = app.get_accounts()  # the account from the id token: MSAL asked for openid with the device code
    assert account["username"] == "offline.user@graphtape.invalid" and "refresh_token" in result
    base = "https://login.microsoftonline.com/organizations"
    assert http.calls == [f"GET {base}/v2.0/.well-known/openid-configuration", f"POST {base}/oauth2/v2.0/devicecode",
                          f"POST {base}/oauth2/v2.0/token"]


def test_auth_code_flow_with_the_browser_step_answered_too() -> None:
    http = OfflineHttp()
    app = msal.PublicClientApplication(APP, authority=f"https://login.microsoftonline.com/{TENANT}", http_client=http)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # MSAL recommends response_mode="form_post"; the query works
        flow = app.initiate_auth_code_flow(["Mail.Send"], redirect_uri="http://localhost:8400/")
    browser = answer(HttpRequest("GET", flow["auth_uri"]))
    assert browser is not None and browser.response.status == 302
    location = dict(browser.response.headers)["Location"]
    auth_response = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    result = _ok(app.acquire_token_by_auth_code_flow(flow, auth_response))  # MSAL checks state, nonce, PKCE
    assert result["id_token_claims"]["aud"] == APP


def test_username_password_reads_the_user_realm() -> None:
    http = OfflineHttp()
    app = msal.PublicClientApplication(APP, authority="https://login.microsoftonline.com/organizations",
                                       http_client=http)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # MSAL deprecates ROPC; apps still use it
        result = _ok(app.acquire_token_by_username_password("megan@contoso.com", "x", scopes=["Mail.Send"]))
    assert result["id_token_claims"]["preferred_username"] == "megan@contoso.com"
    assert "GET https://login.microsoftonline.com/common/userrealm/megan@contoso.com" in http.calls


def test_on_behalf_of() -> None:
    app = msal.ConfidentialClientApplication(APP, client_credential=SECRET, http_client=OfflineHttp(),
                                             authority=f"https://login.microsoftonline.com/{TENANT}")
    result = _ok(app.acquire_token_on_behalf_of(jwt({"upn": "megan@contoso.com"}), ["Mail.Send"]))
    assert json.dumps(jwt_claims(result["access_token"])).count("megan@contoso.com") == 1


def test_an_apps_mistake_still_shows_as_entras_error() -> None:
    app = msal.ConfidentialClientApplication(APP, client_credential=SECRET, http_client=OfflineHttp(),
                                             authority=f"https://login.microsoftonline.com/{TENANT}")
    result = app.acquire_token_for_client(scopes=["https://graph.microsoft.com/Mail.Send"])  # needs /.default
    assert result is not None and result.get("error") == "invalid_scope", result
    assert "AADSTS1002012" in result["error_description"]
