"""The steps of a user's sign-in before the token endpoint: the authorize redirect (a browser's) and the device
code (``acquire_token_by_device_flow``). Offline nobody signs in: the code comes back at once, and carries
what the token endpoint checks (the app, the redirect URI, the PKCE challenge, the nonce)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from graphtape.model import HttpRequest, HttpResponse
from graphtape.signin.answers import Refusal, missing, redirect
from graphtape.signin.grants import read_form
from graphtape.signin.tokens import USER_NAME, Subject, opaque
from graphtape.signin.urls import Endpoint, fake_id

DEVICE_CODE_LIFETIME_S = 900


def device_code(ep: Endpoint, req: HttpRequest) -> dict[str, Any]:
    if req.method.upper() != "POST":
        raise Refusal("invalid_request", 900561, f"The endpoint only accepts POST, OPTIONS requests. Received a "
                                                 f"{req.method.upper()} request.")
    form = read_form(req)
    client_id = form.get("client_id") or ""
    if not client_id:
        raise missing("client_id")
    if ep.v2 and not form.get("scope"):
        raise missing("scope")
    return {
        "user_code": "GRAPHTAPE",
        "device_code": opaque("device-code", {"client_id": client_id, "user": USER_NAME,
                                              "scope": form.get("scope") or form.get("resource", "")}),
        "verification_uri": "https://microsoft.com/devicelogin",
        "expires_in": DEVICE_CODE_LIFETIME_S,
        "interval": 1,
        "message": "graphtape offline sign-in: there is nothing to do, the sign-in completes by itself.",
    }


def authorize(ep: Endpoint, req: HttpRequest) -> HttpResponse:
    """The browser's authorize request, answered with the redirect Entra gives once the user has signed in."""
    query = dict(parse_qsl(urlsplit(req.url).query, keep_blank_values=True))
    for name in ("client_id", "redirect_uri", "response_type"):
        if not query.get(name):
            raise missing(name)
    if "code" not in query["response_type"].split():
        raise Refusal("unsupported_response_type", 700054, f"response_type '{query['response_type']}' is not "
                                                           "answered offline: graphtape answers the code flow.")
    client_id, redirect_uri = query["client_id"], query["redirect_uri"]
    code = opaque("code", {"client_id": client_id, "redirect_uri": redirect_uri, "user": USER_NAME,
                           "scope": query.get("scope", ""), "nonce": query.get("nonce", ""),
                           "code_challenge": query.get("code_challenge", "")})
    answer = {"code": code}
    if query.get("state"):
        answer["state"] = query["state"]
    if query.get("client_info") == "1":
        tid = ep.tenant_id
        answer["client_info"] = Subject(tid, client_id, fake_id("user", tid, USER_NAME), USER_NAME).client_info()
    sep = "#" if query.get("response_mode") == "fragment" else ("&" if "?" in redirect_uri else "?")
    return redirect(f"{redirect_uri}{sep}{urlencode(answer)}")
