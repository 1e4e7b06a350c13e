"""Lists with a natural id are diffed by it (diffing.keyed): recipients by address, attachments and internet
message headers by name, MIME address headers by address; positions when a key is missing or repeated."""

from __future__ import annotations

import json

import pytest

from graphtape.contract.shapes import Slot
from graphtape.diffing.core import diff_requests
from graphtape.diffing.ignore import DEFAULT_IGNORE, IgnoreRules
from graphtape.diffing.keyed import KEYS, ItemKey, diff_addresses, is_address_header, item_key, keyed_pair, slot_at
from graphtape.model import HttpRequest

SEND_MAIL = "https://graph.microsoft.com/v1.0/me/sendMail"
MESSAGE = Slot("v1.0", "message")
RECIPIENTS = Slot("v1.0", "recipient", collection=True)


def _to(address: str, name: str | None = None) -> dict:
    email = {"address": address, **({"name": name} if name else {})}
    return {"emailAddress": email}


def _send(to: list[dict], url: str = SEND_MAIL, **message) -> HttpRequest:
    body = {"Message": {"subject": "Plan", "toRecipients": to, **message}}
    return HttpRequest("POST", url, [("Content-Type", "application/json")], json.dumps(body).encode())


def _lines(a: HttpRequest, b: HttpRequest, ignore: IgnoreRules = DEFAULT_IGNORE) -> list[str]:
    return [d.line() for d in diff_requests(a, b, ignore)]


def test_a_reordered_recipient_list_is_no_deviation() -> None:
    assert _lines(_send([_to("alice@contoso.com"), _to("bob@contoso.com")]),
                  _send([_to("bob@contoso.com"), _to("alice@contoso.com")])) == []


def test_a_changed_added_and_removed_recipient_are_named_by_address() -> None:
    old = _send([_to("alice@contoso.com", "Alice"), _to("bob@contoso.com"), _to("carol@contoso.com")])
    new = _send([_to("dave@contoso.com"), _to("Alice@Contoso.com", "Alice Smith"), _to("bob@contoso.com")])
    assert _lines(old, new) == [
        "body.Message.toRecipients[address=alice@contoso.com].emailAddress.address: "
        "'alice@contoso.com' -> 'Alice@Contoso.com'",
        "body.Message.toRecipients[address=alice@contoso.com].emailAddress.name: 'Alice' -> 'Alice Smith'",
        "body.Message.toRecipients[address=carol@contoso.com]: removed "
        "{'emailAddress': {'address': 'carol@contoso.com'}}",
        "body.Message.toRecipients[address=dave@contoso.com]: added {'emailAddress': {'address': 'dave@contoso.com'}}",
    ]


def test_attachments_and_internet_message_headers_are_keyed_by_name() -> None:
    old = _send([], attachments=[{"name": "a.txt", "contentBytes": "YQ=="}, {"name": "b.txt", "contentBytes": "Yg=="}],
                internetMessageHeaders=[{"name": "x-one", "value": "1"}, {"name": "x-two", "value": "2"}])
    new = _send([], attachments=[{"name": "b.txt", "contentBytes": "Yg=="}, {"name": "a.txt", "contentBytes": "QQ=="}],
                internetMessageHeaders=[{"name": "X-Two", "value": "2"}, {"name": "X-One", "value": "1"}])
    assert _lines(old, new) == [
        "body.Message.attachments[name=a.txt].contentBytes: 'YQ==' -> 'QQ=='",
        "body.Message.internetMessageHeaders[name=x-one].name: 'x-one' -> 'X-One'",
        "body.Message.internetMessageHeaders[name=x-two].name: 'x-two' -> 'X-Two'",
    ]


def test_ignore_patterns_name_keyed_items_with_a_star_or_their_key() -> None:
    old = _send([_to("alice@contoso.com", "Alice"), _to("bob@contoso.com", "Bob")])
    new = _send([_to("bob@contoso.com", "Robert"), _to("alice@contoso.com", "Alice S")])
    names = DEFAULT_IGNORE.merge(IgnoreRules.parse(["body.Message.toRecipients[*].emailAddress.name"]))
    assert _lines(old, new, names) == []
    assert _lines(old, new, DEFAULT_IGNORE.merge(IgnoreRules.parse(["body.*.toRecipients"]))) == []
    only_bob = DEFAULT_IGNORE.merge(IgnoreRules.parse(["body.Message.toRecipients[address=bob@contoso.com]"]))
    assert _lines(old, new, only_bob) == [
        "body.Message.toRecipients[address=alice@contoso.com].emailAddress.name: 'Alice' -> 'Alice S'"]


@pytest.mark.parametrize(("old", "new"), [
    ([_to("alice@contoso.com"), {"emailAddress": {"name": "no address"}}], [_to("alice@contoso.com"), _to("b@c.d")]),
    ([_to("alice@contoso.com"), _to("ALICE@contoso.com")], [_to("alice@contoso.com"), _to("b@c.d")]),  # repeated
    ([_to("a]b@contoso.com"), _to("c@d.e")], [_to("c@d.e"), _to("a]b@contoso.com")]),  # cannot be shown in a path
])
def test_a_list_that_cannot_be_keyed_on_either_side_is_compared_by_position(old: list, new: list) -> None:
    lines = _lines(_send(old), _send(new))
    assert lines and all(line.startswith("body.Message.toRecipients[1]") or line.startswith(
        "body.Message.toRecipients[0]") for line in lines), lines


def test_a_request_the_contract_does_not_describe_keeps_positions() -> None:
    old = _send([_to("alice@contoso.com"), _to("bob@contoso.com")], url="https://graph.microsoft.com/v1.0/me/events")
    new = _send([_to("bob@contoso.com"), _to("alice@contoso.com")], url="https://graph.microsoft.com/v1.0/me/events")
    assert _lines(old, new)[0] == ("body.Message.toRecipients[0].emailAddress.address: "
                                   "'alice@contoso.com' -> 'bob@contoso.com'")


def test_keyed_pair_turns_only_keyable_lists_into_dicts_and_leaves_the_rest() -> None:
    a, b = keyed_pair([_to("A@x.org")], [_to("a@x.org", "A")], RECIPIENTS)
    assert a == {ItemKey("address=a@x.org"): _to("A@x.org")} and list(b) == ["address=a@x.org"]
    value = {"toRecipients": [_to("a@x.org")], "categories": ["b", "a"]}
    assert keyed_pair(value, value, None) == (value, value)  # no slot: as it is
    a, b = keyed_pair({"categories": ["b", "a"]}, {"categories": ["a", "b"]}, MESSAGE)
    assert a == {"categories": ["b", "a"]}  # categories have no natural id
    assert set(KEYS) == {"recipient", "attachment", "internetMessageHeader"}


def test_item_keys_fold_case_where_it_does_not_count() -> None:
    assert item_key(KEYS["recipient"], " Bob@Contoso.COM ") == "address=bob@contoso.com"
    assert item_key(KEYS["attachment"], "Report.PDF") == "name=Report.PDF"
    assert item_key(KEYS["attachment"], "") is None and item_key(KEYS["attachment"], "a\nb") is None


def test_slot_at_follows_properties_positions_and_keys() -> None:
    root = Slot("v1.0", "action.user.sendMail")
    keys = ["Message", "toRecipients", ItemKey("address=a@b.c"), "emailAddress", "address"]
    assert slot_at(root, keys) == Slot("v1.0", "Edm.String")
    assert slot_at(root, ["Message", "toRecipients", 0]) == Slot("v1.0", "recipient")
    assert slot_at(root, ["Message", "nonsense", "x"]) is None and slot_at(None, ["a"]) is None


def test_mime_address_lists_by_address() -> None:
    assert diff_addresses("mime.header.To", ["A <a@x.org>", "b@x.org"], ["b@x.org", "A <a@x.org>"]) == []
    found = diff_addresses("mime.header.To", ["A <a@x.org>", "b@x.org"], ["Ann <A@x.org>", "c@x.org"])
    assert found is not None and [d.line() for d in found] == [
        "mime.header.To[address=a@x.org]: 'A <a@x.org>' -> 'Ann <A@x.org>'",
        "mime.header.To[address=b@x.org]: removed 'b@x.org'",
        "mime.header.To[address=c@x.org]: added 'c@x.org'"]
    assert diff_addresses("mime.header.To", ["a@x.org", "A@x.org"], ["a@x.org"]) is None  # repeated: as a whole
    assert diff_addresses("mime.header.To", ["undisclosed-recipients:;"], ["a@x.org"]) is None  # no address


def test_address_headers_are_the_email_packages() -> None:
    assert all(is_address_header(n) for n in ("to", "Cc", "bcc", "from", "reply-to", "resent-to", "sender"))
    assert not any(is_address_header(n) for n in ("subject", "x-mailer", "message-id", "received"))
