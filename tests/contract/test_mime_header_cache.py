"""mime.POLICY parses each header value once and keeps it (mime._HeaderFactory): the checks and the differ
must read exactly what the standard library's own ``email.policy.default`` reads."""

from __future__ import annotations

import email.policy
import itertools
from email.headerregistry import HeaderRegistry

import pytest
from contract_cases import case_request, load
from dev.deviations import format_deviations

from graphtape.bodies import mime
from graphtape.contract import validate_request
from graphtape.diffing.core import diff_requests
from graphtape.model import HttpRequest

HEADERS = [
    ("To", "Megan Bowen <MeganB@contoso.com>, adele@contoso.com"),
    ("From", "=?utf-8?q?Zo=C3=AB?= <zoe@contoso.com>"),
    ("Cc", "not an address <<<"),
    ("Bcc", "undisclosed-recipients:;"),
    ("Content-Type", 'text/plain; charset="iso-8859-1"'),
    ("Content-Type", "multipart/mixed"),
    ("content-transfer-encoding", "Quoted-Printable"),
    ("Subject", "=?x-unknown?q?hi?= there"),
    ("Date", "Sun, 28 Feb 2021 07:15:00 +0000"),
    ("Date", "not a date"),
    ("Message-ID", "<1@contoso.com>"),
    ("Content-Disposition", 'attachment; filename="report.pdf"'),
]


@pytest.mark.parametrize(("name", "value"), HEADERS)
def test_a_cached_header_reads_as_the_standard_one(name: str, value: str) -> None:
    cached, plain = mime.HEADER_FACTORY(name, value), HeaderRegistry()(name, value)
    assert type(cached).__mro__[1:] == type(plain).__mro__[1:]  # the same header class, built once
    assert (str(cached), cached.name, [str(d) for d in cached.defects]) == (
        str(plain), plain.name, [str(d) for d in plain.defects])
    for attr in ("addresses", "params", "content_type", "cte", "datetime"):
        assert str(getattr(cached, attr, None)) == str(getattr(plain, attr, None)), attr


def test_the_same_header_is_parsed_once_and_a_huge_one_every_time() -> None:
    factory = mime.HEADER_FACTORY
    assert mime.POLICY.header_factory is factory
    assert factory("To", "a@contoso.com") is factory("To", "a@contoso.com")
    assert factory["To"] is factory["to"]
    huge = ", ".join(f"user{i}@contoso.com" for i in range(mime.MAX_CACHED_HEADER // 10))
    assert factory("To", huge) is not factory("To", huge)
    assert str(factory("To", huge)) == str(HeaderRegistry()("To", huge))


def _mime_cases() -> list[dict]:
    cases = [*load("valid.yaml")["cases"], *load("invalid.yaml")["cases"], *load("seeds.yaml")["requests"]]
    return [c for c in cases if "mime" in c or "mime_base64" in c]


@pytest.mark.parametrize("case", _mime_cases(), ids=lambda c: c.get("id") or c.get("name"))
def test_mime_checks_find_what_the_standard_policy_finds(case: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    # A request keeps the message it read: each run gets a new request, so that each reads (and parses) it.
    cold = [f.line() for f in validate_request(case_request(case))]
    warm = [f.line() for f in validate_request(case_request(case))]  # every header now comes from the cache
    monkeypatch.setattr(mime, "POLICY", email.policy.default)
    standard = [f.line() for f in validate_request(case_request(case))]
    assert cold == warm == standard


def test_mime_diffs_are_those_of_the_standard_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    def pairs() -> list[tuple[HttpRequest, HttpRequest]]:  # new requests each time: none has read its message yet
        return list(itertools.pairwise(case_request(c) for c in _mime_cases()))

    cached = [format_deviations(diff_requests(a, b)) for a, b in pairs()]
    monkeypatch.setattr(mime, "POLICY", email.policy.default)
    assert [format_deviations(diff_requests(a, b)) for a, b in pairs()] == cached
    assert sum(bool(text) for text in cached) > len(cached) // 2  # the pairs do differ


def test_what_is_kept_is_bounded_and_the_headers_in_use_stay() -> None:
    factory = mime.HEADER_FACTORY
    to = factory("To", "Megan Bowen <MeganB@contoso.com>")
    for i in range(3_000):  # a long session of messages that differ in Subject and Date
        factory("Subject", f"Report #{i} " + "x" * 40)
        factory("Date", f"Mon, 01 Jul 2024 09:{i % 60:02d}:{i // 60 % 60:02d} +0000")
        assert factory("To", "Megan Bowen <MeganB@contoso.com>") is to  # read again and again: kept
    kept = factory._parsed
    assert sum(len(n) + len(v) for n, v in kept) == factory._chars <= mime.HEADER_CACHE_CHARS
    assert ("Subject", "Report #0 " + "x" * 40) not in kept  # the oldest were let go
