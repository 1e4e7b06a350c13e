"""The faults file: what it accepts, and how it explains what it refuses (file, key, what to write)."""

from __future__ import annotations

from pathlib import Path

import pytest

from graphtape.faults.config import Calls, FaultsError, load_faults, parse_faults
from graphtape.faults.match import pattern_path, request_path


def test_a_full_file_reads_into_rules(tmp_path: Path) -> None:
    path = tmp_path / "faults.yaml"
    path.write_text("""
seed: 7
scripts:
  - {method: post, endpoint: /v1.0/me/sendMail, nth: 3, status: 429, retry_after: 2}
  - {name: uploads, endpoint: "/me/messages/*/attachments/createUploadSession", status: 503, times: 1, per: request}
  - {regex: "/messages/[^/]+$", mailbox: A@Contoso.com, latency: {uniform: [0.1, 0.5]}}
  - {endpoint: /me/messages, truncated: 0.3}
random: {rates: {429: 0.05, reset: 0.01}, retry_after: 3}
""", encoding="utf-8")
    cfg = load_faults(str(path))
    assert cfg is not None and cfg.where == str(path) and cfg.seed == 7
    first, uploads, slow, cut = cfg.scripts
    assert (first.name, first.match.method, first.match.glob) == ("script 1", "POST", "{mailbox}/sendMail")
    assert (first.calls.nth, first.action.status, first.action.retry_after) == (3, 429, 2.0)
    assert uploads.name == "uploads" and uploads.calls.per_request and uploads.action.retry_after == 1.0
    assert slow.match.mailbox == "a@contoso.com" and slow.action.kind == "latency"
    assert slow.action.latency is not None and (slow.action.latency.dist, slow.action.latency.b) == ("uniform", 0.5)
    assert (cut.action.kind, cut.action.keep) == ("truncated", 0.3)
    assert cfg.random is not None and cfg.random.rates == (("429", 0.05), ("reset", 0.01))
    assert cfg.random.retry_after == 3.0


def test_inline_yaml_json_and_a_dict_read_the_same() -> None:
    as_yaml = load_faults("scripts:\n  - {endpoint: /me/sendMail, status: 500}\n")
    as_json = load_faults('{"scripts": [{"endpoint": "/me/sendMail", "status": 500}]}')
    as_dict = load_faults({"scripts": [{"endpoint": "/me/sendMail", "status": 500}]})
    assert as_yaml is not None and as_json is not None and as_dict is not None
    assert as_yaml.scripts == as_json.scripts == as_dict.scripts
    assert as_yaml.scripts[0].action.retry_after is None  # a 500 asks for no wait unless the rule says so
    assert load_faults("") is None and load_faults("   ") is None


@pytest.mark.parametrize(("doc", "says"), [
    ({"scripst": []}, "unknown key 'scripst'; did you mean 'scripts'?"),
    ({"scripts": [{"endpoint": "/me", "stauts": 429}]}, "scripts[1]: unknown key 'stauts'; did you mean 'status'?"),
    ({"scripts": [{"endpoint": "/me", "status": 404}]}, "scripts[1].status: 404: graphtape injects 429, 500"),
    ({"scripts": [{"endpoint": "/me"}]}, "scripts[1]: no fault given: add one of status"),
    ({"scripts": [{"endpoint": "/me", "reset": True, "status": 500}]}, "status and reset together"),
    ({"scripts": [{"endpoint": "/me", "status": 429, "nth": 0}]}, "scripts[1].nth: 0 is not a count"),
    ({"scripts": [{"endpoint": "/me", "status": 429, "per": "call"}]}, "scripts[1].per: 'call'"),
    ({"scripts": [{"method": "PSOT", "endpoint": "/me", "status": 429}]}, "did you mean 'POST'?"),
    ({"scripts": [{"regex": "(", "status": 429}]}, "scripts[1].regex: missing )"),
    ({"scripts": [{"endpoint": "/me", "latency": {"unifrom": [1, 2]}}]}, "did you mean 'uniform'?"),
    ({"scripts": [{"endpoint": "/me", "latency": {"uniform": [2, 1]}}]}, "the low bound comes first"),
    ({"scripts": [{"endpoint": "/me", "truncated": 1.5}]}, "scripts[1].truncated: 1.5"),
    ({"scripts": [{"endpoint": "/me", "reset": True, "retry_after": 1}]}, "retry_after goes with a status"),
    ({"random": {"rates": {"404": 0.1}}}, "random.rates: '404': write a status"),
    ({"random": {"rates": {"429": 2}}}, "random.rates.429: 2 is not a rate from 0 to 1"),
    ({"random": {"rates": {"429": 0.7, "503": 0.5}}}, "add up to more than 1"),
    ({"seed": "abc"}, "seed: 'abc' is not a whole number"),
    ({"scripts": {"endpoint": "/me"}}, "scripts: write a list of rules"),
])
def test_each_mistake_names_the_file_the_key_and_what_to_do(doc: dict[str, object], says: str) -> None:
    with pytest.raises(FaultsError) as caught:
        parse_faults(doc, "faults.yaml")
    assert str(caught.value).startswith("graphtape: faults.yaml: ")
    assert says in str(caught.value)


def test_a_missing_file_and_bad_yaml_are_explained(tmp_path: Path) -> None:
    with pytest.raises(FaultsError, match=r"cannot read the faults file .*nope.yaml"):
        load_faults(str(tmp_path / "nope.yaml"))
    with pytest.raises(FaultsError, match="the inline faults is not valid YAML"):
        load_faults("scripts: [\n  {")


def test_me_and_users_id_are_one_endpoint_and_the_mailbox_is_kept_apart() -> None:
    assert request_path("https://graph.microsoft.com/v1.0/me/sendMail") == ("{mailbox}/sendMail", "me")
    assert request_path("https://graph.microsoft.com/beta/users/a%40contoso.com/sendMail?x=1") == (
        "{mailbox}/sendMail", "a@contoso.com")
    assert request_path("https://outlook.office.com/api/v2.0/Users('x')/AttachmentSessions('y')") == (
        "/api/v2.0/Users('x')/AttachmentSessions('y')", None)
    assert pattern_path("/users/*/messages") == pattern_path("me/messages") == "{mailbox}/messages"
    assert pattern_path("/beta/me") == "{mailbox}"
    cfg = parse_faults({"scripts": [{"endpoint": "/me/sendMail", "mailbox": "a@contoso.com", "status": 429}]}, "f")
    match = cfg.scripts[0].match
    assert match.covers("POST", "{mailbox}/sendMail", "A@contoso.com")
    assert not match.covers("POST", "{mailbox}/sendMail", "me")
    assert not match.covers("POST", "{mailbox}/messages", "a@contoso.com")


@pytest.mark.parametrize(("calls", "fired_on"), [
    (Calls(), [1, 2, 3, 4, 5, 6]),
    (Calls(nth=3), [3]),
    (Calls(times=2), [1, 2]),
    (Calls(nth=2, times=2), [2, 3]),
    (Calls(every=2), [2, 4, 6]),
    (Calls(every=2, times=2), [2, 4]),
    (Calls(nth=1, every=3), [1, 4]),
])
def test_which_calls_fire(calls: Calls, fired_on: list[int]) -> None:
    fired: list[int] = []
    for count in range(1, 7):
        if calls.fires(count, len(fired)):
            fired.append(count)
    assert fired == fired_on
