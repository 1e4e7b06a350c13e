"""The fault stage in-process (taddons): mitmweb's marks, the async hook a delay returns, the option's errors."""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path

import pytest
from mitmproxy import exceptions

from .addon_support import SEND_MAIL, graph_error_code, graph_flow, interaction, running_addon, send, write_cassette


@pytest.fixture
def cassette(tmp_path: Path) -> Path:
    return write_cassette(tmp_path / "c.yaml", interaction("POST", "/me/sendMail", 202, req_body=SEND_MAIL),
                          interaction("GET", "/me/messages", 200, body={"value": [{"id": "A1"}]}))


def test_faults_are_marked_for_mitmweb(cassette: Path) -> None:
    faults = ("{scripts: [{endpoint: /me/sendMail, nth: 1, status: 429}, "
              "{endpoint: /me/messages, method: GET, truncated: 0.5}]}")
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(cassette), graphtape_faults=faults) as (
            addon, _):
        throttled = send(addon, graph_flow("POST", "/me/sendMail", SEND_MAIL))
        cut = send(addon, graph_flow("GET", "/me/messages"))
        assert throttled.response is not None and throttled.response.status_code == 429
        assert throttled.marked and "injected 429 Retry-After 1 (script 1)" in throttled.comment
        assert cut.marked == ":zap:" and "graphtape fault 2 (script 2): answer truncated at 50%" in cut.comment
        assert cut.response is not None and cut.response.headers["connection"] == "close"
        assert len(cut.response.raw_content or b"") < int(cut.response.headers["content-length"])


def test_a_delay_is_a_coroutine_mitmproxy_awaits_and_no_fault_is_none(cassette: Path) -> None:
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(cassette),
                       graphtape_faults="{scripts: [{endpoint: /me/messages, latency: 0.05}]}") as (addon, _):
        plain = graph_flow("POST", "/me/sendMail", SEND_MAIL)
        assert addon.request(plain) is None and plain.response is not None
        slow = graph_flow("GET", "/me/messages")
        pending = addon.request(slow)
        assert inspect.isawaitable(pending) and slow.response is None  # nothing answered yet
        asyncio.run(pending)
        assert slow.response is not None and slow.response.status_code == 200


def test_a_bad_faults_option_is_refused_naming_the_key() -> None:
    with running_addon() as (addon, tctx), pytest.raises(exceptions.OptionsError, match="did you mean 'status'"):
        tctx.configure(addon, graphtape_faults="{scripts: [{endpoint: /me, stats: 429}]}")


def test_a_bug_after_a_delay_is_answered_500_and_fails_the_session(cassette: Path,
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    from graphtape.faults import stage

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(stage, "fault_response", broken)
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(cassette),
                       graphtape_faults="{scripts: [{endpoint: /me/sendMail, latency: 0.01, status: 503}]}") as (
            addon, _):
        flow = graph_flow("POST", "/me/sendMail", SEND_MAIL)
        pending = addon.request(flow)
        assert pending is not None
        asyncio.run(pending)
        assert flow.response is not None and flow.response.status_code == 500
        assert graph_error_code(flow) == "graphtape.InternalError"
        assert any("boom" in p for p in addon.session.problems)
    caplog.clear()  # the traceback logged on purpose
