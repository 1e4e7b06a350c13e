"""run_query: the OData query options of a list request over message resources (simulate/query.py)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphtape.simulate.query import QueryError, run_query


def _message(n: int, **props: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@odata.etag": f'W/"ck{n}"', "id": f"m{n}", "subject": f"subject {n}", "isRead": n % 2 == 0,
        "importance": "normal", "hasAttachments": False,
        "receivedDateTime": f"2024-01-{n:02d}T10:00:00Z",
        "from": {"emailAddress": {"name": f"Sender {n}", "address": f"sender{n}@contoso.com"}},
        "toRecipients": [{"emailAddress": {"address": "megan@contoso.com"}}],
        "categories": [],
    }
    doc.update(props)
    return doc


ITEMS = [_message(n) for n in range(1, 8)]


def _ids(params: dict[str, str], items: list[dict[str, Any]] = ITEMS, **kw: Any) -> list[str]:
    return [doc["id"] for doc in run_query(items, params, **kw).items]


@pytest.mark.parametrize(("expression", "expected"), [
    ("isRead eq false", ["m1", "m3", "m5", "m7"]),
    ("isRead eq true", ["m2", "m4", "m6"]),
    ("receivedDateTime ge 2024-01-05T00:00:00Z", ["m5", "m6", "m7"]),
    ("receivedDateTime lt 2024-01-03T10:00:00Z", ["m1", "m2"]),
    ("receivedDateTime le 2024-01-03T10:00:00+00:00", ["m1", "m2", "m3"]),
    ("receivedDateTime gt 2024-01-06T11:00:00+02:00", ["m6", "m7"]),  # an instant, not text: 09:00Z
    ("from/emailAddress/address eq 'sender3@contoso.com'", ["m3"]),
    ("from/emailAddress/address eq 'SENDER3@Contoso.com'", ["m3"]),  # Exchange compares text without case
    ("subject ne 'subject 1'", ["m2", "m3", "m4", "m5", "m6", "m7"]),
    ("isRead eq false and receivedDateTime gt 2024-01-03T10:00:00Z", ["m5", "m7"]),
    ("subject eq 'subject 1' or subject eq 'subject 2'", ["m1", "m2"]),
    ("not (isRead eq false)", ["m2", "m4", "m6"]),
    ("(subject eq 'subject 1' or subject eq 'subject 4') and isRead eq true", ["m4"]),
    ("subject eq 'subject 1' or subject eq 'subject 4' and isRead eq true", ["m1", "m4"]),  # and binds tighter
    ("startswith(subject, 'SUBJECT 1')", ["m1"]),
    ("contains(from/emailAddress/name, 'der 7')", ["m7"]),
    ("endswith(from/emailAddress/address, '6@contoso.com')", ["m6"]),
    ("startswith(subject,'subject') eq false", []),
    ("hasAttachments eq true", []),
    ("importance eq 'high'", []),
    ("toRecipients/any(r: r/emailAddress/address eq 'megan@contoso.com') and isRead eq true", ["m2", "m4", "m6"]),
])
def test_filter_keeps_the_matching_messages(expression: str, expected: list[str]) -> None:
    assert _ids({"$filter": expression}) == expected


def test_filter_string_literal_with_a_doubled_quote() -> None:
    items = [_message(1, subject="Did you see last night's game?"), _message(2)]
    assert _ids({"$filter": "subject eq 'Did you see last night''s game?'"}, items) == ["m1"]


def test_filter_enum_and_boolean_and_null() -> None:
    items = [_message(1, importance="high", hasAttachments=True), _message(2, subject=None), _message(3)]
    assert _ids({"$filter": "importance eq 'High' and hasAttachments eq true"}, items) == ["m1"]
    assert _ids({"$filter": "subject eq null"}, items) == ["m2"]
    assert _ids({"$filter": "subject ne null"}, items) == ["m1", "m3"]
    assert _ids({"$filter": "subject gt 'a'"}, items) == ["m1", "m3"]  # a null never orders


def test_filter_any_over_a_string_collection() -> None:
    items = [_message(1, categories=["Red", "Blue"]), _message(2, categories=["Green"])]
    assert _ids({"$filter": "categories/any(c: c eq 'red')"}, items) == ["m1"]
    assert _ids({"$filter": "categories/all(c: c ne 'Green')"}, items) == ["m1"]


@pytest.mark.parametrize(("expression", "detail"), [
    ("isRead eq", "expected a property, a literal or '(', found the end of the expression at position 9"),
    ("isRead eq false and", "expected a property, a literal or '(', found the end of the expression at position 19"),
    ("(isRead eq false", "expected ')', found the end of the expression at position 16"),
    ("isRead eq false)", "unexpected ')' at position 15"),
    ("subject eq 'open", "unexpected character ''' at position 11"),
    ("subject eq \"x\"", "unexpected character '\"' at position 11"),
    ("startswith(subject)", "startswith takes 2 arguments, not 1 at position 0"),
    ("", "the expression is empty at position 0"),
])
def test_unreadable_filter_is_graphs_bad_request(expression: str, detail: str) -> None:
    with pytest.raises(QueryError) as info:
        run_query(ITEMS, {"$filter": expression})
    assert (info.value.status, info.value.code) == (400, "BadRequest")
    assert info.value.message == f"Invalid filter clause: {detail} in '{expression}'."


@pytest.mark.parametrize("params", [
    {"$filter": "isUnread eq true"}, {"$select": "subject,isUnread"}, {"$orderby": "isUnread desc"},
    {"$filter": "from/emailAddress/isUnread eq 'x'"},
])
def test_unknown_property_is_graphs_parse_uri_error(params: dict[str, str]) -> None:
    with pytest.raises(QueryError) as info:
        run_query(ITEMS, params)
    assert info.value.code == "RequestBroker--ParseUri"
    assert "Could not find a property named 'isUnread' on type" in info.value.message


def test_property_access_into_a_collection_is_refused() -> None:
    with pytest.raises(QueryError, match="is not a single value") as info:
        run_query(ITEMS, {"$filter": "toRecipients/emailAddress/address eq 'megan@contoso.com'"})
    assert info.value.code == "BadRequest"


def test_select_keeps_id_and_etag_and_the_named_properties() -> None:
    page = run_query(ITEMS[:1], {"$select": "subject, from"})
    assert page.items == [{"@odata.etag": 'W/"ck1"', "id": "m1", "subject": "subject 1", "from": ITEMS[0]["from"]}]
    assert run_query(ITEMS[:1], {"$select": "*"}).items == [ITEMS[0]]


def test_orderby_several_keys_nested_and_directions() -> None:
    items = [_message(1, importance="low"), _message(2, importance="high"), _message(3, importance="low"),
             _message(4, importance="high", **{"from": {"emailAddress": {"address": "a@contoso.com"}}})]
    assert _ids({"$orderby": "importance asc,receivedDateTime desc"}, items) == ["m4", "m2", "m3", "m1"]
    assert _ids({"$orderby": "from/emailAddress/address"}, items) == ["m4", "m1", "m2", "m3"]
    assert _ids({"$orderby": "receivedDateTime DESC"}, items) == ["m4", "m3", "m2", "m1"]


def test_orderby_puts_nulls_first_ascending_and_last_descending() -> None:
    items = [_message(1), _message(2, subject=None), _message(3)]
    assert _ids({"$orderby": "subject"}, items) == ["m2", "m1", "m3"]
    assert _ids({"$orderby": "subject desc"}, items) == ["m3", "m1", "m2"]


def test_orderby_with_filter_must_name_the_sort_properties_first() -> None:
    ok = {"$filter": "receivedDateTime ge 2024-01-03T00:00:00Z and isRead eq false",
          "$orderby": "receivedDateTime desc"}
    assert _ids(ok) == ["m7", "m5", "m3"]
    with pytest.raises(QueryError) as info:
        run_query(ITEMS, {"$filter": "isRead eq false", "$orderby": "receivedDateTime desc"})
    assert (info.value.code, info.value.message) == (
        "InefficientFilter", "The restriction or sort order is too complex for this operation.")


@pytest.mark.parametrize("clause", ["from", "toRecipients desc"])
def test_orderby_a_complex_or_collection_property_is_refused(clause: str) -> None:
    with pytest.raises(QueryError) as info:
        run_query(ITEMS, {"$orderby": clause})
    assert (info.value.code, info.value.message) == (
        "BadRequest", "The $orderby expression must evaluate to a single value of primitive type.")


@pytest.mark.parametrize("clause", ["subject sideways", "subject asc desc", ""])
def test_unreadable_orderby_is_a_bad_request(clause: str) -> None:
    with pytest.raises(QueryError) as info:
        run_query(ITEMS, {"$orderby": clause})
    assert info.value.code == "BadRequest"


def test_paging_with_top_and_skip_until_the_last_page() -> None:
    page = run_query(ITEMS, {"$top": "3", "$select": "subject"})
    assert [d["id"] for d in page.items] == ["m1", "m2", "m3"]
    assert page.next_params == {"$top": "3", "$select": "subject", "$skip": "3"}
    page = run_query(ITEMS, page.next_params)
    assert [d["id"] for d in page.items] == ["m4", "m5", "m6"]
    assert page.next_params is not None and page.next_params["$skip"] == "6"
    last = run_query(ITEMS, page.next_params)
    assert ([d["id"] for d in last.items], last.next_params) == (["m7"], None)


def test_default_page_size_applies_without_top() -> None:
    page = run_query(ITEMS, {}, page_size=5)
    assert (len(page.items), page.next_params) == (5, {"$skip": "5"})
    assert _ids({"$skip": "5"}, page_size=5) == ["m6", "m7"]
    assert run_query(ITEMS, {"$top": "7"}).next_params is None


def test_count_counts_every_match_not_the_page() -> None:
    page = run_query(ITEMS, {"$count": "true", "$filter": "isRead eq false", "$top": "1"})
    assert (page.count, len(page.items)) == (4, 1)
    assert run_query(ITEMS, {"$count": "false"}).count is None
    assert run_query(ITEMS, {}).count is None


@pytest.mark.parametrize(("params", "message"), [
    ({"$top": "-1"}, "Invalid value '-1' for $top query option found. "
                     "The $top query option requires a non-negative integer value."),
    ({"$top": ""}, "Invalid value '' for $top query option found. "
                   "The $top query option requires a non-negative integer value."),
    ({"$skip": "x"}, "Invalid value 'x' for $skip query option found. "
                     "The $skip query option requires a non-negative integer value."),
    ({"$count": "yes"}, "'yes' is not a valid count option."),
    ({"$frobnicate": "1"}, "The query parameter '$frobnicate' is not supported."),
])
def test_bad_option_values_are_bad_requests(params: dict[str, str], message: str) -> None:
    with pytest.raises(QueryError) as info:
        run_query(ITEMS, params)
    assert (info.value.status, info.value.code, info.value.message) == (400, "BadRequest", message)


def test_option_names_are_read_without_case_and_caller_options_pass() -> None:
    assert _ids({"$Top": "2", "$skiptoken": "abc", "other": "x"}) == ["m1", "m2"]


@pytest.mark.parametrize("option", ["$search", "$expand"])
def test_unsimulated_options_answer_501_not_a_silent_success(option: str) -> None:
    with pytest.raises(QueryError) as info:
        run_query(ITEMS, {option: "x"})
    assert (info.value.status, info.value.code) == (501, "graphtape.NotSimulated")
    assert option in info.value.message


def test_mail_folder_lists_check_the_folder_schema() -> None:
    folders = [{"id": "f1", "displayName": "Inbox"}, {"id": "f2", "displayName": "Archive"}]
    page = run_query(folders, {"$filter": "displayName eq 'archive'"}, entity="mailFolder")
    assert page.items == [folders[1]]
    with pytest.raises(QueryError, match=r"on type 'Microsoft\.OutlookServices\.MailFolder'"):
        run_query(folders, {"$select": "subject"}, entity="mailFolder")


def test_hidden_properties_are_answered_only_when_selected() -> None:
    headers = [{"name": "x-a", "value": "1"}]
    items, hidden = [_message(1, internetMessageHeaders=headers)], ["internetMessageHeaders"]
    assert "internetMessageHeaders" not in run_query(items, {}, hidden=hidden).items[0]
    assert "internetMessageHeaders" not in run_query(items, {"$select": "*"}, hidden=hidden).items[0]
    selected = run_query(items, {"$select": "internetMessageHeaders"}, hidden=hidden).items
    assert selected == [{"@odata.etag": 'W/"ck1"', "id": "m1", "internetMessageHeaders": headers}]


def test_a_page_is_at_most_1000_messages() -> None:
    items = [_message(n % 28 + 1, id=f"x{n}") for n in range(1005)]
    page = run_query(items, {"$top": "5000"})
    assert (len(page.items), page.next_params) == (1000, {"$top": "5000", "$skip": "1000"})
    assert len(run_query(items, {"$top": "5000", "$skip": "1000"}).items) == 5


@pytest.mark.parametrize(("expression", "message"), [
    ("isRead eq 'false'", "A binary operator with incompatible types was detected. Found operand types "
                          "'Edm.Boolean' and 'Edm.String' for operator kind 'Equal'."),
    ("receivedDateTime ge '2024-01-01T00:00:00Z'", "A binary operator with incompatible types was detected. Found "
     "operand types 'Edm.DateTimeOffset' and 'Edm.String' for operator kind 'GreaterThanOrEqual'."),
    ("subject eq true", "A binary operator with incompatible types was detected. Found operand types "
                        "'Edm.String' and 'Edm.Boolean' for operator kind 'Equal'."),
    ("from eq 'a@contoso.com'", "A binary operator with incompatible types was detected. Found operand types "
                                "'microsoft.graph.recipient' and 'Edm.String' for operator kind 'Equal'."),
    ("importance eq 'urgent'", "The string 'urgent' is not a valid enumeration type constant."),
])
def test_a_literal_of_another_type_than_the_property_is_refused(expression: str, message: str) -> None:
    with pytest.raises(QueryError) as info:
        run_query(ITEMS, {"$filter": expression})
    assert (info.value.code, info.value.message) == ("BadRequest", message)


@pytest.mark.parametrize(("expression", "expected"), [
    ("receivedDateTime ge 2024-01-06", ["m6", "m7"]),  # a date: its midnight UTC
    ("subject eq null", []), ("null ne subject", [f"m{n}" for n in range(1, 8)]),
    ("importance eq 'HIGH'", []), ("categories/any(c: c eq 'x')", []),
    ("id eq 'm1'", ["m1"]),  # inherited from entity
])
def test_literals_of_the_property_type_pass(expression: str, expected: list[str]) -> None:
    assert _ids({"$filter": expression}) == expected


_messages = st.lists(st.builds(
    lambda n, read, day, subject: _message(day, id=f"x{n}", isRead=read, subject=subject),
    st.integers(0, 10**6), st.booleans(), st.integers(1, 28), st.sampled_from(["a", "B", "c", None])),
    max_size=25, unique_by=lambda d: d["id"])


@settings(max_examples=80, deadline=None)
@given(items=_messages, top=st.integers(1, 6), expression=st.sampled_from(
    ["", "isRead eq false", "receivedDateTime ge 2024-01-10T00:00:00Z and isRead eq true", "subject ne null"]),
    order=st.sampled_from(["", "subject desc", "subject,receivedDateTime desc"]))
def test_following_next_params_reads_every_match_once_in_order(
        items: list[dict[str, Any]], top: int, expression: str, order: str) -> None:
    before = copy.deepcopy(items)
    params = {"$top": str(top), "$count": "true", **({"$filter": expression} if expression else {}),
              **({"$orderby": order} if order and not expression else {})}
    keep = [d for d in items if run_query([d], {k: v for k, v in params.items() if k == "$filter"}).items]
    seen: list[str] = []
    next_params: dict[str, str] | None = params
    while next_params is not None:
        page = run_query(items, next_params)
        assert len(page.items) <= top and page.count == len(keep)
        seen += [d["id"] for d in page.items]
        next_params = page.next_params
    assert sorted(seen) == sorted(d["id"] for d in keep) and len(set(seen)) == len(seen)
    if not order or expression:
        assert seen == [d["id"] for d in keep]  # no $orderby: the items' own order
    else:
        by_id = {d["id"]: d for d in items}
        keys = [(by_id[i]["subject"] is not None, (by_id[i]["subject"] or "").casefold()) for i in seen]
        # by subject first: nulls first ascending, last descending; text without case
        assert keys == sorted(keys, reverse=order == "subject desc")
    assert items == before  # pure: the items are not changed
