"""IgnoreRules: parsing, glob semantics over deviation paths, merging, the default volatile list."""

from __future__ import annotations

import pytest

from graphtape.diffing.ignore import DEFAULT_IGNORE, VOLATILE, IgnoreRules
from graphtape.model import Deviation


@pytest.mark.parametrize(
    ("pattern", "path", "ignored"),
    [
        ("body.Message.subject", "body.Message.subject", True),
        ("body.Message.subject", "body.Message.subjectLine", False),
        ("body.Message.subject", "body.message.subject", False),  # JSON keys keep their case
        ("body.Message.toRecipients", "body.Message.toRecipients[1].emailAddress.address", True),
        ("body.*.internetMessageHeaders", "body.Message.internetMessageHeaders[0].value", True),
        ("body.*.internetMessageHeaders", "body.internetMessageHeaders", False),  # * is one segment
        ("body.toRecipients[*].emailAddress.name", "body.toRecipients[3].emailAddress.name", True),
        ("body.toRecipients[*].emailAddress.name", "body.toRecipients[3].emailAddress.address", False),
        # keyed lists (diffing.keyed): [*] names every item, by key or by position; a key can be named
        ("body.toRecipients[*].emailAddress.name", "body.toRecipients[address=b@contoso.com].emailAddress.name", True),
        ("body.toRecipients[*].emailAddress.name", "body.toRecipients[address=bob@contoso.com]", False),
        ("body.toRecipients[*]", "body.toRecipients[address=bob@contoso.com]", True),
        ("body.toRecipients[address=bob@contoso.com]", "body.toRecipients[address=bob@contoso.com].emailAddress.name",
         True),
        ("body.toRecipients[address=bob@contoso.com]", "body.toRecipients[address=bob@contoso.com.au]", False),
        ("body.**.name", "body.message.attachments[name=a.b.txt].name", True),
        ("mime.header.to[*]", "mime.header.To[address=carol@contoso.com]", True),
        ("header.*", "header.Prefer", True),
        ("header.*", "query.$top", False),
        ("header.prefer", "header.Prefer", True),  # header names are case-insensitive
        ("mime.header.x-mailer", "mime.header.X-Mailer", True),
        ("mime.header.X-MS-Exchange-*", "mime.header.X-MS-Exchange-Organization-SCL", True),
        ("query.$top", "query.$top", True),
        ("query.$top", "query.$topx", False),
        ("mime.attachment[*].sha256", "mime.attachment[report.v2.pdf].sha256", True),
        ("mime.attachment[*].sha256", "mime.attachment[report.pdf].size", False),
        ("mime.part[*].text", "mime.part[0].text.line[3]", True),
        ("response.body.**.id", "response.body.id", True),
        ("response.body.**.id", "response.body.value[2].attachments[0].id", True),
        ("response.body.**.id", "response.body.idType", False),
        ('response.body.**["@odata.etag"]', 'response.body["@odata.etag"]', True),
        ('response.body.**["@odata.etag"]', 'response.body.value[0]["@odata.etag"]', True),
        ("**.subject", "response.body.value[0].subject", True),
        ("**.subject", "body.Message.subject", True),
    ],
)
def test_glob(pattern: str, path: str, ignored: bool) -> None:
    assert IgnoreRules.parse([pattern]).matches(path) is ignored


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("", "empty ignore pattern"),
        ("   ", "empty ignore pattern"),
        ("headers.Prefer", "starts with 'headers'"),
        ("Body.subject", "starts with 'Body'"),
        ("body..subject", "empty segment"),
        ("body.", "empty segment"),
        ("body.toRecipients[0", "'[' without ']'"),
        ("body.toRecipients0]", "']' without '['"),
        ("body.a[[0]]", "'[' inside [...]"),
        ("body.***", "'***' means nothing"),
        ("body.a[**]", "'**' cannot stand inside"),
    ],
)
def test_bad_patterns_say_what_is_wrong(pattern: str, reason: str) -> None:
    with pytest.raises(ValueError, match="graphtape: ") as e:
        IgnoreRules.parse(["body.ok", pattern])
    assert reason in str(e.value)


def test_empty_rules_ignore_nothing() -> None:
    devs = [Deviation("header.Authorization", "changed", "a", "b")]
    assert IgnoreRules().apply(devs) == devs
    assert not IgnoreRules().matches("body")


def test_merge_keeps_order_and_drops_duplicates() -> None:
    a = IgnoreRules.parse(["body.a", "query.$top"])
    b = IgnoreRules.parse(["query.$top", "header.Prefer"])
    merged = a.merge(b)
    assert merged.patterns == ("body.a", "query.$top", "header.Prefer")
    assert merged.matches("header.prefer") and merged.matches("body.a[0]")
    assert DEFAULT_IGNORE.merge(b).patterns[: len(DEFAULT_IGNORE.patterns)] == DEFAULT_IGNORE.patterns


def test_rules_compare_by_patterns() -> None:
    assert IgnoreRules.parse(["body.a"]) == IgnoreRules.parse([" body.a "])


def test_every_volatile_entry_is_a_valid_pattern_with_a_reason() -> None:
    assert len(DEFAULT_IGNORE.patterns) == len(VOLATILE)
    assert all(reason for _, reason in VOLATILE)
    for path in [
        "header.Authorization",
        "header.client-request-id",
        "header.SdkVersion",
        "mime.header.Date",
        "mime.header.Message-ID",
        "mime.header.Thread-Index",
        "response.header.x-ms-ags-diagnostic",
        "response.body.value[0].changeKey",
        'response.body["@odata.etag"]',
        "response.body.error.innerError.date",
    ]:
        assert DEFAULT_IGNORE.matches(path), path
    for path in ["body.Message.subject", "mime.header.Subject", "header.Prefer", "response.status"]:
        assert not DEFAULT_IGNORE.matches(path), path
