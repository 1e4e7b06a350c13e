"""The stand-in refuses what graphtape's contract refuses, with Graph's error, so no recording against it holds
an answer Graph would not give."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from graphtape.testing.fakegraph import FakeGraph

TO = [{"emailAddress": {"address": "megan@contoso.com"}}]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    with FakeGraph(tmp_path_factory.mktemp("fakegraph-contract")) as g, \
            httpx.Client(base_url=g.url, verify=str(g.cert), timeout=10) as c:
        yield c


def _error(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 400, (r.status_code, r.text)
    assert "x-graphtape" not in r.headers  # the stand-in speaks as Graph, not as graphtape's proxy
    error = r.json()["error"]
    assert isinstance(error["message"], str) and error["message"]
    return dict(error)


def test_a_mention_without_mentioned_is_refused(client: httpx.Client) -> None:
    body = {"subject": "s", "toRecipients": TO, "mentions": [{"createdBy": {"emailAddress": {"name": "x"}}}]}
    error = _error(client.post("/beta/me/messages", json=body))
    assert error["code"] == "ErrorInvalidRequest"
    assert "mention.mentioned-required" in error["message"]


def test_a_custom_header_not_named_x_is_refused(client: httpx.Client) -> None:
    body = {"subject": "s", "toRecipients": TO, "internetMessageHeaders": [{"name": "Priority", "value": "1"}]}
    error = _error(client.post("/v1.0/me/messages", json=body))
    assert error["code"] == "InvalidInternetMessageHeader"


def test_a_sendmail_without_recipients_is_refused(client: httpx.Client) -> None:
    error = _error(client.post("/v1.0/me/sendMail", json={"message": {"subject": "s"}}))
    assert error["code"] == "ErrorInvalidRecipients"


def test_mentions_on_v1_are_refused(client: httpx.Client) -> None:
    mention = {"mentioned": {"name": "Dana", "address": "dana@contoso.com"}}
    error = _error(client.post("/v1.0/me/messages", json={"subject": "s", "toRecipients": TO, "mentions": [mention]}))
    assert error["code"] == "RequestBodyRead"
    assert "The property 'mentions' does not exist on type 'microsoft.graph.message'" in error["message"]


def test_what_the_contract_accepts_is_still_answered(client: httpx.Client) -> None:
    mention = {"mentioned": {"name": "Dana", "address": "dana@contoso.com"}}
    r = client.post("/beta/me/messages", json={"subject": "s", "toRecipients": TO, "mentions": [mention]})
    assert r.status_code == 201, r.text
    assert client.post("/v1.0/me/sendMail", json={"message": {"subject": "s", "toRecipients": TO}}).status_code == 202
