"""Sign-in offline: Microsoft Entra's sign-in endpoints of every cloud, answered by graphtape with well-formed,
clearly fake documents and tokens, so an app signs in unchanged (its code, its credential object) in replay.

Pure: ``answer(request)`` is the answer to a sign-in request, or None for anything else. The hosts are
``graph.LOGIN_CLOUDS``; the endpoints ``signin.urls``. Nothing here is ever recorded: record and inspect leave
these hosts alone (``graph.is_token_endpoint``), and replay answers them without a cassette.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from urllib.parse import urlsplit

from graphtape.model import HttpRequest, HttpResponse
from graphtape.signin import documents, grants, interactive
from graphtape.signin.answers import ErrorIds, Refusal, error_response, json_response
from graphtape.signin.urls import Endpoint, Kind, parse_endpoint

__all__ = ["SignInAnswer", "answer", "is_signin_request", "offline_answer"]


@dataclass(frozen=True)
class SignInAnswer:
    response: HttpResponse
    endpoint: str  # "token (client_credentials)", "openid-configuration v2.0", ...
    refusal: str = ""  # the AADSTS error a malformed request got ("" when answered)


def is_signin_request(req: HttpRequest) -> bool:
    return parse_endpoint(req.url) is not None


def offline_answer(req: HttpRequest, now: _dt.datetime | None = None) -> HttpResponse | None:
    """The offline answer to a sign-in request (an error in Entra's shape for a malformed one); None otherwise."""
    found = answer(req, now)
    return found.response if found is not None else None


def answer(req: HttpRequest, now: _dt.datetime | None = None) -> SignInAnswer | None:
    """``offline_answer`` with what was asked and, for a refused request, why."""
    ep = parse_endpoint(req.url)
    if ep is None:
        return None
    when = now or _dt.datetime.now(_dt.UTC)
    what = _describe(ep)
    try:
        response, what = _answer(ep, req, int(when.timestamp()), what)
    except Refusal as r:
        return SignInAnswer(error_response(r, ErrorIds.of(req, when), ep.host), what, str(r))
    return SignInAnswer(response, what)


def _describe(ep: Endpoint) -> str:
    version = "" if ep.kind in (Kind.INSTANCE_DISCOVERY, Kind.USER_REALM) else (" v2.0" if ep.v2 else " v1")
    return f"{ep.kind}{version}"


def _answer(ep: Endpoint, req: HttpRequest, now: int, what: str) -> tuple[HttpResponse, str]:
    if ep.kind == Kind.TOKEN:
        grant = grants.read_grant(ep, req, now)
        return json_response(grants.token_response(grant)), f"{what} ({grant.form['grant_type']})"
    if ep.kind == Kind.DEVICE_CODE:
        return json_response(interactive.device_code(ep, req)), what
    if ep.kind == Kind.AUTHORIZE:
        return interactive.authorize(ep, req), what
    if req.method.upper() not in ("GET", "HEAD"):
        raise Refusal("invalid_request", 900561, f"The endpoint only accepts GET requests. Received a "
                                                 f"{req.method.upper()} request.")
    if ep.kind == Kind.INSTANCE_DISCOVERY:
        return json_response(documents.instance_discovery(ep, urlsplit(req.url).query)), what
    if ep.kind == Kind.OPENID_CONFIGURATION:
        return json_response(documents.openid_configuration(ep)), what
    if ep.kind == Kind.KEYS:
        return json_response(documents.signing_keys()), what
    return json_response(documents.user_realm(ep)), what
