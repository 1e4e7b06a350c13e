"""A $batch is diffed item by item: paths name the item (batch[N]), MIME items are diffed as MIME."""

from __future__ import annotations

from graphtape.diffing.core import diff_requests
from graphtape.diffing.ignore import DEFAULT_IGNORE, IgnoreRules

from .batches import batch_request, draft, send, send_mime


def lines(recorded, actual, ignore=DEFAULT_IGNORE) -> list[str]:
    return [d.line() for d in diff_requests(recorded, actual, ignore)]


def test_the_same_batch_sent_again_with_fresh_ids_has_no_deviation() -> None:
    old = batch_request(draft("a1"), send("a2", after="a1"), send_mime("a3"))
    new = batch_request(draft("b1"), send("b2", after="b1"), send_mime("b3", date="Tue, 2 Dec 2026 11:00:00 +0000"))
    assert lines(old, new) == []


def test_a_changed_json_item_is_named_by_its_position() -> None:
    old = batch_request(draft("1"), draft("2", "Weekly report"))
    new = batch_request(draft("1"), draft("2", "Weekly report (final)"))
    assert lines(old, new) == ["batch[1].body.subject: 'Weekly report' -> 'Weekly report (final)'"]


def test_a_mime_item_is_diffed_as_mime() -> None:
    old = batch_request(draft("1"), send("2"), send_mime("3", subject="Report"))
    new = batch_request(draft("1"), send("2"), send_mime("3", subject="Report v2", to="adele@contoso.com"))
    assert lines(old, new) == ["batch[2].mime.header.To[address=megan@contoso.com]: removed "
                               "'Megan <megan@contoso.com>'",
                               "batch[2].mime.header.To[address=adele@contoso.com]: added 'Megan <adele@contoso.com>'",
                               "batch[2].mime.header.Subject: 'Report' -> 'Report v2'"]


def test_items_pair_by_id_before_position() -> None:
    old = batch_request(draft("x", "first"), draft("y", "second"))
    new = batch_request(draft("y", "second"), draft("x", "first"))  # the same items, reordered
    assert lines(old, new) == []


def test_added_and_removed_items_and_dependsOn_by_position() -> None:
    old = batch_request(draft("1"), send("2", after="1"))
    new = batch_request(draft("1"), send("2"), send_mime("3"))
    assert lines(old, new) == ["batch[1].dependsOn: removed [0]", "batch[2]: added 'POST /me/sendMail'"]
    assert lines(new, old) == ["batch[1].dependsOn: added [0]", "batch[2]: removed 'POST /me/sendMail'"]


def test_an_item_path_and_method_are_compared() -> None:
    old = batch_request(send("1", message_id="AAA="))
    new = batch_request(send("1", message_id="BBB="))
    assert lines(old, new) == ["batch[0].path: '/v1.0/me/messages/AAA=/send' -> '/v1.0/me/messages/BBB=/send'"]


def test_ignore_rules_take_batch_paths_and_item_paths() -> None:
    old = batch_request(draft("1", "a"), send_mime("2", subject="m"))
    new = batch_request(draft("1", "b"), send_mime("2", subject="n"))
    assert lines(old, new, DEFAULT_IGNORE.merge(IgnoreRules.parse(["batch[0].body.subject"]))) == [
        "batch[1].mime.header.Subject: 'm' -> 'n'"]
    assert lines(old, new, DEFAULT_IGNORE.merge(IgnoreRules.parse(["batch[*].mime.header.Subject"]))) == [
        "batch[0].body.subject: 'a' -> 'b'"]


def test_a_body_that_is_not_a_batch_shape_is_compared_as_json() -> None:
    old = batch_request(draft("1"))
    new = batch_request(draft("1"))
    broken = type(new)(new.method, new.url, new.headers, b'{"requests": 5}')
    assert lines(old, broken)[0].startswith("body.requests: ")


def test_an_items_recipients_are_keyed_and_its_cosmetic_deviations_keep_their_mark() -> None:
    megan = {"emailAddress": {"address": "megan@contoso.com"}}
    adele = {"emailAddress": {"address": "adele@contoso.com", "name": "Adele"}}
    old = batch_request(draft("1", importance="low", toRecipients=[megan, adele]))
    new = batch_request(draft("1", importance="Low",
                              toRecipients=[{"emailAddress": {**adele["emailAddress"], "name": "Adele Vance"}}, megan]))
    assert lines(old, new) == [
        "batch[0].body.importance: 'low' -> 'Low' (cosmetic: enum case)",
        "batch[0].body.toRecipients[address=adele@contoso.com].emailAddress.name: 'Adele' -> 'Adele Vance'"]
