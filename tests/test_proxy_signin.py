"""Sign-in offline, through the real proxy with real TLS: an app signs in with azure-identity or MSAL exactly as in
production, records against the stand-in (which answers its sign-in too), then replays offline with no upstream.

The apps below are what a production app holds: a credential object built from its configuration, handed to
msgraph-sdk. Nothing in them knows graphtape (no authority or instance-discovery flags).
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from dev.harness import ProxyProcess

from graphtape.cassette.format import load_cassette
from graphtape.graph import LOGIN_HOSTS
from graphtape.signin.urls import tenant_id
from graphtape.testing.fakegraph import FakeGraph

TENANT = "contoso.onmicrosoft.com"
CLIENT_ID = "5b6f2c1e-8a3d-4e7f-9c0b-1d2e3f4a5b6c"
APP_SECRET = "-".join(["app", "secret", "from", "config"])  # built here: no secret-looking literal in the repo
APP_REFRESH_TOKEN = "-".join(["refresh", "token", "from", "config"])
SENDER = "alex@contoso.com"
TID = tenant_id(TENANT)  # the tenant id graphtape's discovery gives a tenant named by its domain




async def _mail(client: Any, user: str | None) -> tuple[str, str]:
    """Create a draft and send a mail: the msgraph-sdk calls of a small reporting app."""
    from msgraph.generated.models.email_address import EmailAddress
    from msgraph.generated.models.message import Message
    from msgraph.generated.models.recipient import Recipient
    from msgraph.generated.users.item.send_mail.send_mail_post_request_body import SendMailPostRequestBody

    msg = Message(subject="Quarterly report",
                  to_recipients=[Recipient(email_address=EmailAddress(address="megan@contoso.com"))])
    who = client.users.by_user_id(user) if user else client.me
    draft = await who.messages.post(msg)
    await who.send_mail.post(SendMailPostRequestBody(message=msg, save_to_sent_items=True))
    return draft.id, draft.subject


def graph_app(credential: Any, *, graph: str = "graph.microsoft.com", user: str | None = SENDER) -> tuple[str, str]:
    from msgraph import GraphServiceClient

    client = GraphServiceClient(credentials=credential, scopes=[f"https://{graph}/.default"])
    client.request_adapter.base_url = f"https://{graph}/v1.0"
    return asyncio.run(_mail(client, user))


def secret_app(authority: str | None = None, graph: str = "graph.microsoft.com") -> tuple[str, str]:
    from azure.identity import ClientSecretCredential

    kwargs = {"authority": authority} if authority else {}
    return graph_app(ClientSecretCredential(TENANT, CLIENT_ID, APP_SECRET, **kwargs), graph=graph)


def certificate_app(pem: Path) -> tuple[str, str]:
    from azure.identity import CertificateCredential

    return graph_app(CertificateCredential(TENANT, CLIENT_ID, certificate_path=str(pem)))


def msal_refresh_app() -> tuple[str, str]:
    """A public client (a desktop app) that kept a refresh token: MSAL redeems it, the SDK sends with the token."""
    import msal
    from dev.scenario import StaticTokenCredential

    app = msal.PublicClientApplication(CLIENT_ID, authority=f"https://login.microsoftonline.com/{TENANT}")
    scopes = ["https://graph.microsoft.com/Mail.Send"]
    result = app.acquire_token_by_refresh_token(APP_REFRESH_TOKEN, scopes=scopes)
    assert "access_token" in result, result
    (account,) = app.get_accounts()  # MSAL read the account from the answer's id token and client_info
    again = app.acquire_token_silent(scopes, account=account, force_refresh=True)  # the refresh token it kept
    assert again is not None and "access_token" in again, again
    return graph_app(StaticTokenCredential(again["access_token"]), user=None)


def app_certificate(folder: Path) -> Path:
    """A self-signed certificate with its key, made now (as an app's PEM file), for CertificateCredential."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "graphtape test app")])
    now = _dt.datetime.now(_dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - _dt.timedelta(days=1))
            .not_valid_after(now + _dt.timedelta(days=30)).sign(key, hashes.SHA256()))
    pem = folder / "app-cert.pem"
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()) + cert.public_bytes(serialization.Encoding.PEM))
    return pem


def record_then_replay(tmp_path: Path, proxy: Callable[..., ProxyProcess], fake_graph: Any,
                       app: Callable[[], tuple[str, str]]) -> tuple[list[str], dict[str, Any], ProxyProcess]:
    """Record ``app`` against the stand-in (sign-in included), stop the stand-in, replay ``app`` offline.
    Returns the sign-in calls the stand-in saw, the replay's report and its proxy."""
    cassette, report = tmp_path / "app.yaml", tmp_path / "replay.json"
    rec = proxy("record", str(cassette), "--upstream", fake_graph.url, "--upstream-ca", str(fake_graph.cert),
                "--upstream-signin")
    with rec.behind():
        recorded = app()
    assert rec.stop() == 0, rec.output
    signins = [f"{r.method} {r.path}" for r in fake_graph.state.signins]
    assert len(fake_graph.state.received) == 2  # the two Graph calls; sign-in is counted apart
    fake_graph.stop()  # nothing upstream any more: replay must answer everything itself
    loaded = load_cassette(cassette)
    assert [i.request.method for i in loaded.interactions] == ["POST", "POST"]
    assert all(urlsplit(i.request.url).hostname == "graph.microsoft.com" for i in loaded.interactions)
    text = cassette.read_text()
    assert not any(host in text for host in LOGIN_HOSTS)  # sign-in is never recorded
    assert "eyJ" not in text  # nor any token

    rep = proxy("replay", str(cassette), "--report", str(report))
    with rep.behind():
        replayed = app()
    assert rep.stop() == 0, rep.output
    assert replayed == recorded
    return signins, json.loads(report.read_text()), rep


def _outcomes(report: dict[str, Any]) -> list[tuple[str, str, int]]:
    return [(r["outcome"], r["method"] + " " + r["url"].split("://", 1)[1].split("/", 1)[1], r["status"])
            for r in report["requests"]]


SIGNED_IN = "signed-in"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory, confdir: Path) -> Path:
    """``secret_app``'s Graph calls, recorded once against the stand-in (sign-in answered by it)."""
    folder = tmp_path_factory.mktemp("signin-recorded")
    cassette = folder / "secret-app.yaml"
    with FakeGraph(folder / "cert") as fake:
        rec = ProxyProcess(["record", str(cassette), "--upstream", fake.url, "--upstream-ca", str(fake.cert),
                            "--upstream-signin"], confdir).start()
        try:
            with rec.behind():
                secret_app()
        finally:
            assert rec.stop() == 0, rec.output
    return cassette


def test_client_secret_credential_signs_in_offline_and_replays_its_mail(tmp_path, proxy, fake_graph):
    signins, report, rep = record_then_replay(tmp_path, proxy, fake_graph, secret_app)
    tid_token = next(s for s in signins if s.startswith("POST"))
    assert signins == [f"GET https://login.microsoftonline.com/{TENANT}/v2.0/.well-known/openid-configuration",
                       tid_token]
    assert tid_token.endswith("/oauth2/v2.0/token")
    outcomes = _outcomes(report)
    assert [o[0] for o in outcomes] == [SIGNED_IN, SIGNED_IN, "matched", "matched"]
    assert [o[2] for o in outcomes] == [200, 200, 201, 202]
    assert report["summary"]["signed_in_offline"] == 2 and report["summary"]["unmatched"] == 0
    assert "sign-in calls answered offline 2" in rep.stderr
    assert "matched 2, unmatched 0" in rep.stderr


def test_certificate_credential_signs_in_with_a_client_assertion(tmp_path, proxy, fake_graph):
    pem = app_certificate(tmp_path)
    signins, report, _ = record_then_replay(tmp_path, proxy, fake_graph, lambda: certificate_app(pem))
    assert [s.split(" ")[0] for s in signins] == ["GET", "POST"]
    token_call = next(r for r in fake_graph.state.signins if r.method == "POST")
    assert b"client_assertion_type=urn" in token_call.body and b"client_secret" not in token_call.body
    assert [o[0] for o in _outcomes(report)] == [SIGNED_IN, SIGNED_IN, "matched", "matched"]


def test_msal_refresh_token_flow_signs_in_offline(tmp_path, proxy, fake_graph):
    signins, report, _ = record_then_replay(tmp_path, proxy, fake_graph, msal_refresh_app)
    assert [s.split("?")[0] for s in signins] == [
        f"GET https://login.microsoftonline.com/{TENANT}/v2.0/.well-known/openid-configuration",
        f"POST https://login.microsoftonline.com/{TID}/oauth2/v2.0/token",  # the refresh token from config
        f"POST https://login.microsoftonline.com/{TID}/oauth2/v2.0/token",  # graphtape's, from MSAL's cache
    ]
    bodies = [r.body for r in fake_graph.state.signins if r.method == "POST"]
    assert all(b"grant_type=refresh_token" in b for b in bodies)
    assert APP_REFRESH_TOKEN.encode() in bodies[0] and APP_REFRESH_TOKEN.encode() not in bodies[1]
    assert [o[0] for o in _outcomes(report)] == [SIGNED_IN] * 3 + ["matched", "matched"]


@pytest.mark.parametrize(("authority", "graph"), [
    ("login.microsoftonline.us", "graph.microsoft.us"),  # US Government
    ("login.chinacloudapi.cn", "microsoftgraph.chinacloudapi.cn"),  # China (21Vianet)
    ("login.partner.microsoftonline.cn", "microsoftgraph.chinacloudapi.cn"),
])
def test_national_clouds_sign_in_offline(tmp_path, proxy, recorded, authority, graph):
    """A cassette's Graph calls replay on any cloud's Graph host; the cloud's sign-in is answered on its own host."""
    report = tmp_path / "r.json"
    rep = proxy("replay", str(recorded), "--report", str(report))
    with rep.behind():
        assert secret_app(f"https://{authority}", graph)[1] == "Quarterly report"
    assert rep.stop() == 0, rep.output
    requests = json.loads(report.read_text())["requests"]
    assert [r["outcome"] for r in requests] == [SIGNED_IN, SIGNED_IN, "matched", "matched"]
    assert {urlsplit(r["url"]).hostname for r in requests[:2]} == {authority}


def test_offline_signin_off_gives_the_404_of_any_host_that_is_not_graph(tmp_path, proxy, recorded):
    from azure.core.exceptions import ClientAuthenticationError

    report = tmp_path / "r.json"
    rep = proxy("replay", str(recorded), "--no-offline-signin", "--report", str(report))
    with httpx.Client(proxy=rep.url, verify=str(rep.ca)) as c:
        r = c.get(f"https://login.microsoftonline.com/{TENANT}/v2.0/.well-known/openid-configuration")
    assert r.status_code == 404 and r.json()["error"]["code"] == "graphtape.UnmatchedRequest"
    with rep.behind(), pytest.raises(ClientAuthenticationError):
        secret_app()
    assert rep.stop() != 0  # unmatched requests fail the session, as before
    outcomes = [x["outcome"] for x in json.loads(report.read_text())["requests"]]
    assert outcomes and set(outcomes) == {"unmatched"}
    assert "sign-in calls answered offline" not in rep.stderr


def _token_app(seen: list[str]) -> tuple[str, str]:
    """secret_app, noting the access token its credential got (the SDK then uses that same cached token)."""
    from azure.identity import ClientSecretCredential

    credential = ClientSecretCredential(TENANT, CLIENT_ID, APP_SECRET)
    seen.append(credential.get_token("https://graph.microsoft.com/.default").token)
    return graph_app(credential)


def test_a_token_from_graphtape_is_never_written_to_a_cassette_a_report_or_a_log(tmp_path, proxy, fake_graph):
    cassette = tmp_path / "c.yaml"
    written = {mode: (tmp_path / f"{mode}.json", tmp_path / f"{mode}.xml") for mode in ("record", "replay")}
    seen: list[str] = []
    rec = proxy("record", str(cassette), "--upstream", fake_graph.url, "--upstream-ca", str(fake_graph.cert),
                "--upstream-signin", "--report", str(written["record"][0]), "--junit", str(written["record"][1]))
    with rec.behind():
        _token_app(seen)
    assert rec.stop() == 0, rec.output
    fake_graph.stop()
    rep = proxy("replay", str(cassette), "--report", str(written["replay"][0]), "--junit", str(written["replay"][1]))
    with rep.behind():
        _token_app(seen)
    assert rep.stop() == 0, rep.output
    assert len(seen) == 2 and all(t.count(".") == 2 for t in seen)
    texts = {"cassette": cassette.read_text(), "record log": rec.output, "replay log": rep.output}
    texts.update({str(path.name): path.read_text() for pair in written.values() for path in pair})
    for token in seen:
        claims = token.split(".")[1]
        for where, text in texts.items():
            assert token not in text and claims not in text, f"a token graphtape issued is in the {where}"
    for where, text in texts.items():
        assert APP_SECRET not in text, f"the app's secret is in the {where}"
