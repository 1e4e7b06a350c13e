"""Endpoint matching and the consistency of the contract data (rules, schemas, decisions)."""

from __future__ import annotations

import re
from importlib import resources

import pytest
import yaml

from graphtape.contract import ENDPOINTS, RULES, Endpoint, find_endpoint
from graphtape.contract.build import document
from graphtape.contract.data import SAFE_LOADER, contract, load_yaml
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
        # the spellings the OpenAPI description, PowerShell and OData clients use (issue 14)
        ("POST", f"{G}/v1.0/me/microsoft.graph.sendMail", "sendMail"),
        ("POST", f"{G}/v1.0/users/u/messages/AAMk=/microsoft.graph.forward", "forward"),
        ("POST", f"{G}/v1.0/me/messages('AAMk%3D')/send", "send"),
        ("POST", f"{G}/v1.0/me/messages('AAMk')/microsoft.graph.createReply", "createReply"),
        ("POST", f"{G}/v1.0/users('u%40contoso.com')/mailFolders('inbox')/messages", "createMessage"),
        ("POST", f"{G}/v1.0/me/mailFolders/inbox/childFolders/AAMk=/messages", "createMessage"),
        ("POST", f"{G}/v1.0/me/mailFolders/a/childFolders/b/childFolders/c/messages/AAMk=/reply", "reply"),
        # the other mail calls of a mail app
        ("POST", f"{G}/v1.0/me/messages/AAMk=/move", "move"),
        ("POST", f"{G}/v1.0/me/messages/AAMk=/microsoft.graph.copy", "copy"),
        ("POST", f"{G}/v1.0/me/messages/AAMk=/permanentDelete", "permanentDelete"),
        ("DELETE", f"{G}/v1.0/me/messages/AAMk=", "deleteMessage"),
        ("POST", f"{G}/v1.0/me/messages/AAMk=/extensions", "createExtension"),
        ("POST", f"{G}/v1.0/me/mailFolders", "createMailFolder"),
        ("POST", f"{G}/v1.0/me/mailFolders/inbox/childFolders", "createChildFolder"),
        ("POST", f"{G}/v1.0/me/mailFolders/a/childFolders/b/childFolders", "createChildFolder"),
        ("POST", f"{G}/v1.0/me/mailFolders/AAMk=/move", "moveMailFolder"),
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
        ("POST", f"{G}/v1.0/me/messages/AAMk=/microsoft.graph.unknownAction"),
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
    for folder in (f"{mailbox}/mailFolders/inbox", f"{mailbox}/mailFolders/inbox/childFolders/AAMk%3D"):
        folder_free = endpoint.path.replace("{mailbox}", mailbox).replace("{folder}", folder)
        for messages in (f"{mailbox}/messages", f"{folder}/messages"):
            path = folder_free.replace("{messages}", messages).replace("{message}", f"{messages}/AAMk%3D")
            path = path.replace("{id}", "AAMk%3D")
            assert find_endpoint(endpoint.method, f"{G}/{version}{path}") == endpoint, path


def test_every_rule_named_by_the_data_exists() -> None:
    for endpoint in ENDPOINTS:
        for rule_id in endpoint.rules:
            assert rule_id in RULES and rule_id in JSON_RULES, rule_id
    assert set(JSON_RULES) <= set(RULES)
    for version in ("v1.0", "beta"):
        rule_ids = re.findall(r"'x-rule': '([^']+)'", repr(document(version)))
        assert rule_ids and set(rule_ids) <= set(RULES)


@pytest.mark.parametrize("version", ["v1.0", "beta"])
def test_every_schema_reference_and_endpoint_schema_exists(version: str) -> None:
    defs = document(version)["$defs"]
    refs = re.findall(r"'#/\$defs/([^']+)'", repr(document(version)))
    assert refs and set(refs) <= set(defs)
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


@pytest.mark.parametrize("name", ["mail-contract.yaml", "overlay.yaml"])
def test_the_contract_files_read_through_libyaml_are_what_pyyamls_own_safe_loader_reads(name):
    """data.load_yaml reads the contract with libyaml (every proxy start reads it): the same data as safe_load."""
    text = resources.files("graphtape.contract").joinpath(name).read_text(encoding="utf-8")
    assert SAFE_LOADER is (yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader)
    assert load_yaml(text) == yaml.safe_load(text) != {}
