"""Deviations and session reports through the real proxy: SDK requests that differ from their recording."""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml

from conftest import SEEDS, sdk_call
from test_cli import graphtape


async def _create_draft(client, subject: str = "Did you see last night's game?",
                        to: str = "AdeleV@contoso.com"):
    from msgraph.generated.models.body_type import BodyType
    from msgraph.generated.models.email_address import EmailAddress
    from msgraph.generated.models.importance import Importance
    from msgraph.generated.models.item_body import ItemBody
    from msgraph.generated.models.message import Message
    from msgraph.generated.models.recipient import Recipient

    beta = client.request_adapter.base_url.replace("/v1.0", "/beta")
    client.request_adapter.base_url = beta
    msg = Message(subject=subject, importance=Importance.Low,
                  body=ItemBody(content_type=BodyType.Html, content="They were <b>awesome</b>!"),
                  to_recipients=[Recipient(email_address=EmailAddress(address=to))])
    draft = await client.me.messages.post(msg)
    return draft.id


def test_a_changed_recipient_is_served_and_reported_in_console_json_and_junit(tmp_path, proxy, seed):
    report, junit = tmp_path / "report.json", tmp_path / "junit.xml"
    p = proxy("replay", str(seed("create-draft-json")), "--report", str(report), "--junit", str(junit))

    async def changed(client):
        return await _create_draft(client, to="someone-else@contoso.com")

    assert sdk_call(p, changed) == "AAMkAGRWAAAFSmKXAAA="  # still served
    assert p.stop() == 0  # deviations do not fail a session by default
    # recipients are keyed by address (diffing.keyed): another address is another recipient
    lines = ["body.toRecipients[address=adelev@contoso.com]: removed "
             "{'emailAddress': {'address': 'AdeleV@contoso.com'}}",
             "body.toRecipients[address=someone-else@contoso.com]: added "
             "{'emailAddress': {'address': 'someone-else@contoso.com'}}"]
    assert all(line in p.output for line in lines)

    doc = json.loads(report.read_text())
    assert doc["summary"]["deviations"] == 2 and doc["summary"]["matched"] == 1
    (req,) = doc["requests"]
    assert req["interaction"] == 1 and [d["line"] for d in req["deviations"]] == lines

    suite = ET.parse(junit).getroot()
    assert suite.get("tests") == "1" and suite.get("failures") == "1"
    failure = suite.find("testcase/failure")
    assert failure is not None and all(line in (failure.text or "") for line in lines)


def test_volatile_fields_do_not_deviate(tmp_path, proxy, seed):
    report = tmp_path / "r.json"
    p = proxy("replay", str(seed("create-draft-json")), "--report", str(report))
    sdk_call(p, _create_draft)  # new client-request-id, token, SDK headers: all volatile
    p.stop()
    assert json.loads(report.read_text())["summary"]["deviations"] == 0


def test_an_ignore_rule_suppresses_exactly_what_it_names(tmp_path, proxy, seed):
    report = tmp_path / "r.json"
    p = proxy("replay", str(seed("create-draft-json")), "--report", str(report),
              "--ignore", "body.toRecipients[*]")  # each recipient, by address or by position

    async def changed(client):
        return await _create_draft(client, subject="Other subject", to="someone-else@contoso.com")

    sdk_call(p, changed)
    p.stop()
    lines = [d["line"] for d in json.loads(report.read_text())["requests"][0]["deviations"]]
    assert lines == ["body.subject: \"Did you see last night's game?\" -> 'Other subject'"]


def test_per_cassette_ignore_rules_in_meta(tmp_path, proxy, seed):
    cassette = seed("create-draft-json")
    text = cassette.read_text().replace("meta:\n", "meta:\n  ignore:\n  - body.subject\n", 1)
    cassette.write_text(text)
    report = tmp_path / "r.json"
    p = proxy("replay", str(cassette), "--report", str(report))

    async def changed(client):
        return await _create_draft(client, subject="Other subject")

    sdk_call(p, changed)
    p.stop()
    assert json.loads(report.read_text())["summary"]["deviations"] == 0


def test_unmatched_request_message_shows_the_nearest_recording_with_its_diff(tmp_path, proxy, seed):
    import httpx

    p = proxy("replay", str(seed("create-draft-json")))
    with httpx.Client(proxy=p.url, verify=str(p.ca)) as c:
        r = c.post("https://graph.microsoft.com/beta/me/mailFolders/inbox/messages", json={"subject": "x"})
    assert r.status_code == 404
    message = r.json()["error"]["message"]
    assert "Nearest recorded: #1 POST /beta/me/messages" in message
    assert "path: '/beta/me/messages' -> '/beta/me/mailFolders/inbox/messages'" in message


def _run_with(tmp_path: Path, confdir: Path, cassette: Path, code: str, *extra: str):
    script = tmp_path / "client.py"
    script.write_text("import requests, sys\n" + code)
    return graphtape("run", "--cassette", str(cassette), "--port", "0", "--confdir", str(confdir), "--quiet",
                     *extra, "--", sys.executable, str(script))


SEND = "https://graph.microsoft.com/beta/me/messages/AAMkAGRWAAAFSmKXAAA=/send"
DEVIATING = f"requests.post({SEND!r}, headers={{'Prefer': 'IdType=\"ImmutableId\"'}}, timeout=10)\n"


def test_run_fail_on_deviation_and_unused(tmp_path, confdir, seed):
    cassette = seed("send-draft")
    assert _run_with(tmp_path, confdir, cassette, DEVIATING).returncode == 0  # default: unmatched,violation
    out = _run_with(tmp_path, confdir, cassette, DEVIATING, "--fail-on", "deviation")
    # the Prefer header counts; requests' "Accept: */*" where the SDK sent application/json is cosmetic
    assert out.returncode == 3 and "1 deviation(s) from the recording" in out.stderr
    assert "deviations 1, cosmetic 1" in out.stderr
    out = _run_with(tmp_path, confdir, cassette, "pass\n", "--fail-on", "unused")
    assert out.returncode == 3 and "1 recorded interaction(s) never used" in out.stderr
    out = _run_with(tmp_path, confdir, cassette, "pass\n", "--fail-on", "unmatched")  # unused is not judged ...
    assert "recorded interaction(s) never used" not in out.stderr
    assert out.returncode == 3 and "no request reached graphtape's proxy" in out.stderr  # ... but no request at all is
    out = _run_with(tmp_path, confdir, cassette, "pass\n", "--fail-on", "nonsense")
    assert out.returncode == 2 and "unknown nonsense" in out.stderr


def _copy_with(tmp_path: Path, name: str, edit) -> Path:
    doc = yaml.safe_load((SEEDS / "create-draft-json.yaml").read_text())
    edit(doc["interactions"][0])
    from graphtape.cassette.atomicfile import atomic_write
    from graphtape.cassette.format import dump_yaml

    path = tmp_path / name
    atomic_write(path, dump_yaml(doc))
    return path


def test_graphtape_diff_identical_volatile_only_and_different(tmp_path):
    old = SEEDS / "create-draft-json.yaml"
    same = graphtape("diff", str(old), str(old))
    assert same.returncode == 0 and same.stdout == ""

    def volatile(it):
        it["response"]["body"]["json"]["id"] = "AAMk-new-id"
        it["response"]["body"]["json"]["createdDateTime"] = "2030-01-01T00:00:00Z"
        for h in it["request"]["headers"]:
            if "client-request-id" in h:
                h["client-request-id"] = "00000000-1111-2222-3333-444444444444"

    out = graphtape("diff", str(old), str(_copy_with(tmp_path, "volatile.yaml", volatile)))
    assert out.returncode == 0, out.stdout

    def different(it):
        it["request"]["body"]["json"]["subject"] = "Changed"
        it["response"]["status"] = 200

    new = _copy_with(tmp_path, "different.yaml", different)
    out = graphtape("diff", str(old), str(new))
    assert out.returncode == 1
    assert out.stdout.splitlines() == [
        f"{new}:1: body.subject: \"Did you see last night's game?\" -> 'Changed'",
        f"{new}:1: response.status: 201 -> 200",
    ]
    assert graphtape("diff", str(old), str(new), "--ignore", "body.subject", "--ignore", "response.status"
                     ).returncode == 0
