"""The seed pages' examples, sent to the simulator, get answers of the docs' shape (issue 15, "Done when").

Each request/response pair of the two seed pages (tests/simulate/data/seed-pages, read by doc_examples.py) is
sent to a fresh ``Simulator``; its answer must have the docs' status and the docs' JSON shape: the same keys (all
of them where the docs do not say the example is shortened), the same JSON types, lists by element shape; the
values are the server's and are not compared. A ``{id}`` in a URL is a draft created first.

Examples the simulator does not answer as the docs show are listed in ``KNOWN_GAPS`` with the reason (a strict
xfail: the day one is fixed, its test fails until it is taken off the list). None is skipped.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml
from doc_examples import DocExample, extract_examples, shape_differences

from graphtape.model import HttpRequest, HttpResponse
from graphtape.simulate import Simulator

PAGES = Path(__file__).parent / "data" / "seed-pages"
TRANSCRIPTION = Path(__file__).parents[1] / "contract" / "data" / "seeds.yaml"
CLOCK = datetime.datetime(2024, 5, 1, 9, 0, tzinfo=datetime.UTC)
EXAMPLES = [*extract_examples((PAGES / "message-send.md").read_text(encoding="utf-8"), "message-send"),
            *extract_examples((PAGES / "create-message.txt").read_text(encoding="utf-8"), "create-message")]
PAIRS = [e for e in EXAMPLES if e.request is not None]
ERRORS = [e for e in EXAMPLES if e.request is None]

# Examples whose answer differs from the docs, and why (each is a strict xfail; see the module's docstring).
KNOWN_GAPS: dict[str, str] = {
    "message-send-2": "the docs' example is wrong on purpose: sendMail answers 202 with no body (contract decision "
                      "sendmail-status), the example shows Create Message's 201 body under '201 Accepted'",
}


def _answer(sim: Simulator, req: HttpRequest) -> HttpResponse:
    if "{id}" in req.url:
        draft = sim.answer(HttpRequest("POST", "https://graph.microsoft.com/v1.0/me/messages",
                                       [("Content-Type", "application/json")],
                                       json.dumps({"subject": "draft for the example", "toRecipients": [
                                           {"emailAddress": {"address": "megan@contoso.com"}}]}).encode()))
        assert draft.status == 201, draft.body
        req = HttpRequest(req.method, req.url.replace("{id}", quote(json.loads(draft.body)["id"], safe="")),
                          req.headers, req.body)
    return sim.answer(req)


def _differences(example: DocExample, resp: HttpResponse) -> list[str]:
    assert example.response is not None
    docs = example.response
    out = [f"status: the docs have {docs.status}, the answer has {resp.status}"] if resp.status != docs.status else []
    if docs.json is None:
        return out + ([f"body: the docs have none, the answer has {resp.body[:200]!r}"] if resp.body else [])
    if "json" not in resp.content_type:
        return [*out, f"body: the docs have JSON, the answer is {resp.content_type!r}: {resp.body[:200]!r}"]
    return out + shape_differences(docs.json, json.loads(resp.body), truncated=docs.truncated)


def _params(examples: list[DocExample]) -> list[Any]:
    return [pytest.param(e, id=e.name, marks=[pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[e.name])]
                         if e.name in KNOWN_GAPS else []) for e in examples]


@pytest.mark.parametrize("example", _params(PAIRS))
def test_a_seed_example_gets_an_answer_of_the_docs_shape(example: DocExample) -> None:
    assert example.request is not None
    resp = _answer(Simulator(id_seed=1, clock=CLOCK), example.request)
    differences = _differences(example, resp)
    assert differences == [], f"{example.name} (line {example.line}): " + "; ".join(differences)


@pytest.mark.parametrize("example", _params(ERRORS))
def test_a_seed_error_example_is_the_answer_to_what_the_page_says_causes_it(example: DocExample) -> None:
    """The page's error example follows "If the request body includes malformed MIME content": that request is
    made here. Graph's error bodies carry ``innerError`` (graph-mail-contract.md, "Error body") though the example
    leaves it out, so the docs' keys need only be there; the code must be the docs' own."""
    assert example.response is not None and example.response.json is not None
    req = HttpRequest("POST", "https://graph.microsoft.com/v1.0/me/messages", [("Content-Type", "text/plain")],
                      b"this is not base64 MIME!")
    resp = Simulator(id_seed=1, clock=CLOCK).answer(req)
    assert resp.status == example.response.status
    body = json.loads(resp.body)
    assert shape_differences(example.response.json, body, truncated=True) == []
    assert body["error"]["code"] == example.response.json["error"]["code"]


def test_every_example_of_the_pages_is_compared() -> None:
    """Nothing is dropped on the way: the pages hold 2 + 4 request/response pairs and one error example."""
    assert [e.name for e in PAIRS] == ["message-send-1", "message-send-2", *(f"create-message-{n}" for n in
                                                                          range(1, 5))]
    assert [e.name for e in ERRORS] == ["create-message-5"]
    assert set(KNOWN_GAPS) <= {e.name for e in EXAMPLES}


def test_the_pages_examples_are_the_contract_tests_transcription() -> None:
    """tests/contract/data/seeds.yaml transcribes the same examples by hand: the two agree."""
    cases = yaml.safe_load(TRANSCRIPTION.read_text(encoding="utf-8"))["requests"]
    docs = [(e.request.method, e.request.url, e.response.status) for e in PAIRS if e.request and e.response]
    transcribed = [(c["method"], c["url"], c["response"]["status"]) for c in cases]
    assert docs == transcribed
    for example, case in zip(PAIRS, cases, strict=True):
        assert example.response is not None
        if "json" in case["response"]:
            assert example.response.json == case["response"]["json"], example.name
        if "json" in case:
            assert example.request is not None and json.loads(example.request.body) == case["json"], example.name
