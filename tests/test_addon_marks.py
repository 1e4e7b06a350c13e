"""Under mitmweb, flows carry graphtape's findings and deviations as marks and comments."""

from __future__ import annotations

from mitmproxy.test import tflow

from graphtape.model import Deviation, Finding, Outcome
from graphtape.proxy.addon import mark_flow
from graphtape.session.exchanges import Exchange


def _exchange(**kw) -> Exchange:
    return Exchange(number=1, method="POST", url="https://graph.microsoft.com/v1.0/me/sendMail", **kw)


def test_a_clean_exchange_leaves_the_flow_alone():
    flow = tflow.tflow()
    mark_flow(flow, _exchange(outcome=Outcome.MATCHED, interaction=0))
    assert flow.marked == "" and flow.comment == ""


def test_a_contract_error_marks_and_comments_the_flow():
    flow = tflow.tflow()
    f = Finding("mime.base64", "error", "mime:body", "the body is not valid base64")
    mark_flow(flow, _exchange(outcome=Outcome.MATCHED, interaction=0, findings=[f]))
    assert flow.marked == ":warning:"
    assert flow.comment == "error: mime.base64 at mime:body: the body is not valid base64"


def test_a_deviation_is_marked_differently_from_an_error():
    flow = tflow.tflow()
    d = Deviation("body.subject", "changed", "a", "b")
    mark_flow(flow, _exchange(outcome=Outcome.MATCHED, interaction=0, deviations=[d]))
    assert flow.marked == ":large_orange_diamond:"
    assert flow.comment == "deviation body.subject: 'a' -> 'b'"


def test_an_unmatched_request_says_why():
    flow = tflow.tflow()
    mark_flow(flow, _exchange(outcome=Outcome.UNMATCHED, note="nearest: #1 POST /v1.0/me/messages"))
    assert flow.marked == ":warning:"
    assert flow.comment.startswith("graphtape unmatched: nearest: #1 POST /v1.0/me/messages")
