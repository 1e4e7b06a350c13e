"""The pure helpers behind the pytest plugin: cassette names and paths, verdicts, call counts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from graphtape.cassette.paths import UnsafeCassettePath
from graphtape.model import Deviation, FailOn, Finding, Mode, Outcome
from graphtape.pytest.support import (
    count_calls,
    default_cassette_name,
    failure_message,
    resolve_cassette,
    safe_file_name,
)
from graphtape.session.exchanges import Exchange, Session
from graphtape.session.verdict import DEFAULT_FAIL_ON, fail_on_for, failures


@pytest.mark.parametrize("name", ["test_x", "test_x[1-a]", "test_send[v1.0-json]", "Class.test_y"])
def test_safe_names_are_kept(name):
    assert safe_file_name(name) == name


@pytest.mark.parametrize("name", ["test_x[a/b-1]", "test_x[a\\b]", "test_x[..]/x", "test_x[ü ]", "test_x[\x00]"])
def test_unsafe_names_become_one_safe_file_name(name):
    safe = safe_file_name(name)
    assert "/" not in safe and "\\" not in safe and safe.isascii() and "\x00" not in safe and " " not in safe
    assert safe != name and safe_file_name(name) == safe  # stable


def test_names_that_sanitise_alike_stay_apart():
    assert safe_file_name("test_x[a/b]") != safe_file_name("test_x[a_b]")
    assert safe_file_name("test_x[a/b]") != safe_file_name("test_x[a:b]")


def test_long_names_are_cut_and_still_distinct():
    a, b = "test_" + "x" * 300 + "1", "test_" + "x" * 300 + "2"
    assert len(safe_file_name(a)) < 140 and safe_file_name(a) != safe_file_name(b)


def test_default_cassette_name():
    assert default_cassette_name("test_mail", "test_send") == "test_mail/test_send.yaml"
    assert default_cassette_name("test_mail", "test_send", "TestOutbox") == "test_mail/TestOutbox.test_send.yaml"


def test_resolve_cassette_inside_the_root(tmp_path):
    assert resolve_cassette(tmp_path, "a/b.yaml") == tmp_path / "a" / "b.yaml"
    assert resolve_cassette(tmp_path, "send") == tmp_path / "send.yaml"
    assert resolve_cassette(tmp_path, "x.yml") == tmp_path / "x.yml"


@pytest.mark.parametrize("name", ["../x.yaml", "a/../../x.yaml", "a\\..\\..\\x.yaml", "/etc/x.yaml",
                                  "C:\\x.yaml", "c:x.yaml", "", "  "])
def test_resolve_cassette_refuses_escapes(tmp_path, name):
    with pytest.raises(UnsafeCassettePath, match=r"^graphtape: "):
        resolve_cassette(tmp_path, name)


def test_resolve_cassette_refuses_a_symlink_out_of_the_root(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    os.symlink(outside, root / "link")
    with pytest.raises(UnsafeCassettePath, match="outside"):
        resolve_cassette(root, "link/x.yaml")


def _session(*exchanges: Exchange, unused: list[int] | None = None) -> Session:
    return Session(mode=Mode.REPLAY, cassette="c.yaml", exchanges=list(exchanges), unused=unused or [])


def _ex(number: int, method: str, url: str, outcome: Outcome = Outcome.MATCHED, **kw) -> Exchange:
    return Exchange(number=number, method=method, url=url, outcome=outcome, **kw)


SEND = "https://graph.microsoft.com/v1.0/me/sendMail"


def test_count_calls_normalises_the_path_and_makes_the_version_optional():
    exchanges = [_ex(1, "POST", SEND), _ex(2, "POST", "https://graph.microsoft.com/beta//me/sendMail"),
                 _ex(3, "GET", "https://graph.microsoft.com/v1.0/me/messages?$top=5&$select=subject"),
                 _ex(4, "GET", "http://127.0.0.1:9/health")]
    assert count_calls(exchanges, "POST", "/me/sendMail") == 2
    assert count_calls(exchanges, "post", "me/sendMail/") == 2
    assert count_calls(exchanges, "POST", "/v1.0/me/sendMail") == 1
    assert count_calls(exchanges, "POST", "/beta/me/sendMail") == 1
    assert count_calls(exchanges, "POST", SEND) == 1
    assert count_calls(exchanges, "GET", "/me/messages") == 1
    assert count_calls(exchanges, "GET", "/me/messages?$select=subject&$top=5") == 1  # query as a set
    assert count_calls(exchanges, "GET", "/me/messages?$top=6") == 0
    assert count_calls(exchanges, "GET", "/health") == 1
    assert count_calls(exchanges, "DELETE", "/me/sendMail") == 0


def test_verdict_and_message():
    dev = Deviation("body.subject", "changed", "a", "b")
    err = Finding("mime.base64", "error", "mime:body", "not base64")
    session = _session(_ex(1, "POST", SEND, deviations=[dev]),
                       _ex(2, "POST", SEND, Outcome.UNMATCHED, note="nearest: #1 POST /v1.0/me/sendMail [x]"),
                       _ex(3, "POST", SEND, findings=[err]), unused=[4])
    assert failures(session, DEFAULT_FAIL_ON) == ["1 unmatched request(s)", "1 contract error(s)"]
    strict = fail_on_for(True)
    assert failures(session, strict) == ["1 unmatched request(s)", "1 contract error(s)",
                                          "1 deviation(s) from the recording", "1 recorded interaction(s) never used"]
    assert failures(session, strict, since=(2, 0)) == ["1 contract error(s)"]  # later requests only, no unused
    assert fail_on_for(True, {FailOn.UNMATCHED}) == {"unmatched", "deviation", "unused"}
    text = failure_message(session, failures(session, strict), strict, cassette=Path("c.yaml"))
    assert text.splitlines()[:5] == [
        "graphtape: 1 unmatched request(s); 1 contract error(s); 1 deviation(s) from the recording; "
        "1 recorded interaction(s) never used (replay of c.yaml)",
        "  #1 POST /v1.0/me/sendMail: deviation body.subject: 'a' -> 'b'",
        "  #2 POST /v1.0/me/sendMail: unmatched - nearest: #1 POST /v1.0/me/sendMail [x]",
        "  #3 POST /v1.0/me/sendMail: error: mime.base64 at mime:body: not base64",
        "  interaction 5: never used",
    ]
