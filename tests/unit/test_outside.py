"""pytest/outside: what a Graph call outside any cassette is told, and what fails with it."""

from __future__ import annotations

from graphtape.pytest.outside import BEFORE_TESTS, StrayCall, Where, no_cassette_message, stray_report, unmarked

URL = "https://graph.microsoft.com/v1.0//me/messages?$top=1"


def test_the_message_names_the_call_and_where_the_run_was() -> None:
    call = StrayCall("GET", URL, unmarked("t.py::test_x"))
    assert call.where.nodeid == "t.py::test_x"
    assert no_cassette_message(call) == (
        "graphtape: GET /v1.0/me/messages?$top=1 came while no cassette was in use (test t.py::test_x is not marked "
        "graphtape); graphtape answers Microsoft Graph only from a cassette and sends nothing to the network. "
        "Mark the test @pytest.mark.graphtape, or make the call inside a marked test.")


def test_the_report_lists_each_call() -> None:
    calls = [StrayCall("GET", URL, Where(BEFORE_TESTS)), StrayCall("POST", URL, unmarked("t.py::test_x"))]
    assert Where(BEFORE_TESTS).nodeid is None  # no test to fail: the session fails
    assert stray_report(calls).splitlines() == [
        "graphtape: 2 Microsoft Graph call(s) came while no cassette was in use; each was answered 403 "
        "graphtape.NoCassette and sent nowhere:",
        f"  GET /v1.0/me/messages?$top=1 ({BEFORE_TESTS})",
        "  POST /v1.0/me/messages?$top=1 (test t.py::test_x is not marked graphtape)",
    ]
