"""Cosmetic deviations and keyed lists through the real proxy: what clients write differently and Graph reads the
same (Accept-Language, enum case, the @odata.type the SDK adds) passes --fail-on deviation and is reported as
cosmetic; --fail-on cosmetic fails on it; recipients are diffed by address, not by position."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import yaml

from conftest import SEEDS, sdk_call

DRAFTS = "https://graph.microsoft.com/beta/me/messages"
ADELE, MEGAN = "AdeleV@contoso.com", "MeganB@contoso.com"
# What the SDK sends for these, against what a hand-written client recorded (below)
COSMETIC_LINES = [
    "body[\"@odata.type\"]: added '#microsoft.graph.message' (cosmetic: redundant @odata.type)",
    "body.body.contentType: 'HTML' -> 'html' (cosmetic: enum case)",
    "body.importance: 'Low' -> 'low' (cosmetic: enum case)",
]


def _cassette(tmp_path: Path, edit) -> Path:
    """create-draft-json with its recorded request edited (as another client would have sent it)."""
    doc = yaml.safe_load((SEEDS / "create-draft-json.yaml").read_text())
    edit(doc["interactions"][0]["request"])
    from graphtape.cassette.atomicfile import atomic_write
    from graphtape.cassette.format import dump_yaml

    path = tmp_path / "draft.yaml"
    atomic_write(path, dump_yaml(doc))
    return path


def _hand_written(request: dict) -> None:
    """Recorded from a client that writes enums capitalised and no @odata.type (the SDK writes both otherwise)."""
    body = request["body"]["json"]
    del body["@odata.type"]
    body["importance"], body["body"]["contentType"] = "Low", "HTML"


async def _sdk_draft(client, recipients: list[tuple[str, str | None]]):
    from msgraph.generated.models.body_type import BodyType
    from msgraph.generated.models.email_address import EmailAddress
    from msgraph.generated.models.importance import Importance
    from msgraph.generated.models.item_body import ItemBody
    from msgraph.generated.models.message import Message
    from msgraph.generated.models.recipient import Recipient

    client.request_adapter.base_url = client.request_adapter.base_url.replace("/v1.0", "/beta")
    msg = Message(subject="Did you see last night's game?", importance=Importance.Low,
                  body=ItemBody(content_type=BodyType.Html, content="They were <b>awesome</b>!"),
                  to_recipients=[Recipient(email_address=EmailAddress(address=a, name=n)) for a, n in recipients])
    return (await client.me.messages.post(msg)).id


def test_sdk_noise_passes_fail_on_deviation_and_is_reported_as_cosmetic(tmp_path, proxy):
    report, junit = tmp_path / "report.json", tmp_path / "junit.xml"
    p = proxy("replay", str(_cassette(tmp_path, _hand_written)), "--fail-on", "unmatched,violation,deviation",
              "--report", str(report), "--junit", str(junit))

    async def draft(client):
        return await _sdk_draft(client, [(ADELE, None)])

    assert sdk_call(p, draft) == "AAMkAGRWAAAFSmKXAAA="
    assert p.stop() == 0, p.output  # cosmetic deviations do not fail --fail-on deviation
    for line in COSMETIC_LINES:
        assert line in p.output
    assert "deviations 0, cosmetic 3" in p.output

    doc = json.loads(report.read_text())
    assert doc["summary"]["deviations"] == 0 and doc["summary"]["cosmetic_deviations"] == 3
    (req,) = doc["requests"]
    assert [(d["line"], d["cosmetic"]) for d in req["deviations"]] == list(zip(COSMETIC_LINES, [
        "redundant @odata.type", "enum case", "enum case"], strict=True))
    suite = ET.parse(junit).getroot()
    assert suite.get("failures") == "0"  # shown, not failed
    out = suite.find("testcase/system-out")
    assert out is not None and all(f"deviation {line}" in (out.text or "") for line in COSMETIC_LINES)


def test_fail_on_cosmetic_fails_on_accept_language_enum_case_and_a_redundant_odata_type(tmp_path, proxy):
    cassette = _cassette(tmp_path, lambda request: request["headers"].append({"Accept-Language": "en-US"}))
    p = proxy("replay", str(cassette), "--fail-on", "unmatched,violation,deviation,cosmetic")
    body = yaml.safe_load(cassette.read_text())["interactions"][0]["request"]["body"]["json"]
    body["importance"], body["body"]["contentType"] = "LOW", "Html"  # as a hand-written client might
    body["toRecipients"][0]["@odata.type"] = "#microsoft.graph.recipient"
    with httpx.Client(proxy=p.url, verify=str(p.ca)) as client:
        r = client.post(DRAFTS, json=body, headers={"Accept": "application/json", "Accept-Language": "de-DE"})
    assert r.status_code == 201, r.text
    assert p.stop() == 1  # graphtape replay: the session failed
    assert "deviations 0, cosmetic 4" in p.output
    assert "4 cosmetic deviation(s) from the recording" in p.output
    assert "header.Accept-Language: 'en-US' -> 'de-DE' (cosmetic: header Accept-Language)" in p.output
    assert ("body.toRecipients[address=adelev@contoso.com][\"@odata.type\"]: added '#microsoft.graph.recipient' "
            "(cosmetic: redundant @odata.type)") in p.output


def _two_recipients(request: dict) -> None:
    request["body"]["json"]["toRecipients"] = [{"emailAddress": {"address": ADELE, "name": "Adele Vance"}},
                                               {"emailAddress": {"address": MEGAN}}]


def test_a_reordered_recipient_list_is_no_deviation(tmp_path, proxy):
    p = proxy("replay", str(_cassette(tmp_path, _two_recipients)), "--fail-on", "unmatched,violation,deviation")

    async def reordered(client):
        return await _sdk_draft(client, [(MEGAN, None), (ADELE, "Adele Vance")])

    assert sdk_call(p, reordered) == "AAMkAGRWAAAFSmKXAAA="
    assert p.stop() == 0, p.output
    assert "deviations 0" in p.output and "toRecipients" not in p.output


def test_a_changed_recipient_is_one_deviation_named_by_its_address(tmp_path, proxy):
    report = tmp_path / "report.json"
    p = proxy("replay", str(_cassette(tmp_path, _two_recipients)), "--fail-on", "unmatched,violation,deviation",
              "--report", str(report))

    async def renamed(client):  # the other order too: only the name counts
        return await _sdk_draft(client, [(MEGAN, None), (ADELE, "Adele V.")])

    assert sdk_call(p, renamed) == "AAMkAGRWAAAFSmKXAAA="
    assert p.stop() == 1
    line = "body.toRecipients[address=adelev@contoso.com].emailAddress.name: 'Adele Vance' -> 'Adele V.'"
    assert line in p.output and "1 deviation(s) from the recording" in p.output
    doc = json.loads(report.read_text())
    assert [d["line"] for d in doc["requests"][0]["deviations"]] == [line]
    assert doc["requests"][0]["deviations"][0]["cosmetic"] is None
