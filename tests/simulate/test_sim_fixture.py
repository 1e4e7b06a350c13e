"""Seed fixtures: reading the YAML (hand-edited files too), the default seed, and dump_yaml round trips."""

from __future__ import annotations

import string
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphtape.simulate.fixture import (
    SeedData,
    SeedError,
    SeedFolder,
    SeedMailbox,
    SeedMessage,
    default_seed,
    dump_yaml,
    load_seed,
    mailbox_id,
    seed_document,
)

EXAMPLE = Path(__file__).parent / "data" / "seed-example.yaml"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "seed.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_the_example_seed_reads_with_its_shorthands_expanded() -> None:
    seed = load_seed(EXAMPLE)
    megan, alex = seed.mailboxes
    assert seed.me == "megan@contoso.com"
    assert (megan.user_principal_name, megan.display_name, megan.id) == (
        "megan@contoso.com", "Megan Bowen", mailbox_id("megan@contoso.com"))
    assert megan.folders == (SeedFolder("Projects", None, "inbox"),)
    first = megan.messages[0]
    assert first.folder == "inbox"
    assert first.resource["from"] == {"emailAddress": {"name": "Alex Wilber", "address": "alexw@contoso.com"}}
    assert first.resource["toRecipients"] == [{"emailAddress": {"address": "megan@contoso.com"}}]
    assert first.resource["body"] == {"contentType": "text", "content": "The numbers are in; see the attached sheet."}
    assert first.resource["receivedDateTime"] == "2024-03-01T09:00:00Z"  # unquoted, kept as written
    assert (first.resource["isRead"], first.resource["importance"]) == (False, "high")
    assert first.attachments == ({"name": "numbers.csv", "contentType": "text/csv",
                                  "contentBytes": "cmVnaW9uLHRvdGFsCm5vcnRoLDQyCg=="},)
    assert [m.folder for m in megan.messages] == ["inbox", "Projects", "drafts"]
    assert megan.messages[2].resource["body"] == {"contentType": "html", "content": "<p>Thanks!</p>"}
    assert (alex.user_principal_name, alex.messages) == ("alexw@contoso.com", ())


def test_the_example_round_trips_through_dump_yaml(tmp_path: Path) -> None:
    seed = load_seed(EXAMPLE)
    text = dump_yaml(seed_document(seed))
    assert text.startswith("# graphtape seed:")
    assert load_seed(_write(tmp_path, text)) == seed


def test_one_mailbox_is_me_without_saying_so(tmp_path: Path) -> None:
    seed = load_seed(_write(tmp_path, """\
        mailboxes:
        - user_principal_name: megan@contoso.com
          id: 0aaa0aa0-0000-0a00-a00a-0000009000a0
        """))
    assert seed == SeedData((SeedMailbox("0aaa0aa0-0000-0a00-a00a-0000009000a0", "megan@contoso.com"),),
                            "megan@contoso.com")


def test_default_seed_is_one_empty_mailbox_that_is_me() -> None:
    seed = default_seed()
    (box,) = seed.mailboxes
    assert seed.me == box.user_principal_name
    assert (box.folders, box.messages) == ((), ())
    assert box.id == mailbox_id(box.user_principal_name)


def test_dump_yaml_of_a_simulator_state_names_well_known_folders_by_name(tmp_path: Path) -> None:
    state = {"me": "box-1", "mailboxes": [{
        "id": "box-1", "user_principal_name": "megan@contoso.com", "display_name": "Megan",
        "folders": [{"display_name": "Inbox", "id": "F-inbox", "parent": "F-root"},
                    {"display_name": "Drafts", "id": "F-drafts", "parent": "F-root"},
                    {"display_name": "Projects", "id": "F-proj", "parent": "F-inbox"},
                    {"display_name": "Old", "id": "F-old", "parent": "F-proj"}],
        "messages": [{"folder": "F-inbox", "resource": {"id": "m1", "subject": "hi", "isRead": False},
                      "attachments": []},
                     {"folder": "F-old", "resource": {"id": "m2", "subject": "old"},
                      "attachments": [{"id": "a1", "name": "a.txt", "contentBytes": "eA=="}]}]}]}
    seed = load_seed(_write(tmp_path, dump_yaml(state)))
    (box,) = seed.mailboxes
    assert (seed.me, box.id, box.display_name) == ("box-1", "box-1", "Megan")
    assert box.folders == (SeedFolder("Projects", "F-proj", "inbox"), SeedFolder("Old", "F-old", "F-proj"))
    assert box.messages == (SeedMessage("inbox", {"id": "m1", "subject": "hi", "isRead": False}),
                            SeedMessage("F-old", {"id": "m2", "subject": "old"},
                                        ({"id": "a1", "name": "a.txt", "contentBytes": "eA=="},)))


# ---- hand-edited files: each mistake names its line and what to do ------------------------------------

_GOOD_TOP = """\
graphtape_seed: 1
mailboxes:
- user_principal_name: megan@contoso.com
  messages:
  - folder: inbox
"""


@pytest.mark.parametrize(("text", "line", "says"), [
    (_GOOD_TOP + "  \tsubject: x\n", 6, "a tab in the indentation (YAML indents with spaces only"),
    (_GOOD_TOP + "    subjct: hello\n", 6, "unknown property 'subjct' (did you mean 'subject'?"),
    (_GOOD_TOP + "    isread: false\n", 6, "unknown property 'isread' (did you mean 'isRead'?"),
    (_GOOD_TOP + "    isRead: maybe\n", 6, "isRead must be boolean or null, not 'maybe' (write true or false)"),
    (_GOOD_TOP + "    isRead: 'true'\n", 6, "isRead must be boolean or null, not 'true' (write true or false)"),
    (_GOOD_TOP + "    importance: urgent\n", 6, "importance is 'urgent', not one of low, normal, high"),
    (_GOOD_TOP + "    subject: [a, b]\n", 6, "subject must be string or null, not ['a', 'b']"),
    (_GOOD_TOP + "    toRecipients: 5\n", 6, "toRecipients must be array or null, not 5"),
    (_GOOD_TOP + "    hasAttachments: 'no'\n", 6, "hasAttachments must be boolean or null, not 'no'"),
    (_GOOD_TOP + "    receivedDateTime: yesterday\n", 6, "receivedDateTime 'yesterday' is not a date-time (write it"),
    (_GOOD_TOP + "    subject: Re: the plan\n", 6,
     "mapping values are not allowed in this context (a value holding ': ' must"),
    (_GOOD_TOP + "  - folder: Inbx\n", 6,
     "in the folder 'Inbx', which the mailbox does not have (did you mean 'inbox'?"),
    (_GOOD_TOP + "    attachments:\n    - nmae: a.txt\n", 7, "unknown key 'nmae' (did you mean 'name'?"),
    (_GOOD_TOP + "    attachments:\n    - contentType: text/plain\n", 7, "an attachment has no 'name'"),
    (_GOOD_TOP.replace("messages:", "mesages:"), 4, "unknown key 'mesages' (did you mean 'messages'?"),
    (_GOOD_TOP.replace("mailboxes:", "mailbox:"), 2, "unknown key 'mailbox' (did you mean 'mailboxes'?"),
    (_GOOD_TOP.replace("graphtape_seed: 1", "graphtape_seed: 2"), 1, "unknown seed format version 2"),
    (_GOOD_TOP.replace("- user_principal_name: megan@contoso.com", "- display_name: Megan"), 3,
     "has no 'user_principal_name'"),
    ("me: alex@contoso.com\n" + _GOOD_TOP, 1, "me names 'alex@contoso.com', which is none of the mailboxes"),
    (_GOOD_TOP + "- user_principal_name: alexw@contoso.com\n", 1, "several mailboxes and no 'me' (add 'me:' with"),
    ("mailboxes:\n- user_principal_name: m@contoso.com\n  folders:\n  - display_name: A\n    parent: B\n", 4,
     "the folder 'A' has the parent 'B', which the mailbox does not have"),
    ("mailboxes: []\n", 1, "the seed has no mailbox"),
    ("me: a@contoso.com\nmailboxes:\n- user_principal_name: a@contoso.com\n- user_principal_name: A@contoso.com\n",
     4, "a second mailbox A@contoso.com"),
    ("mailboxes: {}\n", 1, "mailboxes must be a list"),
    ("", None, "the file is empty"),
    (_GOOD_TOP + "    subject: &a x\n", 6, "anchors are not allowed in a seed"),
])
def test_a_hand_edited_mistake_names_its_line_and_what_to_do(tmp_path: Path, text: str, line: int | None,
                                                             says: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(SeedError) as info:
        load_seed(path)
    assert info.value.line == line
    assert says in str(info.value)
    where = f"{path}:{line}" if line else str(path)
    assert str(info.value).startswith(f"graphtape: seed {where}: ")


def test_a_missing_seed_file_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(SeedError, match="no such seed file") as info:
        load_seed(tmp_path / "nope.yaml")
    assert "graphtape simulate --dump FILE" in info.value.hint


def test_a_seed_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "seed.yaml"
    path.write_bytes(b"mailboxes:\n- user_principal_name: m\xe9@contoso.com\n")
    with pytest.raises(SeedError, match=r"not UTF-8 text \(byte 0xe9\)") as info:
        load_seed(path)
    assert info.value.line == 2


# ---- round trip: any seed, dumped, reads back as itself ----------------------------------------------

_text = st.text(st.characters(codec="utf-8"), max_size=30)
_name = st.text(string.ascii_letters + string.digits + " -_", min_size=1, max_size=12).filter(
    lambda s: s.strip() == s and s.lower() not in ("inbox", "drafts", "sent items", "deleted items", "outbox",
                                                   "archive", "junk email", "sentitems", "deleteditems", "junkemail"))
_address = st.builds(lambda user, domain: f"{user}@{domain}.com", st.from_regex(r"[a-z][a-z0-9.]{0,8}", fullmatch=True),
                     st.sampled_from(["contoso", "fabrikam"]))
_recipient = st.builds(lambda address, name: {"emailAddress": {"address": address, **({"name": name} if name else {})}},
                       _address, st.none() | _text)
_date_time = st.datetimes(timezones=st.just(__import__("datetime").UTC)).map(
    lambda d: d.replace(microsecond=0).isoformat().replace("+00:00", "Z"))
_resource = st.fixed_dictionaries({}, optional={
    "subject": st.none() | _text, "isRead": st.booleans(), "importance": st.sampled_from(["low", "normal", "high"]),
    "receivedDateTime": _date_time, "body": st.builds(lambda t, c: {"contentType": t, "content": c},
                                                      st.sampled_from(["text", "html"]), _text),
    "from": _recipient, "toRecipients": st.lists(_recipient, max_size=3), "categories": st.lists(_text, max_size=3),
    "id": _text, "hasAttachments": st.booleans(), "@odata.etag": _text,
})
_attachment = st.fixed_dictionaries({"name": _text}, optional={"contentType": _text, "contentBytes": _text,
                                                               "size": st.integers(0, 10**9)})


@st.composite
def _mailbox(draw: Any, upn: str, index: int) -> SeedMailbox:
    names = draw(st.lists(_name, max_size=3, unique_by=str.lower))
    folders = tuple(SeedFolder(n, draw(st.none() | st.just(f"id-{i}")), draw(st.none() | st.sampled_from(
        ["inbox", *names[:i]]))) for i, n in enumerate(names))
    where = st.sampled_from(["inbox", "drafts", "sentitems", "deleteditems", *names])
    messages = draw(st.lists(st.builds(SeedMessage, where, _resource, st.lists(_attachment, max_size=2).map(tuple)),
                             max_size=4))
    return SeedMailbox(f"{index}-{draw(_text)}", upn, draw(_text), folders, tuple(messages))  # ids unique


@st.composite
def _seeds(draw: Any) -> SeedData:
    upns = draw(st.lists(_address, min_size=1, max_size=3, unique_by=str.lower))
    boxes = tuple(draw(_mailbox(upn, i)) for i, upn in enumerate(upns))
    return SeedData(boxes, draw(st.sampled_from(upns)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(seed=_seeds())
def test_any_seed_round_trips_through_dump_yaml_and_load_seed(tmp_path: Path, seed: SeedData) -> None:
    assert load_seed(_write_raw(tmp_path, dump_yaml(seed_document(seed)))) == seed


def _write_raw(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "round-trip.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# ---- with the Simulator: its dump, written as a fixture, seeds a Simulator with the same state -------------

def test_a_simulator_dump_seeds_a_simulator_with_the_same_state(tmp_path: Path) -> None:
    import datetime

    from graphtape.simulate import Simulator

    clock = datetime.datetime(2024, 5, 1, tzinfo=datetime.UTC)
    first = Simulator(seed=load_seed(EXAMPLE), id_seed=1, clock=clock).dump()
    again = Simulator(seed=load_seed(_write(tmp_path, dump_yaml(first))), id_seed=1, clock=clock).dump()
    assert again == first


def test_a_simulator_dump_keeps_every_message_id_under_another_id_seed(tmp_path: Path) -> None:
    import datetime

    from graphtape.simulate import Simulator

    clock = datetime.datetime(2024, 5, 1, tzinfo=datetime.UTC)
    first = Simulator(seed=load_seed(EXAMPLE), id_seed=1, clock=clock).dump()
    again = Simulator(seed=load_seed(_write(tmp_path, dump_yaml(first))), id_seed=2, clock=clock).dump()

    def messages(state: dict[str, Any]) -> list[tuple[str, str, str]]:
        return [(box["user_principal_name"], m["resource"]["id"], m["resource"]["subject"])
                for box in state["mailboxes"] for m in box["messages"]]

    assert messages(again) == messages(first)
    assert len(messages(first)) == 3


def test_the_default_seed_starts_a_simulator_with_empty_well_known_folders() -> None:
    from graphtape.simulate import Simulator

    me = Simulator(seed=default_seed()).mailbox("me")
    assert me.user_principal_name == default_seed().me
    assert (me.inbox, me.drafts, me.sent_items, me.deleted_items, me.messages) == ([], [], [], [], [])


def test_a_seeded_message_outside_drafts_is_no_draft() -> None:
    from graphtape.simulate import Simulator

    me = Simulator(seed=load_seed(EXAMPLE)).mailbox("me")
    assert [m["isDraft"] for m in me.inbox] == [False]
    assert [m["isDraft"] for m in me.drafts] == [True]
