"""What graphtape knows about Microsoft Graph URLs: hosts, versions, scope and normalisation.

This is the one place that knows which hosts are Graph and how two URLs that a client may spell
differently (``/v1.0//me``, ``AAMk...%3D`` vs ``AAMk...=``) are the same request.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from graphtape.model import HttpResponse

GRAPH_HOSTS: tuple[str, ...] = (
    "graph.microsoft.com",  # global service
    "graph.microsoft.us",  # US Government L4
    "dod-graph.microsoft.us",  # US Government L5 (DoD)
    "microsoftgraph.chinacloudapi.cn",  # China, operated by 21Vianet
)
GRAPH_BASE = f"https://{GRAPH_HOSTS[0]}"  # where calls go when no upstream is given
VERSIONS: tuple[str, ...] = ("v1.0", "beta")


@dataclass(frozen=True)
class LoginCloud:
    """One cloud's Microsoft Entra sign-in hosts (the aliases instance discovery groups) and its Graph host."""

    name: str  # what openid-configuration calls ``cloud_instance_name``
    aliases: tuple[str, ...]  # the first is the preferred host (``preferred_network``)
    graph_host: str  # "" where graphtape does not know it


# The sign-in hosts of every cloud that azure-identity and MSAL know (AzureAuthorityHosts and
# msal.authority.WELL_KNOWN_AUTHORITY_HOSTS), grouped as instance discovery groups them.
LOGIN_CLOUDS: tuple[LoginCloud, ...] = (
    LoginCloud("microsoftonline.com", ("login.microsoftonline.com", "login.windows.net", "login.microsoft.com",
                                       "sts.windows.net"), "graph.microsoft.com"),
    LoginCloud("microsoftonline.us", ("login.microsoftonline.us", "login.usgovcloudapi.net"), "graph.microsoft.us"),
    LoginCloud("microsoftonline.us", ("login-us.microsoftonline.com",), "graph.microsoft.us"),
    LoginCloud("partner.microsoftonline.cn", ("login.partner.microsoftonline.cn", "login.chinacloudapi.cn"),
               "microsoftgraph.chinacloudapi.cn"),
    LoginCloud("microsoftonline.de", ("login.microsoftonline.de",), "graph.microsoft.de"),  # closed in 2021
    LoginCloud("sovcloud-identity.fr", ("login.sovcloud-identity.fr",), ""),
    LoginCloud("sovcloud-identity.de", ("login.sovcloud-identity.de",), ""),
    LoginCloud("sovcloud-identity.sg", ("login.sovcloud-identity.sg",), ""),
)
# Hosts that issue tokens: never recorded, never shown (replay answers their sign-in endpoints offline).
LOGIN_HOSTS: tuple[str, ...] = (*(h for c in LOGIN_CLOUDS for h in c.aliases), "login.live.com")
# Tenants' own sign-in hosts (Azure AD B2C, Entra External ID): ``contoso.b2clogin.com``, ``x.ciamlogin.com``.
LOGIN_HOST_SUFFIXES: tuple[str, ...] = (".b2clogin.com", ".b2clogin.cn", ".b2clogin.us", ".b2clogin.de",
                                        ".ciamlogin.com")

_SLASHES = re.compile(r"/{2,}")


def is_graph_host(host: str) -> bool:
    return host.lower().rstrip(".") in GRAPH_HOSTS


def is_login_host(host: str) -> bool:
    """A Microsoft Entra sign-in host of any cloud, a regional one (``westus2.login.microsoft.com``), or a
    B2C / External ID tenant's."""
    host = host.lower().rstrip(".")
    if host in LOGIN_HOSTS or host.endswith(LOGIN_HOST_SUFFIXES):
        return True
    return host.partition(".")[2] in LOGIN_HOSTS


def login_cloud(host: str) -> LoginCloud | None:
    """The cloud a sign-in host belongs to (a regional host: its base host's); None for B2C and unknown hosts."""
    host = host.lower().rstrip(".")
    for cloud in LOGIN_CLOUDS:
        if host in cloud.aliases or host.partition(".")[2] in cloud.aliases:
            return cloud
    return None


def is_token_endpoint(host: str, path: str) -> bool:
    """True for OAuth endpoints (any host): their traffic carries secrets and is never recorded."""
    lpath = path.lower()
    return is_login_host(host) or "/oauth2/" in lpath or lpath.rstrip("/").endswith("/token")


@dataclass(frozen=True)
class GraphUrl:
    """A Graph URL split into the parts matching and the contract care about."""

    host: str  # lower case
    version: str  # "v1.0" or "beta"
    resource: str  # normalised path after the version, starting with "/" (e.g. "/me/sendMail")
    query: tuple[tuple[str, str], ...]  # sorted, decoded

    @property
    def path(self) -> str:
        return f"/{self.version}{self.resource}"

    def key(self) -> str:
        """A string equal for URLs that mean the same request (host aside: any Graph cloud)."""
        q = "&".join(f"{quote(k, safe='$')}={quote(v, safe='$,')}" for k, v in self.query)
        return f"{self.path}?{q}" if q else self.path


_SEGMENT_SAFE = "!$&'()*+,;=:@-._~"
# Characters that unquote and quote(safe=_SEGMENT_SAFE) both leave as they are (no "%": nothing to decode): a path
# of only these (and "/") is normalised already, but for its repeated slashes.
_PLAIN = re.compile(r"[A-Za-z0-9!$&'()*+,;=:@\-._~/]*")


def _segment(seg: str) -> str:
    return seg if _PLAIN.fullmatch(seg) else quote(unquote(seg), safe=_SEGMENT_SAFE)


def normalise_path(path: str) -> str:
    """Collapse repeated slashes and normalise percent-encoding so equal paths compare equal."""
    if "//" not in path and _PLAIN.fullmatch(path):  # the usual path: each segment would come out as it is
        return path
    path = _SLASHES.sub("/", path)
    return "/".join(_segment(seg) for seg in path.split("/"))


def parse_query(query: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(parse_qsl(query, keep_blank_values=True))) if query else ()


def parse_graph_url(url: str) -> GraphUrl | None:
    """Split a URL on a Graph host under /v1.0 or /beta; None for anything out of scope."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not is_graph_host(host):
        return None
    path = normalise_path(parts.path or "/")
    segments = path.split("/", 2)  # "", version, rest
    if len(segments) < 2 or segments[1] not in VERSIONS:
        return None
    resource = "/" + (segments[2] if len(segments) > 2 else "")
    return GraphUrl(host=host, version=segments[1], resource=resource, query=parse_query(parts.query))


def request_key(method: str, url: str, content_range: str = "") -> str:
    """The matching key of a request: method, normalised URL (path and query as a set) and its Content-Range
    (an upload-session chunk is matched by its URL and its range)."""
    return key_of(method, url, parse_graph_url(url), content_range)


def key_of(method: str, url: str, parsed: GraphUrl | None, content_range: str = "") -> str:
    """``request_key`` of a URL already parsed (``parsed`` is ``parse_graph_url(url)``)."""
    suffix = f" [{' '.join(content_range.split()).lower()}]" if content_range else ""
    if parsed is not None:
        return f"{method.upper()} {parsed.key()}{suffix}"
    parts = urlsplit(url)
    q = "&".join(f"{k}={v}" for k, v in parse_query(parts.query))
    base = f"{parts.scheme}://{(parts.netloc or '').lower()}{normalise_path(parts.path or '/')}"
    return f"{method.upper()} {base}" + (f"?{q}" if q else "") + suffix


def error_body(code: str, message: str, request_id: str, *, client_request_id: str | None = None,
               now: _dt.datetime | None = None) -> dict[str, Any]:
    """Graph's error shape: ``{"error": {"code", "message", "innerError": {"date", "request-id", ...}}}``."""
    when = (now or _dt.datetime.now(_dt.UTC)).strftime("%Y-%m-%dT%H:%M:%S")
    inner = {"date": when, "request-id": request_id}
    if client_request_id:
        inner["client-request-id"] = client_request_id
    return {"error": {"code": code, "message": message, "innerError": inner}}


def error_response(
    status: int, code: str, message: str, *, reason: str = "", source: str = "graphtape"
) -> HttpResponse:
    """A response in Graph's error shape (``error_body``), for a request graphtape answers itself."""
    request_id = str(uuid.uuid4())
    body = error_body(code, message, request_id, client_request_id=request_id)
    try:
        phrase = reason or HTTPStatus(status).phrase
    except ValueError:
        phrase = reason
    return HttpResponse(
        status=status,
        reason=phrase,
        headers=[
            ("Content-Type", "application/json; charset=utf-8"),
            ("request-id", request_id),
            ("x-graphtape", source),
        ],
        body=json.dumps(body, ensure_ascii=False).encode("utf-8"),
    )
