"""The corpus the contract did not write: msgraph-sdk models serialized by kiota with every settable property
(must give no finding at all), and one mutation of them per documented rule (must give that rule, and in
enforce mode Graph's code for it). Run with -s to see the figures."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from sdk_corpus import (
    VALID,
    file_attachment,
    item_attachment,
    mail_folder,
    message,
    reference_attachment,
    unset_fields,
)

from graphtape.contract import RULES, enforcement_response, validate_request
from graphtape.model import HttpRequest

G = "https://graph.microsoft.com"
BY_ID = {case[0]: case for case in VALID}
Mutation = Callable[[Any], Any]


def _request(case_id: str, mutate: Mutation | None = None, raw: bytes | None = None) -> HttpRequest:
    _, method, path, build = BY_ID[case_id]
    body, content_type = build()
    if mutate is not None:
        body = json.dumps(mutate(json.loads(body))).encode()
    if raw is not None:
        body = raw
    return HttpRequest(method, G + path, [("Content-Type", content_type)], body)


def _set(path: str, value: Any) -> Mutation:
    """Set (or, with value ``...``, delete) the member at a /-separated path."""
    def mutate(body: Any) -> Any:
        *parents, last = path.split("/")
        node = body
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if value is ...:
            del node[last]
        else:
            node[int(last) if isinstance(node, list) else last] = value
        return body
    return mutate


def _mime(text: str) -> bytes:
    return base64.encodebytes(text.encode())


HEADERS6 = [{"name": f"x-h{i}", "value": "v"} for i in range(6)]
# (id, valid case it mutates, mutation or raw body, the rule it must produce)
INVALID: list[tuple[str, str, Mutation | bytes, str]] = [
    ("undeclared-on-message", "sdk-create-message", _set("subjct", "typo"), "property.undeclared"),
    ("snake-case-on-message", "sdk-send-mail", _set("Message/cc_recipients", None), "property.undeclared"),
    ("sdk-response-headers-sent-back", "sdk-update-message", _set("graphResponseHeaders", {}), "property.undeclared"),
    ("undeclared-on-recipient", "sdk-create-message", _set("toRecipients/0/name", "Megan"), "property.undeclared"),
    ("undeclared-parameter", "sdk-send-mail", _set("SaveToSentItem", True), "parameter.undeclared"),
    ("missing-message-parameter", "sdk-send-mail", _set("Message", ...), "parameter.missing"),
    ("missing-destination", "sdk-move", _set("DestinationId", ...), "parameter.missing"),
    ("both-parameter-casings", "sdk-send-mail", _set("message", {}), "parameter.duplicate"),
    ("size-null", "sdk-file-attachment", _set("size", None), "schema.null"),
    ("is-inline-null", "sdk-create-message", _set("attachments/0/isInline", None), "schema.null"),
    ("datetime-null", "sdk-create-message", _set("flag/dueDateTime/dateTime", None), "schema.null"),
    ("message-parameter-null", "sdk-send-mail", _set("Message", None), "schema.null"),
    ("bad-boolean-string", "sdk-send-mail", _set("SaveToSentItems", "nope"), "schema.type"),
    ("number-subject", "sdk-create-message", _set("subject", 7), "schema.type"),
    ("bad-importance", "sdk-create-message", _set("importance", "urgent"), "schema.enum"),
    ("bad-body-type", "sdk-create-message", _set("body/contentType", "markdown"), "schema.enum"),
    ("bad-base64", "sdk-file-attachment", _set("contentBytes", "not base64!"), "schema.format"),
    ("bad-datetime", "sdk-file-attachment", _set("lastModifiedDateTime", "yesterday"), "schema.format"),
    ("negative-size", "sdk-file-attachment", _set("size", -1), "schema.invalid"),
    ("no-content-bytes", "sdk-file-attachment", _set("contentBytes", ...), "schema.required"),
    ("no-attachment-type", "sdk-file-attachment", _set("@odata.type", ...), "schema.required"),
    ("unknown-attachment-type", "sdk-file-attachment", _set("@odata.type", "#microsoft.graph.zipAttachment"),
     "odata-type.unknown"),
    ("item-without-type", "sdk-item-attachment", _set("item/@odata.type", ...), "schema.required"),
    ("nested-item-undeclared", "sdk-item-attachment", _set("item/subjct", "typo"), "property.undeclared"),
    ("extension-without-name", "sdk-open-extension", _set("extensionName", ...), "schema.required"),
    ("extension-without-type", "sdk-open-extension", _set("@odata.type", ...), "schema.required"),
    ("inline-extension-without-name", "sdk-create-message", _set("extensions/0/extensionName", ...),
     "schema.required"),
    ("extended-property-bad-id", "sdk-create-message", _set("singleValueExtendedProperties/0/id", "Color"),
     "extended-property.id"),
    ("multi-extended-property-bad-id", "sdk-create-mail-folder",
     _set("multiValueExtendedProperties/0/id", "String 0x4001"), "extended-property.id"),
    ("six-headers", "sdk-create-message", _set("internetMessageHeaders", HEADERS6), "header.count"),
    ("empty-headers", "sdk-send-mail", _set("Message/internetMessageHeaders", []), "header.count"),
    ("header-not-x", "sdk-create-message", _set("internetMessageHeaders/0/name", "Group"), "header.custom-name"),
    ("beta-only-on-v1", "sdk-create-message", _set("mentions", []), "property.beta-only"),
    ("no-recipient", "sdk-send-mail", lambda b: {**b, "Message": {k: v for k, v in b["Message"].items()
                                                                  if not k.endswith("Recipients")}},
     "send.no-recipient"),
    ("recipient-empty-object", "sdk-send-mail",
     lambda b: {**b, "Message": {**{k: v for k, v in b["Message"].items() if not k.endswith("Recipients")},
                                 "toRecipients": [{}]}}, "send.no-recipient"),
    ("mention-without-recipients", "sdk-create-message-beta",
     lambda b: {**{k: v for k, v in b.items() if k != "toRecipients"},
                "mentions": [{"mentioned": {"address": "danas@contoso.com"}}]}, "mention.to-recipients-required"),
    ("mention-without-mentioned", "sdk-create-message-beta", _set("mentions", [{"mentionText": "@Dana"}]),
     "mention.mentioned-required"),
    ("comment-and-body", "sdk-reply-comment", _set("Message/body", {"contentType": "text", "content": "x"}),
     "action.comment-and-body"),
    ("forward-both-recipients", "sdk-forward", _set("Message/toRecipients", [{"emailAddress": {"address": "a@b.c"}}]),
     "forward.recipients-exactly-one"),
    ("forward-no-recipients", "sdk-forward", _set("ToRecipients", ...), "forward.recipients-exactly-one"),
    ("upload-too-small", "sdk-upload-session", _set("AttachmentItem/size", 1000), "upload-session.min-size"),
    ("upload-too-big", "sdk-upload-session", _set("AttachmentItem/size", 200_000_000), "schema.invalid"),
    ("duplicate-key", "sdk-create-message", b'{"subject": "a", "subject": "b"}', "json.duplicate-property"),
    ("malformed-json", "sdk-create-message", b'{"subject": ', "json.malformed"),
    ("mime-not-base64", "mime-send-mail", b"To: a@b.c\n\nhi", "mime.base64"),
    ("mime-send-without-to", "mime-send-mail", _mime("Subject: hi\n\nhello\n"), "mime.no-recipient"),
    ("mime-forward-without-to", "mime-forward", _mime("Subject: FW: hi\n\nhello\n"), "mime.no-recipient"),
    ("mime-bad-charset", "mime-send-mail",
     _mime("To: a@contoso.com\nContent-Type: text/plain; charset=x-none\n\nhi\n"), "mime.charset"),
    ("mime-bad-transfer-encoding", "mime-send-mail",
     _mime("To: a@contoso.com\nContent-Transfer-Encoding: x-zip\n\nhi\n"), "mime.transfer-encoding"),
    ("mime-not-a-message", "mime-create-draft", _mime("just some words\n"), "mime.not-rfc5322"),
]


@pytest.mark.parametrize("case", VALID, ids=[c[0] for c in VALID])
def test_sdk_built_bodies_have_no_finding(case: tuple[Any, ...]) -> None:
    findings = validate_request(_request(case[0]))
    assert findings == [], [f.line() for f in findings]


@pytest.mark.parametrize("build", [message, file_attachment, item_attachment, reference_attachment, mail_folder])
def test_the_corpus_sets_every_settable_property(build: Callable[[], Any]) -> None:
    assert unset_fields(build()) == []


def _run(case: tuple[str, str, Mutation | bytes, str]) -> tuple[bool, bool, list[str]]:
    _, base, change, rule_id = case
    req = _request(base, raw=change) if isinstance(change, bytes) else _request(base, change)
    findings = validate_request(req)
    caught = any(f.rule == rule_id for f in findings)
    resp = enforcement_response(req, findings)
    error = json.loads(resp.body)["error"] if resp is not None else {}
    right_code = error.get("code") == RULES[rule_id].code
    if RULES[rule_id].graph_message and resp is not None and error.get("code") == RULES[rule_id].code:
        right_code = not error["message"].startswith("graphtape:")  # Graph's own words, not graphtape's summary
    return caught, right_code, [f.line() for f in findings]


@pytest.mark.parametrize("case", INVALID, ids=[c[0] for c in INVALID])
def test_each_mutation_gives_its_rule_and_graphs_code(case: tuple[str, str, Mutation | bytes, str]) -> None:
    caught, right_code, lines = _run(case)
    assert caught, f"expected {case[3]}, got {lines}"
    assert right_code, f"enforce did not answer {RULES[case[3]].code} for {case[3]}: {lines}"


def test_figures(capsys: pytest.CaptureFixture[str]) -> None:
    accepted = sum(validate_request(_request(c[0])) == [] for c in VALID)
    results = [_run(c) for c in INVALID]
    caught = sum(r[0] for r in results)
    right = sum(r[0] and r[1] for r in results)
    with capsys.disabled():
        print(f"\nSDK corpus: valid accepted {accepted}/{len(VALID)}, invalid caught {caught}/{len(INVALID)}, "
              f"right code {right}/{len(INVALID)}")
    assert (accepted, caught, right) == (len(VALID), len(INVALID), len(INVALID))
