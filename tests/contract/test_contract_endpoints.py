"""Endpoint matching and the consistency of the contract data (rules, schemas, decisions)."""

from __future__ import annotations

import re

import pytest

from graphtape.contract import ENDPOINTS, RULES, Endpoint, find_endpoint
from graphtape.contract.data import contract, schemas
from graphtape.contract.jsonrules import JSON_RULES

G = "https://graph.microsoft.com"


@pytest.mark.parametrize(
    ("method", "url", "name"),
    [
        ("POST", f"{G}/v1.0/me/sendMail", "sendMail"),
        ("POST", f"{G}/beta/users/alexw@contoso.com/sendMail", "sendMail"),
        ("POST", f"{G}/v1.0//me/sendMail", "sendMail"),
        ("post", f"{G}/v1.0/me/sendmail", "sendMail"),
        ("POST", f"{G}/v1.0/me/sendMail/", "sendMail"),
        ("POST", "https://graph.microsoft.us/v1.0/me/sendMail", "sendMail"),
        ("POST", f"{G}/v1.0/me/messages", "createMessage"),
        ("POST", f"{G}/v1.0/me/mailFolders/inbox/messages", "createMessage"),
        ("POST", f"{G}/v1.0/users/u%40contoso.com/mailFolders/AAMk%3D/messages", "createMessage"),
        ("POST", f"{G}/v1.0//me/messages/AAMk%3D/createReply", "createReply"),
        ("POST", f"{G}/beta/me/mailFolders/inbox/messages/AAMk=/createReplyAll", "createReplyAll"),
        ("POST", f"{G}/v1.0/users/u/messages/AAMk=/createForward", "createForward"),
        ("POST", f"{G}/v1.0/me/messages/AAMk=/reply", "reply"),
        ("POST", f"{G}/v1.0/me/messages/AAMk=/replyAll", "replyAll"),
        ("POST", f"{G}/v1.0/me/messages/AAMk=/forward", "forward"),
        ("POST", f"{G}/beta/me/messages/{{id}}/send", "send"),
        ("PATCH", f"{G}/v1.0/me/messages/AAMk=", "updateMessage"),
        ("PUT", f"{G}/v1.0/me/messages/AAMk=/$value", "updateMessageMime"),
        ("PUT", f"{G}/v1.0/me/messages/AAMk=/%24value", "updateMessageMime"),
        ("POST", f"{G}/v1.0/me/messages/AAMk=/attachments", "addAttachment"),
        ("POST", f"{G}/v1.0/me/messages/AAMk=/attachments/createUploadSession", "createUploadSession"),
    ],
)
def test_find_endpoint(method: str, url: str, name: str) -> None:
    endpoint = find_endpoint(method, url)
    assert endpoint is not None and endpoint.name == name


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", f"{G}/v1.0/me/messages"),
        ("POST", f"{G}/v1.0/me/events"),
        ("POST", f"{G}/v2.0/me/sendMail"),
        ("POST", "https://example.com/v1.0/me/sendMail"),
        ("POST", f"{G}/v1.0/me/messages/a/b/send"),
        ("DELETE", f"{G}/v1.0/me/messages/AAMk="),
        ("POST", "not a url"),
    ],
)
def test_calls_outside_the_contract_are_not_matched(method: str, url: str) -> None:
    assert find_endpoint(method, url) is None


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.name for e in ENDPOINTS])
@pytest.mark.parametrize("version", ["v1.0", "beta"])
@pytest.mark.parametrize("mailbox", ["/me", "/users/alexw@contoso.com"])
def test_every_endpoint_matches_every_mailbox_and_folder_spelling(
    endpoint: Endpoint, version: str, mailbox: str
) -> None:
    folder_free = endpoint.path.replace("{mailbox}", mailbox)
    for messages in (f"{mailbox}/messages", f"{mailbox}/mailFolders/inbox/messages"):
        path = folder_free.replace("{messages}", messages).replace("{message}", f"{messages}/AAMk%3D")
        assert find_endpoint(endpoint.method, f"{G}/{version}{path}") == endpoint


def test_every_rule_named_by_the_data_exists() -> None:
    for endpoint in ENDPOINTS:
        for rule_id in endpoint.rules:
            assert rule_id in RULES and rule_id in JSON_RULES, rule_id
    assert set(JSON_RULES) <= set(RULES)
    text = repr(schemas())
    for rule_id in re.findall(r"'x-rule': '([^']+)'", text):
        assert rule_id in RULES


def test_every_schema_reference_and_endpoint_schema_exists() -> None:
    defs = schemas()["$defs"]
    for ref in re.findall(r"'#/\$defs/(\w+)'", repr(schemas())):
        assert ref in defs
    for endpoint in ENDPOINTS:
        assert endpoint.json_schema is None or endpoint.json_schema in defs
        assert endpoint.doc.startswith("https://learn.microsoft.com/graph/api/")


def test_rules_have_docs_and_descriptions() -> None:
    for rule in RULES.values():
        assert rule.description
        assert (
            rule.doc == "endpoint"
            or rule.doc.startswith("https://learn.microsoft.com/graph/")
            or (rule.id == "graphtape.internal-error")
        )
        if rule.severity == "warning":
            assert rule.status == 400  # warnings never shape an enforcement response


def test_every_doc_inconsistency_has_a_decision() -> None:
    decisions = contract()["decisions"]
    for key in ("sendmail-status", "createreply-status", "content-length-zero", "parameter-casing"):
        assert len(decisions[key]) > 80
