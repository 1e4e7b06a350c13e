"""Which Microsoft Entra sign-in endpoint a URL names: its kind, the authority it hangs off, the tenant.

Pure. The hosts come from ``graphtape.graph`` (the one place that knows them); the paths are those
azure-identity and MSAL call: instance discovery, OpenID configuration (v2.0 and v1), signing keys,
token, device code, authorize, user realm.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from graphtape.graph import LoginCloud, is_login_host, login_cloud

COMMON_TENANTS = ("common", "organizations", "consumers")  # names of no tenant: a user's home tenant decides
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_NAMESPACE = uuid.UUID("5a0f3c52-8f36-4d1e-9c63-7a5b8e2f1d40")  # graphtape's: fake ids derived from names


class Kind(StrEnum):
    INSTANCE_DISCOVERY = "instance discovery"
    OPENID_CONFIGURATION = "openid-configuration"
    KEYS = "signing keys"
    TOKEN = "token"
    DEVICE_CODE = "device code"
    AUTHORIZE = "authorize"
    USER_REALM = "user realm"


# (kind, v2.0?, what follows the authority); the v2.0 forms first, so "/t/v2.0/..." is not read as authority "/t/v2.0"
_ROUTES: tuple[tuple[Kind, bool, str], ...] = (
    (Kind.OPENID_CONFIGURATION, True, "/v2.0/.well-known/openid-configuration"),
    (Kind.OPENID_CONFIGURATION, False, "/.well-known/openid-configuration"),
    (Kind.KEYS, True, "/discovery/v2.0/keys"),
    (Kind.KEYS, False, "/discovery/keys"),
    (Kind.TOKEN, True, "/oauth2/v2.0/token"),
    (Kind.TOKEN, False, "/oauth2/token"),
    (Kind.DEVICE_CODE, True, "/oauth2/v2.0/devicecode"),
    (Kind.DEVICE_CODE, False, "/oauth2/devicecode"),
    (Kind.AUTHORIZE, True, "/oauth2/v2.0/authorize"),
    (Kind.AUTHORIZE, False, "/oauth2/authorize"),
    (Kind.INSTANCE_DISCOVERY, False, "/discovery/instance"),
)
_USER_REALM = re.compile(r"^/common/userrealm/(?P<user>[^/]+)$", re.I)


@dataclass(frozen=True)
class Endpoint:
    kind: Kind
    host: str  # lower case, as the client named it
    authority: str  # the path before the endpoint: "/contoso.onmicrosoft.com", "/tenant/B2C_1_signin"
    v2: bool  # the v2.0 endpoint (else v1)
    user: str = ""  # user realm: the user name asked about

    @property
    def tenant(self) -> str:
        """The tenant the authority names ("common", a GUID, a domain), or for a path-less External ID host,
        its own tenant."""
        first = self.authority.strip("/").split("/", 1)[0]
        return first or self.host.split(".", 1)[0] + ".onmicrosoft.com"

    @property
    def tenant_id(self) -> str:
        return tenant_id(self.tenant)

    @property
    def base(self) -> str:
        """``https://host/authority``: what the other endpoints of this authority hang off."""
        return f"https://{self.host}{self.authority}"

    @property
    def cloud(self) -> LoginCloud | None:
        return login_cloud(self.host)


def tenant_id(tenant: str) -> str:
    """A tenant GUID as given; for a name (contoso.onmicrosoft.com, common), a fake GUID derived from it, the same
    every time (real Entra resolves the name; graphtape cannot, offline)."""
    if _GUID.match(tenant):
        return tenant.lower()
    return str(uuid.uuid5(_NAMESPACE, "tenant:" + tenant.lower()))


def fake_id(*parts: str) -> str:
    """A stable fake GUID for what ``parts`` name (a user of a tenant, an app)."""
    return str(uuid.uuid5(_NAMESPACE, ":".join(p.lower() for p in parts)))


def parse_endpoint(url: str) -> Endpoint | None:
    """The sign-in endpoint ``url`` names on a login host; None for any other host or path."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    if not is_login_host(host):
        return None
    path = re.sub(r"/{2,}", "/", parts.path or "/").rstrip("/")
    m = _USER_REALM.match(path)
    if m:
        return Endpoint(Kind.USER_REALM, host, "/common", False, user=m.group("user"))
    lower = path.lower()
    for kind, v2, tail in _ROUTES:
        if lower.endswith(tail):
            authority = path[: len(path) - len(tail)]
            if authority.count("/") > 2 or (not authority and not host.endswith(".ciamlogin.com")):
                return None  # at most "/tenant/policy" (B2C); no tenant at all only on an External ID host
            return Endpoint(kind, host, authority, v2)
    return None
