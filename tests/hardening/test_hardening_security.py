"""Security: loopback by default, proxy authentication, no secret in any file or output, pseudonymized
cassettes that still replay, and cassette paths that cannot leave their folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from dev.harness import ProxyProcess
from dev.scenario import mime_b64
from hardening_upstream import Upstream

from conftest import TOKEN
from graphtape.cassette.format import load_cassette, save_cassette
from graphtape.cassette.paths import UnsafeCassettePath, safe_cassette_path
from graphtape.cli import proxy_url
from graphtape.model import HttpRequest, HttpResponse, Interaction
from graphtape.privacy.pseudonymize import META_KEY, Pseudonymizer
from graphtape.proxy.standalone import is_loopback

GRAPH = "https://graph.microsoft.com/v1.0"
MESSAGES = f"{GRAPH}/me/messages"


@pytest.fixture
def upstream(tmp_path_factory):
    with Upstream(tmp_path_factory.getbasetemp() / "upstream-cert") as u:
        yield u


def _draft_cassette(path: Path) -> Path:
    save_cassette(path, [Interaction(
        HttpRequest("POST", MESSAGES, [("Content-Type", "application/json")], b'{"subject":"Hi"}'),
        HttpResponse(201, "Created", [("Content-Type", "application/json")], b'{"id":"AAMk1","subject":"Hi"}'))])
    return path


# --------------------------------------------------------------------------- where it listens


def test_the_proxy_listens_on_loopback_unless_told_and_warns_when_told(tmp_path, confdir):
    cassette = _draft_cassette(tmp_path / "c.yaml")
    with ProxyProcess(["replay", str(cassette)], confdir) as p:
        assert p.url.startswith("http://127.0.0.1:")
    with ProxyProcess(["replay", str(cassette), "--host", "0.0.0.0"], confdir) as p:
        pass
    assert "warning: listening on 0.0.0.0, reachable from other machines" in p.stderr
    assert "--host 127.0.0.1" in p.stderr


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("127.0.0.2", True), ("::1", True),
                                                 ("localhost", True), ("0.0.0.0", False), ("::", False),
                                                 ("192.168.1.5", False), ("example.org", False)])
def test_which_hosts_count_as_loopback(host, loopback):
    assert is_loopback(host) is loopback


# --------------------------------------------------------------------------- proxy authentication


def test_proxyauth_refuses_clients_without_credentials_with_407(tmp_path, confdir):
    cassette = _draft_cassette(tmp_path / "c.yaml")
    with ProxyProcess(["replay", str(cassette), "--proxyauth", "alice:s3cr3t-pw"], confdir) as p:
        with httpx.Client(proxy=p.url, verify=str(p.ca)) as c, pytest.raises(httpx.ProxyError, match="407"):
            c.post(MESSAGES, json={"subject": "Hi"})
        wrong = p.url.replace("http://", "http://alice:wrong@")
        with httpx.Client(proxy=wrong, verify=str(p.ca)) as c, pytest.raises(httpx.ProxyError, match="407"):
            c.post(MESSAGES, json={"subject": "Hi"})
        plain = httpx.post("http://graph.microsoft.com/v1.0/me/messages", json={"subject": "Hi"}, proxy=p.url)
        assert plain.status_code == 407  # plain-HTTP proxying too
        host, port = p.url.removeprefix("http://").split(":")
        with httpx.Client(proxy=proxy_url(host, int(port), "alice:s3cr3t-pw"), verify=str(p.ca)) as c:
            r = c.post(MESSAGES, json={"subject": "Hi"})
        assert r.status_code == 201 and r.json()["id"] == "AAMk1"
    assert "s3cr3t-pw" not in p.output
    assert "matched 1, unmatched 0" in p.stderr  # the refused attempts never reached the cassette


def test_run_gives_the_command_the_proxy_credentials(tmp_path, confdir):
    cassette = _draft_cassette(tmp_path / "c.yaml")
    script = tmp_path / "client.py"
    script.write_text("import os, sys, requests\n"
                      f"r = requests.post({MESSAGES!r}, json={{'subject': 'Hi'}}, timeout=20)\n"
                      "print(r.status_code, os.environ['HTTPS_PROXY'].split('@')[0].startswith('http://alice:'))\n")
    out = subprocess.run([sys.executable, "-m", "graphtape.cli", "run", "--cassette", str(cassette), "--confdir",
                          str(confdir), "--quiet", "--", sys.executable, str(script)],
                         capture_output=True, text=True, timeout=120,
                         env={**os.environ, "GRAPHTAPE_PROXYAUTH": "alice:pw-from-env"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1].split() == ["201", "True"]
    assert "pw-from-env" not in out.stderr


def test_a_malformed_proxyauth_is_a_usage_error(tmp_path):
    out = subprocess.run([sys.executable, "-m", "graphtape.cli", "replay", str(_draft_cassette(tmp_path / "c.yaml")),
                          "--proxyauth", "no-colon"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "--proxyauth takes USER:PASS" in out.stderr


# --------------------------------------------------------------------------- no secret anywhere

CLIENT_SECRET = "Qx8~client-secret-value-0123456789"
COOKIE = "ESTSAUTH=cookie-secret-value-9876543210"
SECRETS = [TOKEN, CLIENT_SECRET, COOKIE.split("=", 1)[1], "s3cr3t-pw"]


def _send_secrets(p: ProxyProcess) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "Cookie": COOKIE}
    with httpx.Client(proxy=p.url, verify=str(p.ca), timeout=20, headers=headers) as c:
        assert c.post(MESSAGES, json={"subject": "with a token"}).status_code in (201, 200)
        query = urlencode({"authtoken": TOKEN, "client_secret": CLIENT_SECRET})
        c.post(f"{MESSAGES}?{query}", json={"subject": "in the query"})
        c.get(f"{GRAPH}/me/mailFolders?access_token={TOKEN}")
        # a token request: form body with the client secret, to the token endpoint (out of scope: passed on)
        c.post("https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
               data={"grant_type": "client_credentials", "client_id": "x", "client_secret": CLIENT_SECRET,
                     "scope": "https://graph.microsoft.com/.default"})


@pytest.mark.parametrize("mode", ["record", "inspect"])
def test_no_token_key_or_cookie_reaches_a_cassette_report_or_log(tmp_path, confdir, upstream, mode):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    args = [mode, *([str(out_dir / "c.yaml")] if mode == "record" else []), "--upstream", upstream.url,
            "--upstream-ca", str(upstream.cert), "--report", str(out_dir / "report.json"),
            "--junit", str(out_dir / "junit.xml")]
    with ProxyProcess(args, confdir) as p:
        _send_secrets(p)
    written = sorted(out_dir.iterdir())
    assert {f.name for f in written} >= {"report.json", "junit.xml"} | ({"c.yaml"} if mode == "record" else set())
    everything = {f.name: f.read_text(errors="replace") for f in written}
    everything["output"] = p.output
    for name, text in everything.items():
        for secret in SECRETS:
            assert secret not in text, f"{secret[:12]}... in {name}"
    if mode == "record":
        text = everything["c.yaml"]
        assert "authtoken=%3Credacted%3E" in text or "authtoken=<redacted>" in text
        assert "client_secret" in text and "login.microsoftonline.com" not in text  # token calls never recorded
        assert len(load_cassette(out_dir / "c.yaml").interactions) == 3
    assert "/me/messages" in everything["report.json"]  # the report is about these calls, and it is clean


# --------------------------------------------------------------------------- pseudonymized cassettes

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
REAL = ["megan.bowen@contoso.com", "MeganB@contoso.com", "adele.vance@contoso.com", "Megan Bowen", "Adele Vance",
        "Bowen", TENANT, "contoso"]
MIME = (b"From: Megan Bowen <megan.bowen@contoso.com>\r\nTo: \"Adele Vance\" <adele.vance@contoso.com>\r\n"
        b"Cc: =?utf-8?q?Ad=C3=A8le_Vance?= <adele.vance@contoso.com>\r\nSubject: Report for Adele Vance\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        b"Hi Adele Vance, tenant " + TENANT.encode() + b". Megan Bowen\r\n")


def _pseudonymized_calls(c: httpx.Client) -> list[httpx.Response]:
    draft = {"subject": "Quarterly", "toRecipients": [
        {"emailAddress": {"name": "Adele Vance", "address": "adele.vance@contoso.com"}}],
        "body": {"contentType": "text", "content": "Dear Adele Vance, see tenant " + TENANT}}
    return [
        c.post(f"{GRAPH}/users/megan.bowen@contoso.com/messages", json=draft,
               headers={"X-AnchorMailbox": "UPN:megan.bowen@contoso.com", "client-request-id": TENANT}),
        c.post(f"{GRAPH}/users/{TENANT}/sendMail", content=mime_b64(MIME.decode()),
               headers={"Content-Type": "text/plain"}),
        c.post(f"{GRAPH}/users/MeganB@contoso.com/messages?$filter=from/emailAddress/address eq "
               "'adele.vance@contoso.com'", json={"subject": "by filter"}),
    ]


def test_a_pseudonymized_cassette_holds_no_real_name_and_still_replays(tmp_path, confdir, upstream):
    cassette = tmp_path / "shared.yaml"
    with ProxyProcess(["record", str(cassette), "--pseudonymize", "--upstream", upstream.url, "--upstream-ca",
                       str(upstream.cert)], confdir) as rec, httpx.Client(proxy=rec.url, verify=str(rec.ca)) as c:
        recorded = _pseudonymized_calls(c)
    assert [r.status_code for r in recorded] == [201, 201, 201]
    text = cassette.read_text()
    for real in REAL:
        assert real.lower() not in text.lower(), real
    loaded = load_cassette(cassette)
    salt = loaded.meta[META_KEY]["salt"]
    pz = Pseudonymizer(bytes.fromhex(salt))
    fake_adele = pz.email("adele.vance@contoso.com")
    assert text.count(fake_adele) >= 4  # JSON recipient, MIME To and Cc, the $filter: one fake, everywhere
    assert pz.email("Adele.Vance@Contoso.com") == fake_adele
    assert f"Person {pz.name('Adele Vance')[-6:]}" in text
    urls = [i.request.url for i in loaded.interactions]
    assert urls[0].startswith(f"{GRAPH}/users/{pz.email('megan.bowen@contoso.com')}/messages")
    assert urls[1] == f"{GRAPH}/users/{pz.guid(TENANT)}/sendMail"
    assert "mime: \"From: Person " in text and "Content-Type: text/plain" in text  # still readable MIME

    with ProxyProcess(["replay", str(cassette)], confdir) as rep, httpx.Client(proxy=rep.url, verify=str(rep.ca)) as c:
        replayed = _pseudonymized_calls(c)  # the unchanged client, sending the real values
        fake_client = c.post(f"{GRAPH}/users/{pz.email('MeganB@contoso.com')}/messages?$filter=from/emailAddress/"
                             f"address eq '{fake_adele}'", json={"subject": "by filter"})
    assert [r.status_code for r in replayed] == [201, 201, 201]
    assert replayed[0].json()["subject"] == "Quarterly"
    assert fake_client.status_code == 410  # matched the (used) recording: fake values match too
    assert "matched 3, unmatched 0, exhausted 1" in rep.stderr and "deviations 0" in rep.stderr, rep.output


def test_appending_keeps_the_same_fake_values_and_never_mixes_in_real_ones(tmp_path):
    from graphtape.cassette.recorder import Recorder, RecordMode
    from graphtape.privacy.redaction import Redactor

    def call(addr: str) -> Interaction:
        body = json.dumps({"toRecipients": [{"emailAddress": {"address": addr}}]}).encode()
        return Interaction(HttpRequest("POST", MESSAGES, [("Content-Type", "application/json")], body),
                           HttpResponse(202, "Accepted"))

    path = tmp_path / "c.yaml"
    Recorder(path, RecordMode.NEW, Redactor(), pseudonymize=True).add(call("a@contoso.com"))
    Recorder(path, RecordMode.APPEND, Redactor()).add(call("a@contoso.com"))  # stays pseudonymized
    bodies = [i.request.body for i in load_cassette(path).interactions]
    assert bodies[0] == bodies[1] and b"contoso" not in bodies[0]
    real = tmp_path / "real.yaml"
    Recorder(real, RecordMode.NEW, Redactor()).add(call("a@contoso.com"))
    with pytest.raises(Exception, match="holds real"):
        Recorder(real, RecordMode.APPEND, Redactor(), pseudonymize=True)


# --------------------------------------------------------------------------- cassette paths


@pytest.mark.parametrize("name", ["../x.yaml", "a/../../x.yaml", "/etc/passwd", "", ".", "a\x00b.yaml", "..",
                                  "sub/..", "a/../"])
def test_a_cassette_name_cannot_leave_the_folder(tmp_path, name):
    with pytest.raises(UnsafeCassettePath, match="cassettes must stay under"):
        safe_cassette_path(tmp_path, name)


def test_symlinks_out_of_the_folder_are_refused(tmp_path):
    root, outside = tmp_path / "cassettes", tmp_path / "elsewhere"
    root.mkdir()
    outside.mkdir()
    (root / "linked").symlink_to(outside)
    (root / "file.yaml").symlink_to(outside / "target.yaml")
    (root / "inside").symlink_to(root / "real", target_is_directory=True)
    for name in ("linked/x.yaml", "file.yaml"):
        with pytest.raises(UnsafeCassettePath, match="outside the cassette folder"):
            safe_cassette_path(root, name)
    assert safe_cassette_path(root, "inside/x.yaml") == (root / "real" / "x.yaml").resolve()


def test_ordinary_names_stay_under_the_folder(tmp_path):
    assert safe_cassette_path(tmp_path, "test_mail.yaml") == tmp_path.resolve() / "test_mail.yaml"
    assert safe_cassette_path(str(tmp_path), Path("tests/test_x/case[1-a].yaml")) == \
        tmp_path.resolve() / "tests/test_x/case[1-a].yaml"
    assert safe_cassette_path(tmp_path, "a..b.yaml").name == "a..b.yaml"  # dots in a name are fine
