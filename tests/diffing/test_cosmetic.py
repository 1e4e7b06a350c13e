"""Which deviations are cosmetic (diffing.cosmetic): Accept and Accept-Language, enum case where the metadata
types the property as an enum, and an @odata.type naming the declared type. Everything else counts."""

from __future__ import annotations

import json

import pytest

from graphtape.contract.shapes import Slot
from graphtape.diffing.core import diff_interactions, diff_requests
from graphtape.diffing.cosmetic import ENUM_CASE, REDUNDANT_ODATA_TYPE, json_reason, mark_headers
from graphtape.diffing.keyed import ItemKey
from graphtape.model import Deviation, HttpRequest, HttpResponse, Interaction

SEND_MAIL = Slot("v1.0", "action.user.sendMail")
MESSAGE = Slot("v1.0", "message")
ATTACHMENT = Slot("v1.0", "attachment")


def _post(url: str, body: object, *headers: tuple[str, str]) -> HttpRequest:
    return HttpRequest("POST", url, [("Content-Type", "application/json"), *headers], json.dumps(body).encode())


def test_accept_and_accept_language_are_cosmetic_other_headers_are_not() -> None:
    found = mark_headers([Deviation("header.Accept", "added", None, "application/json"),
                          Deviation("header.accept-language", "changed", "en-US", "de-DE"),
                          Deviation("header.Prefer", "added", None, 'IdType="ImmutableId"'),
                          Deviation("body.Accept", "added", None, "x")])
    assert [d.cosmetic for d in found] == ["header Accept", "header Accept-Language", "", ""]


@pytest.mark.parametrize(("keys", "recorded", "actual", "reason"), [
    (["Message", "body", "contentType"], "html", "HTML", ENUM_CASE),
    (["message", "importance"], "low", "Low", ENUM_CASE),
    (["Message", "flag", "flagStatus"], "notFlagged", "NOTFLAGGED", ENUM_CASE),  # any enum of the metadata
    (["Message", "inferenceClassification"], "focused", "Focused", ENUM_CASE),
    (["Message", "importance"], "low", "high", ""),  # another member
    (["Message", "importance"], "lowish", "LOWISH", ""),  # not a member at all
    (["Message", "subject"], "Plan", "PLAN", ""),  # a string, not an enum
    (["Message", "toRecipients", ItemKey("address=a@b.c"), "emailAddress", "address"], "a@b.c", "A@B.C", ""),
    (["SaveToSentItems"], "true", "True", ""),  # Edm.Boolean
])
def test_enum_case_comes_from_the_metadata(keys: list, recorded: str, actual: str, reason: str) -> None:
    assert json_reason(SEND_MAIL, keys, recorded, actual) == reason


@pytest.mark.parametrize(("root", "keys", "recorded", "actual", "reason"), [
    (MESSAGE, ["@odata.type"], None, "#microsoft.graph.message", REDUNDANT_ODATA_TYPE),
    (MESSAGE, ["@odata.type"], "microsoft.graph.message", None, REDUNDANT_ODATA_TYPE),  # '#' optional
    (MESSAGE, ["@odata.type"], "#microsoft.graph.message", "#Microsoft.Graph.Message", REDUNDANT_ODATA_TYPE),
    (SEND_MAIL, ["Message", "toRecipients", 0, "@odata.type"], None, "#microsoft.graph.recipient",
     REDUNDANT_ODATA_TYPE),
    (SEND_MAIL, ["Message", "toRecipients", 0, "emailAddress", "@odata.type"], None,
     "#microsoft.graph.emailAddress", REDUNDANT_ODATA_TYPE),
    (MESSAGE, ["@odata.type"], None, "#microsoft.graph.eventMessage", ""),  # a derived type: it counts
    (ATTACHMENT, ["@odata.type"], None, "#microsoft.graph.fileAttachment", ""),
    (MESSAGE, ["attachments", ItemKey("name=a.txt"), "@odata.type"], "#microsoft.graph.fileAttachment",
     "#microsoft.graph.itemAttachment", ""),
    (SEND_MAIL, ["@odata.type"], None, "#microsoft.graph.message", ""),  # an action's parameters: no type
    (MESSAGE, ["@odata.type"], None, 42, ""),
    (None, ["@odata.type"], None, "#microsoft.graph.message", ""),  # a body the contract does not describe
])
def test_odata_type_is_redundant_only_where_it_names_the_declared_type(root: Slot | None, keys: list,
                                                                       recorded: object, actual: object,
                                                                       reason: str) -> None:
    assert json_reason(root, keys, recorded, actual) == reason


def test_a_sdk_style_request_against_a_hand_written_recording_is_only_cosmetic() -> None:
    recorded = _post("https://graph.microsoft.com/v1.0/me/sendMail",
                     {"message": {"subject": "Hi", "importance": "low", "body": {"contentType": "html", "content": "x"},
                                  "toRecipients": [{"emailAddress": {"address": "a@contoso.com"}}]}})
    actual = _post("https://graph.microsoft.com/v1.0/me/sendMail",
                   {"message": {"@odata.type": "#microsoft.graph.message", "subject": "Hi", "importance": "Low",
                                "body": {"contentType": "HTML", "content": "x"},
                                "toRecipients": [{"@odata.type": "#microsoft.graph.recipient",
                                                  "emailAddress": {"address": "a@contoso.com"}}]}},
                   ("Accept-Language", "en-US"))
    found = diff_requests(recorded, actual)
    assert [(d.path, d.cosmetic) for d in found] == [
        ("header.Accept-Language", "header Accept-Language"),
        ('body.message["@odata.type"]', REDUNDANT_ODATA_TYPE),
        ("body.message.body.contentType", ENUM_CASE),
        ("body.message.importance", ENUM_CASE),
        ('body.message.toRecipients[address=a@contoso.com]["@odata.type"]', REDUNDANT_ODATA_TYPE)]
    assert found[3].line() == "body.message.importance: 'low' -> 'Low' (cosmetic: enum case)"


def test_responses_and_unknown_bodies_have_no_cosmetic_json_deviation() -> None:
    req = _post("https://graph.microsoft.com/v1.0/me/events", {"importance": "low"})
    other = _post("https://graph.microsoft.com/v1.0/me/events", {"importance": "Low"})
    assert [d.cosmetic for d in diff_requests(req, other)] == [""]
    ok = _post("https://graph.microsoft.com/v1.0/me/messages", {"importance": "low"})
    json_type = [("Content-Type", "application/json")]
    old = Interaction(ok, HttpResponse(201, headers=json_type, body=b'{"importance":"low"}'))
    new = Interaction(ok, HttpResponse(201, headers=json_type, body=b'{"importance":"Low"}'))
    assert [(d.path, d.cosmetic) for d in diff_interactions(old, new)] == [("response.body.importance", "")]


def test_a_cosmetic_mark_survives_scrubbing_and_shows_in_the_line() -> None:
    from graphtape.privacy.output import scrub_deviation

    secret = "Bearer " + "a1" * 30  # built at runtime: no token-shaped literal in the repo
    scrubbed = scrub_deviation(Deviation("header.Accept", "changed", secret, "b", cosmetic="header Accept"))
    assert scrubbed.recorded != secret and scrubbed.cosmetic == "header Accept"  # rebuilt, its mark kept
    d = Deviation("header.Accept", "changed", "a", "b", cosmetic="header Accept")
    assert d.line() == "header.Accept: 'a' -> 'b' (cosmetic: header Accept)"
    assert Deviation("x", "added", None, 1, "enum case").line() == "x: added 1 (cosmetic: enum case)"
