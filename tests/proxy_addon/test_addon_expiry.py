"""Expiry in the addon, in-process: the options as mitmproxy sets them, in a running replay too, and refused when
bad. The cassette's interaction was recorded 2026-11-22 (addon_support.interaction); the proxy's clock is real."""

from __future__ import annotations

from pathlib import Path

import pytest
from mitmproxy import exceptions

from graphtape.replay.expiry import RULE

from .addon_support import graph_flow, interaction, running_addon, send, write_cassette


@pytest.fixture
def cassette(tmp_path: Path) -> Path:
    return write_cassette(tmp_path / "c.yaml", interaction("GET", "/me/messages", 200, {"value": []}))


def _expired_rules(addon: object) -> list[str]:
    return [f.rule for e in addon.session.exchanges for f in e.findings if f.rule == RULE]  # type: ignore[attr-defined]


def test_max_age_changed_in_a_running_replay_applies_to_the_next_call(cassette: Path) -> None:
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(cassette), graphtape_max_age="3650d",
                       graphtape_allow_repeats=True) as (addon, tctx):
        send(addon, graph_flow("GET", "/me/messages"))
        assert _expired_rules(addon) == []
        tctx.configure(addon, graphtape_max_age="1d")
        send(addon, graph_flow("GET", "/me/messages"))
        assert _expired_rules(addon) == [RULE] and addon.session.problems == []
        tctx.configure(addon, graphtape_on_expiry="fail")
        send(addon, graph_flow("GET", "/me/messages"))
        assert len(addon.session.problems) == 1 and "interaction 1 expired" in addon.session.problems[0]


def test_a_bad_max_age_option_is_refused(cassette: Path) -> None:
    refused = pytest.raises(exceptions.OptionsError, match=r"graphtape_max_age: 'soon' is not a duration \(e\.g\.")
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(cassette)) as (addon, tctx), refused:
        tctx.configure(addon, graphtape_max_age="soon")
