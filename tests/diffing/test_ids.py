"""Server ids mapped between two recordings (diffing.ids, diffing.idtext): which values pair, the bijection and its
conflicts, the rewriting of OLD's interactions, and what a deviation that involves an id says."""

from __future__ import annotations

import base64
import json

import pytest

from graphtape.diffing.core import diff_cassettes
from graphtape.diffing.ids import (
    Place,
    explain,
    id_kind,
    link_parts,
    looks_like_id,
    map_ids,
    pair_values,
    remap,
    response_pairs,
    with_conflicts,
)
from graphtape.diffing.idtext import Replacer
from graphtape.diffing.ignore import IgnoreRules
from graphtape.model import Deviation, HttpRequest, HttpResponse, Interaction

GRAPH = "https://graph.microsoft.com/v1.0"
JSON = [("Content-Type", "application/json")]
# Ids shaped as the stand-in's (simulate/ids.py): OLD's server gave the A ones, NEW's the B ones.
A1, B1 = "AAMkAGI2TG93AAA=", "AAMkAGI2TG94AAA="
A2, B2 = "AAMkAGI2UH01AAA=", "AAMkAGI2UH02AAA="
FA, FB = "AAMkAGZvbGRlcjE1AAEPAAA=", "AAMkAGZvbGRlcjE2AAEPAAA="


def req(method: str, path: str, body: object = None, headers: list[tuple[str, str]] | None = None) -> HttpRequest:
    data = b"" if body is None else json.dumps(body).encode()
    return HttpRequest(method, GRAPH + path, [*(JSON if body is not None else []), *(headers or [])], data)


def resp(status: int, body: object = None, headers: list[tuple[str, str]] | None = None) -> HttpResponse:
    data = b"" if body is None else json.dumps(body).encode()
    return HttpResponse(status, "", [("Content-Type", "application/json"), *(headers or [])], data)


def created(message_id: str, folder: str = FA, version: str = "CQAAABYAAAA1") -> Interaction:
    body = {"id": message_id, "parentFolderId": folder, "changeKey": version, "@odata.etag": f'W/"{version}"',
            "subject": "Hello"}
    return Interaction(req("POST", "/me/messages", {"subject": "Hello"}), resp(201, body))


def send(message_id: str) -> Interaction:
    return Interaction(req("POST", f"/me/messages/{message_id.replace('=', '%3D')}/send"), resp(202))


@pytest.mark.parametrize(("key", "kind"), [
    ("id", "whole"), ("parentFolderId", "whole"), ("conversationId", "whole"), ("internetMessageId", "whole"),
    ("changeKey", "whole"), ("@odata.etag", "etag"), ("ETag", "etag"), ("uploadUrl", "link"),
    ("@odata.nextLink", "link"), ("@odata.deltaLink", "link"), ("Location", "link"), ("webLink", "link"),
    ("Id", "whole"), ("ParentFolderId", "whole"),  # Outlook's REST API (an upload chunk's answer)
    ("subject", None), ("request-id", None), ("isRead", None), ("@odata.context", None),
])
def test_which_keys_hold_ids(key: str, kind: str | None) -> None:
    assert id_kind(key) == kind


def test_whole_values_pair_when_usable_and_etags_are_unwrapped() -> None:
    assert pair_values("whole", A1, B1) == [(A1, B1)]
    assert pair_values("whole", A1, A1) == [(A1, A1)]  # unchanged: kept, so a later clash is seen
    assert pair_values("whole", "1", "2") == []  # too short to be a server id
    assert pair_values("whole", "<redacted>", B1) == []
    assert pair_values("whole", "two words here", B1) == []
    assert pair_values("etag", 'W/"CQAAABYAAAA1"', 'W/"CQAAABYAAAA2"') == [("CQAAABYAAAA1", "CQAAABYAAAA2")]


def test_links_pair_the_parts_that_differ_only_when_the_rest_is_the_same() -> None:
    base = "https://outlook.office.com/api/v2.0/Users('u@contoso.com')/Messages('{}')/AttachmentSessions('{}')"
    old, new = base.format(A1, "AAMkAGI2c2Vzc2lvbjE=") + "?authtoken=<redacted>", \
        base.format(B1, "AAMkAGI2c2Vzc2lvbjI=") + "?authtoken=<redacted>"
    assert pair_values("link", old, new) == [(A1, B1), ("AAMkAGI2c2Vzc2lvbjE=", "AAMkAGI2c2Vzc2lvbjI=")]
    assert link_parts(old)[5:11] == ["Users(", "u@contoso.com", ")", "Messages(", A1, ")"]
    skip = f"{GRAPH}/me/messages?%24top=1&%24skiptoken=" + "{}"
    assert pair_values("link", skip.format("MSZZVlhQAC4x"), skip.format("MSZZVlhQAC4y")) == [
        ("MSZZVlhQAC4x", "MSZZVlhQAC4y")]
    # a different resource is a different structure: nothing is paired from these links
    assert pair_values("link", f"{GRAPH}/me/messages/{A1}", f"{GRAPH}/me/events/{B1}") == []
    assert pair_values("link", f"{GRAPH}/me/messages/{A1}", f"{GRAPH}/me/messages/{B1}/x") == []
    assert not looks_like_id("AttachmentSessions") and looks_like_id(A1) and looks_like_id("MSZZVlhQAC4x")


def test_the_same_flow_maps_every_id_and_diffs_clean() -> None:
    old = [created(A1), send(A1)]
    new = [created(B1, FB, "CQAAABYAAAA2"), send(B1)]
    ids = map_ids(old, new)
    assert ids.forward == {A1: B1, FA: FB, "CQAAABYAAAA1": "CQAAABYAAAA2"}
    assert ids.places[FA] == Place(0, "response.body.parentFolderId") and not ids.conflicts
    assert ids.mapped == 3
    assert diff_cassettes(old, new, remap=lambda i: remap(i, ids)) == []
    unmapped = diff_cassettes(old, new)  # the old behaviour: the send's path and the folder differ
    assert [(i, [d.path for d in devs]) for i, devs in unmapped] == [
        (0, ["response.body.parentFolderId"]), (1, ["path"])]


def test_a_request_with_another_id_than_the_server_gave_is_reported_and_explained() -> None:
    other = "AAMkAGI2T3RoZXI9AAA="
    old, new = [created(A1), send(A1)], [created(B1), send(other)]
    ids = map_ids(old, new)
    found = diff_cassettes(old, new, remap=lambda i: remap(i, ids))
    assert found == [(1, [Deviation("path", "changed", f"/v1.0/me/messages/{B1}/send",
                                    f"/v1.0/me/messages/{other}/send")])]
    note = explain(ids, 1, found[0][1][0])
    assert note == (f"NEW's server gave {B1!r} at interaction 1, response.body.id (OLD's {A1!r}), "
                    f"this one has {other!r}")


def test_a_request_using_an_id_the_server_gave_elsewhere_says_where() -> None:
    old = [created(A1), created(A2), send(A1)]
    new = [created(B1), created(B2), send(B2)]  # the flow sent the second draft instead of the first
    ids = map_ids(old, new)
    ((index, (dev,)),) = diff_cassettes(old, new, remap=lambda i: remap(i, ids))
    note = explain(ids, index, dev)
    assert f"NEW's server gave {B1!r} at interaction 1, response.body.id" in note
    assert f"{B2!r} is the id NEW's server gave at interaction 2, response.body.id" in note


def test_an_old_id_paired_with_two_new_ids_is_a_conflict_with_both_places() -> None:
    old = [created(A1), Interaction(req("GET", f"/me/messages/{A1}"), resp(200, {"id": A1}))]
    new = [created(B1), Interaction(req("GET", f"/me/messages/{B1}"), resp(200, {"id": B2}))]
    ids = map_ids(old, new)
    (conflict,) = ids.conflicts
    assert (conflict.place, conflict.first, conflict.twice) == (Place(1, "response.body.id"),
                                                                Place(0, "response.body.id"), "old")
    found = with_conflicts(diff_cassettes(old, new, remap=lambda i: remap(i, ids)), ids, lambda d: d)
    assert found == [(1, [Deviation("response.body.id", "changed", A1, B2)])]
    assert explain(ids, 1, found[0][1][0]) == (
        f"id conflict: OLD's {A1!r} became {B1!r} at interaction 1, response.body.id, {B2!r} here")


def test_two_old_ids_paired_with_one_new_id_is_a_conflict() -> None:
    old, new = [created(A1), created(A2)], [created(B1), created(B1)]
    ids = map_ids(old, new)
    (conflict,) = ids.conflicts
    assert conflict.twice == "new" and conflict.other == A1 and conflict.old == A2
    assert conflict.note() == (f"id conflict: NEW's {B1!r} stands for OLD's {A1!r} at interaction 1, "
                               f"response.body.id, {A2!r} here")
    # the user's own ignore rules still apply to conflicts
    rules = IgnoreRules.parse(["response.body.id"])
    assert with_conflicts([], ids, rules.apply) == []


def test_a_conflict_replaces_the_plain_deviation_at_its_place() -> None:
    old = [created(A1), Interaction(req("GET", "/me/messages/x"), resp(200, {"parentFolderId": FA}))]
    new = [created(B1, FB), Interaction(req("GET", "/me/messages/x"), resp(200, {"parentFolderId": B2}))]
    ids = map_ids(old, new)
    plain = diff_cassettes(old, new, remap=lambda i: remap(i, ids))
    assert plain == [(1, [Deviation("response.body.parentFolderId", "changed", FB, B2)])]
    assert with_conflicts(plain, ids, lambda d: d) == [
        (1, [Deviation("response.body.parentFolderId", "changed", FA, B2)])]


def test_ids_are_not_paired_across_different_calls_or_lists_of_different_lengths() -> None:
    listing = [{"id": A1}, {"id": A2}]
    assert response_pairs(created(A1), Interaction(req("GET", "/me/messages"), resp(201, {"id": B1}))) == []
    assert response_pairs(Interaction(req("GET", "/me/messages"), resp(200, {"value": listing})),
                          Interaction(req("GET", "/me/messages"), resp(200, {"value": [{"id": B1}]}))) == []
    upload = "https://outlook.office.com/api/v2.0/Users('u')/Messages('{}')/Attachments('{}')"
    pairs = response_pairs(
        Interaction(req("PUT", "/x"), resp(201, headers=[("Location", upload.format(A1, "AAMkAGI2YXR0MQ=="))])),
        Interaction(req("PUT", "/x"), resp(201, headers=[("Location", upload.format(B1, "AAMkAGI2YXR0Mg=="))])))
    assert pairs == [("response.header.Location", A1, B1),
                     ("response.header.Location", "AAMkAGI2YXR0MQ==", "AAMkAGI2YXR0Mg==")]


def _batch(items: list[dict[str, object]]) -> HttpRequest:
    return req("POST", "/$batch", {"requests": items})


def test_batch_answers_pair_by_the_item_they_answer_and_batch_bodies_are_rewritten() -> None:
    old_req = _batch([{"id": "1", "method": "POST", "url": "/me/messages", "body": {"subject": "a"}},
                      {"id": "2", "method": "POST", "url": "/me/messages", "body": {"subject": "b"}}])
    old = Interaction(old_req, resp(200, {"responses": [{"id": "2", "status": 201, "body": {"id": A2}},
                                                        {"id": "1", "status": 201, "body": {"id": A1}}]}))
    new = Interaction(old_req, resp(200, {"responses": [{"id": "1", "status": 201, "body": {"id": B1}},
                                                        {"id": "2", "status": 201, "body": {"id": B2}}]}))
    ids = map_ids([old], [new])
    assert ids.forward == {A1: B1, A2: B2}  # answers in another order, paired by their request item
    assert ids.places[A2] == Place(0, "response.body.responses[1].body.id")

    mime = base64.b64encode(f"In-Reply-To: <{A1}@x>\r\nSubject: re\r\n\r\nsee {A2}\r\n".encode()).decode()
    uses = _batch([{"id": "1", "method": "POST", "url": f"/me/messages/{A1}/send"},
                   {"id": "2", "method": "POST", "url": "/me/sendMail", "body": mime,
                    "headers": {"Content-Type": "text/plain"}},
                   {"id": "3", "method": "POST", "url": f"/me/messages/{A2}/move", "body": {"destinationId": A1}}])
    rewritten = remap(Interaction(uses, resp(200)), ids).request
    items = json.loads(rewritten.body)["requests"]
    assert items[0]["url"] == f"/me/messages/{B1}/send" and items[2] == {
        "id": "3", "method": "POST", "url": f"/me/messages/{B2}/move", "body": {"destinationId": B1}}
    assert base64.b64decode(items[1]["body"]).decode() == f"In-Reply-To: <{B1}@x>\r\nSubject: re\r\n\r\nsee {B2}\r\n"


def test_remap_rewrites_urls_headers_and_bodies_and_leaves_the_rest() -> None:
    ids = map_ids([created(A1)], [created(B1, FB, "CQAAABYAAAA2")])
    patch = Interaction(req("PATCH", f"/me/messages/{A1.replace('=', '%3d')}?x={A1}", {"parentFolderId": FA},
                            headers=[("If-Match", 'W/"CQAAABYAAAA1"')]), resp(200, {"id": A1, "note": A1 + "X"}))
    out = remap(patch, ids)
    assert out.request.url == f"{GRAPH}/me/messages/{B1.replace('=', '%3D')}?x={B1}"
    assert json.loads(out.request.body) == {"parentFolderId": FB}
    assert ("If-Match", 'W/"CQAAABYAAAA2"') in out.request.headers
    assert json.loads(out.response.body) == {"id": B1, "note": A1 + "X"}  # inside a longer token: not an id
    untouched = Interaction(req("GET", "/me/messages"), resp(200, {"value": []}))
    assert remap(untouched, ids) is untouched


def test_the_replacer_takes_the_longest_id_and_whole_ids_only() -> None:
    r = Replacer({"AAMkAGI2": "X", "AAMkAGI2TG93AAA=": "Y", "MSZZVlhQ": "Z"})
    assert r.sub("/m/AAMkAGI2TG93AAA=/s /m/AAMkAGI2/s") == "/m/Y/s /m/X/s"
    assert r.sub("AAMkAGI2TG93AAA%3D and xMSZZVlhQ and MSZZVlhQ") == "Y and xMSZZVlhQ and Z"
    assert r.find("a AAMkAGI2TG93AAA%3d b AAMkAGI2") == ["AAMkAGI2TG93AAA=", "AAMkAGI2"]
    assert Replacer({}).sub("anything") == "anything"


def test_the_replacer_finds_ids_after_a_query_name_angled_ids_and_ids_of_other_shapes() -> None:
    r = Replacer({"MSZZVlhQAC4x": "MSZZVlhQAC4y", "<AM6PR01@x.outlook.com>": "<AM6PR02@x.outlook.com>",
                  "image001.png@01DA": "image001.png@01DB"})
    assert r.sub("/m?%24skiptoken=MSZZVlhQAC4x&a=1") == "/m?%24skiptoken=MSZZVlhQAC4y&a=1"
    assert r.sub("In-Reply-To: <AM6PR01@x.outlook.com>\r\n") == "In-Reply-To: <AM6PR02@x.outlook.com>\r\n"
    assert r.sub('src="cid:image001.png@01DA" cid:ximage001.png@01DA') == \
        'src="cid:image001.png@01DB" cid:ximage001.png@01DA'
    assert r.find("a <AM6PR01@x.outlook.com> b MSZZVlhQAC4x") == ["<AM6PR01@x.outlook.com>", "MSZZVlhQAC4x"]


def test_two_conflicts_in_one_link_are_both_reported_each_with_its_note() -> None:
    link = "https://outlook.office.com/api/v2.0/Users('u')/Messages('{}')/AttachmentSessions('{}')"
    s1, s2, s3 = "AAMkAGI2c2Vzc2lvbjE=", "AAMkAGI2c2Vzc2lvbjI=", "AAMkAGI2c2Vzc2lvbjM="

    def session(message: str, sid: str) -> Interaction:
        return Interaction(req("POST", "/me/messages/m/attachments/createUploadSession", {"x": 1}),
                           resp(201, {"uploadUrl": link.format(message, sid)}))

    old, new = [created(A1), session(A1, s1), session(A1, s1)], [created(B1), session(B1, s2), session(B2, s3)]
    ids = map_ids(old, new)
    assert [(c.place, c.old, c.new) for c in ids.conflicts] == [
        (Place(2, "response.body.uploadUrl"), A1, B2), (Place(2, "response.body.uploadUrl"), s1, s3)]
    ((index, devs),) = with_conflicts(diff_cassettes(old, new, remap=lambda i: remap(i, ids)), ids, lambda d: d)
    assert index == 2 and [(d.recorded, d.actual) for d in devs] == [(A1, B2), (s1, s3)]
    assert [explain(ids, 2, d) for d in devs] == [c.note() for c in ids.conflicts]


def test_an_id_only_old_was_given_is_explained_when_a_later_request_differs_by_it() -> None:
    refused = Interaction(req("POST", "/me/messages", {"subject": "Hello"}),
                          resp(400, {"error": {"code": "ErrorInvalidRecipients", "message": "..."}}))
    old, new = [created(A1), send(A1)], [refused, send(B1)]
    ids = map_ids(old, new)
    assert ids.mapped == 0 and ids.old_given[A1] == Place(0, "response.body.id")
    found = diff_cassettes(old, new, remap=lambda i: remap(i, ids))
    send_path = next(d for i, devs in found if i == 1 for d in devs)
    assert explain(ids, 1, send_path) == (
        f"OLD's server gave {A1!r} at interaction 1, response.body.id; no id NEW's server gave stands for it")


def test_hostile_runs_of_id_characters_take_linear_time() -> None:
    import time

    r = Replacer({"MSZZVlhQAC4x": "MSZZVlhQAC4y"})
    texts = ["=" * 300_000, "=a" * 150_000, ("x=" * 100 + "/") * 1000, "%3D" * 100_000]
    started = time.process_time()
    assert [r.sub(t) for t in texts] == texts
    assert r.sub("a=b=MSZZVlhQAC4x") == "a=b=MSZZVlhQAC4y"
    assert time.process_time() - started < 5  # quadratic would take minutes


def test_thousands_of_crafted_ids_nesting_a_trie_deeper_than_the_stack_do_not_crash() -> None:
    crafted = {"a." * n + "b.x": "y" for n in range(3000)}  # each one branch deeper than the one before
    r = Replacer({**crafted, "MSZZVlhQAC4x": "MSZZVlhQAC4y"})
    assert r.sub("MSZZVlhQAC4x a.b.x") in ("MSZZVlhQAC4y a.b.x", "MSZZVlhQAC4y y")
