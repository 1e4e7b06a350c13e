"""--pseudonymize leaves no real identity (issue 11, item 11): percent-encoded UPNs, the tenant domain,
RFC 2047 and RFC 2231 encoded names, a forwarded message's names, mailNickname, and the record session's
report, JUnit file and log."""

from __future__ import annotations

import base64
import email
import email.policy
import json
from urllib.parse import quote

import httpx
import pytest
from dev.harness import ProxyProcess
from hardening_upstream import Upstream

from graphtape.cassette.format import load_cassette
from graphtape.model import HttpRequest, HttpResponse, Interaction
from graphtape.privacy.pseudonymize import META_KEY, Pseudonymizer

GRAPH = "https://graph.microsoft.com/v1.0"
UPN = "alice.smith@contoso.com"
GUID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
PZ = Pseudonymizer(bytes(range(16)))
REAL = ["alice.smith", "contoso", "Alice Smith", "Adèle Vance", "Adele Vance", "AliceS", "Bob Jones", GUID]


def _b64word(text: str) -> str:
    return "=?utf-8?B?" + base64.b64encode(text.encode()).decode() + "?="


def _assert_no_real(text: str) -> None:
    for real in REAL:
        assert real.lower() not in text.lower(), f"{real!r} in {text!r}"


def test_percent_encoded_upns_and_the_tenant_domain_in_odata_links() -> None:
    pct = quote(UPN, safe="")
    doc = {"@odata.context": f"{GRAPH}/$metadata#users('{pct}')/messages",
           "@odata.nextLink": f"{GRAPH}/users/{pct}/messages?$filter=endswith(from/emailAddress/address,'contoso.com')",
           "value": [{"from": {"emailAddress": {"address": UPN}}}]}
    resp = HttpResponse(200, "OK", [("Content-Type", "application/json")], json.dumps(doc).encode())
    out = PZ.interaction(Interaction(HttpRequest("GET", f"{GRAPH}/users/{pct}/messages"), resp))
    text = out.request.url + out.response.body.decode()
    _assert_no_real(text)
    fake = PZ.email(UPN)
    assert quote(fake, safe="") in json.loads(out.response.body)["@odata.context"]
    assert f"'{fake.rpartition('@')[2]}'" in json.loads(out.response.body)["@odata.nextLink"]  # one fake domain


def test_a_request_is_pseudonymized_from_what_it_holds_alone() -> None:
    """Record and replay must rewrite a request alike: what an earlier call taught must not matter."""
    req = HttpRequest("GET", f"{GRAPH}/users?$filter=endswith(mail,'contoso.com')")
    PZ.request(HttpRequest("GET", f"{GRAPH}/users/{UPN}"))
    assert PZ.request(req) == Pseudonymizer(PZ.salt).request(req)


def _mime() -> str:
    forwarded = (f"From: Bob Jones <bob.jones@contoso.com>\r\nTo: {_b64word('Alice Smith')} <{UPN}>\r\n"
                 "Subject: original\r\n\r\nHi Alice Smith\r\n")
    return (f"From: {_b64word('Alice Smith')} <{UPN}>\r\nTo: \"Adèle Vance\" <adele.vance@contoso.com>\r\n"
            f"Subject: {_b64word('Report for Adèle Vance')}\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=b1\r\n\r\n"
            "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nsee attached\r\n"
            "--b1\r\nContent-Type: application/pdf; name*=utf-8''Ad%C3%A8le%20Vance%20CV.pdf\r\n"
            "Content-Disposition: attachment; filename*=utf-8''Ad%C3%A8le%20Vance%20CV.pdf\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n"
            f"--b1\r\nContent-Type: message/rfc822\r\n\r\n{forwarded}--b1--\r\n")


def test_mime_names_in_encoded_words_file_names_and_a_forwarded_message() -> None:
    body = base64.b64encode(_mime().encode())  # UTF-8 headers (RFC 6532) beside the encoded ones
    req = HttpRequest("POST", f"{GRAPH}/me/sendMail", [("Content-Type", "text/plain")], body)
    out = base64.b64decode(PZ.request(req).body).decode("utf-8")
    msg = email.message_from_string(out, policy=email.policy.default)
    shown = out + str(msg["Subject"]) + str(msg["From"]) + "".join(str(p.get_filename()) for p in msg.walk())
    inner = next(p for p in msg.walk() if p.get_content_type() == "message/rfc822")
    shown += str(inner)
    _assert_no_real(shown)
    assert str(msg["Subject"]) == f"Report for {PZ.name('Adèle Vance')}"
    assert str(msg["From"]) == f"{PZ.name('Alice Smith')} <{PZ.email(UPN)}>"
    files = [p.get_filename() for p in msg.walk() if p.get_filename()]
    assert files == [f"{PZ.name('Adèle Vance')} CV.pdf"]
    assert "JVBERi0=" in out and "see attached" in out  # the rest as it was


def test_mail_nickname_is_replaced_everywhere() -> None:
    doc = {"mailNickname": "AliceS", "userPrincipalName": UPN, "note": "AliceS wrote"}
    resp = HttpResponse(200, "OK", [("Content-Type", "application/json")], json.dumps(doc).encode())
    out = json.loads(PZ.response(resp).body)
    assert out["mailNickname"] == PZ.user_id("AliceS") and out["note"] == f"{PZ.user_id('AliceS')} wrote"
    _assert_no_real(json.dumps(out))


# --------------------------------------------------------------------------- the record session's outputs


@pytest.fixture
def upstream(tmp_path_factory):
    with Upstream(tmp_path_factory.getbasetemp() / "upstream-cert") as u:
        yield u


def test_the_record_session_report_junit_and_log_are_pseudonymized(tmp_path, confdir, upstream):
    cassette, report, junit = tmp_path / "c.yaml", tmp_path / "report.json", tmp_path / "junit.xml"
    args = ["record", str(cassette), "--pseudonymize", "--upstream", upstream.url, "--upstream-ca", str(upstream.cert),
            "--report", str(report), "--junit", str(junit)]
    with ProxyProcess(args, confdir) as p, httpx.Client(proxy=p.url, verify=str(p.ca)) as c:
        assert c.post(f"{GRAPH}/users/{UPN}/messages", json={"subject": "Hi"}).status_code == 201
        assert c.post(f"{GRAPH}/users/{GUID}/messages", json={"subject": "Hi"}).status_code == 201
        assert c.post(f"{GRAPH}/users/{quote(UPN, safe='')}/messages", json={"subject": "Hi"}).status_code == 201
    pz = Pseudonymizer(bytes.fromhex(load_cassette(cassette).meta[META_KEY]["salt"]))
    outputs = {"cassette": cassette.read_text(), "report": report.read_text(), "junit": junit.read_text(),
               "log": p.output}
    for name, text in outputs.items():
        assert UPN not in text and quote(UPN, safe="") not in text and GUID not in text, name
    for name in ("report", "junit"):  # they name the calls by their pseudonymized URLs, as the cassette does
        assert pz.email(UPN) in outputs[name] and pz.guid(GUID) in outputs[name], name
    assert "recorded 3" in p.stderr
