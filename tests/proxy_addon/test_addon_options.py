"""configure: every bad option is refused with mitmproxy's OptionsError; good ones set up the mode they name."""

from __future__ import annotations

from pathlib import Path

import pytest
from mitmproxy import exceptions

from graphtape.bodies.limits import MAX_BODY_ENV
from graphtape.cassette.format import load_cassette
from graphtape.model import Outcome

from .addon_support import graph_flow, graph_response, interaction, running_addon, send, write_cassette


@pytest.fixture
def cassette(tmp_path: Path) -> Path:
    return write_cassette(tmp_path / "c.yaml", interaction("GET", "/me", 200, {"id": "me"}))


def test_the_options_and_their_defaults() -> None:
    with running_addon() as (addon, tctx):
        opts = tctx.options
        assert (opts.graphtape_mode, opts.graphtape_policy, opts.graphtape_record_mode) == ("inspect", "auto", "new")
        assert opts.graphtape_fail_on == "unmatched,violation" and opts.graphtape_cassette == ""
        assert addon.mode == "inspect" and addon.recorder is None and addon.replayer is None


def test_a_record_mode_outside_the_choices_is_refused(tmp_path: Path) -> None:
    with running_addon() as (addon, tctx), pytest.raises(exceptions.OptionsError):
        tctx.configure(addon, graphtape_mode="record", graphtape_cassette=str(tmp_path / "c.yaml"),
                       graphtape_record_mode="clobber")
    assert not (tmp_path / "c.yaml").exists()


# mitmproxy checks choices only in its argument parser: ``--set graphtape_mode=recrod`` reaches configure as is.
@pytest.mark.parametrize("option, value", [("graphtape_mode", "recrod"), ("graphtape_policy", "enforced")])
def test_a_mode_or_policy_outside_the_choices_is_refused(option: str, value: str, tmp_path: Path) -> None:
    with running_addon() as (_, tctx), pytest.raises(exceptions.OptionsError):
        tctx.options.set(f"{option}={value}", f"graphtape_cassette={tmp_path / 'c.yaml'}")


@pytest.mark.parametrize("option, value, meant", [
    ("graphtape_mode", "recrod", "record"), ("graphtape_record_mode", "apend", "append"),
    ("graphtape_policy", "enforced", "enforce"),
])
def test_a_value_outside_the_choices_says_what_was_meant_and_changes_nothing(option: str, value: str, meant: str,
                                                                             tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    with running_addon(graphtape_mode="record", graphtape_cassette=str(path)) as (addon, tctx):
        send(addon, graph_flow("GET", "/me"), upstream=graph_response(200, {"id": "me"}))
        with pytest.raises(exceptions.OptionsError, match=f"did you mean '{meant}'") as refused:
            tctx.options.set(f"{option}={value}")
        assert option in str(refused.value) and "one of:" in str(refused.value)
        assert getattr(tctx.options, option) != value  # rolled back
        assert addon.mode == "record" and addon.recorder is not None
        assert [e.outcome for e in addon.session.exchanges] == [Outcome.RECORDED]
    assert len(load_cassette(path).interactions) == 1


@pytest.mark.parametrize("upstream", ["ftp://127.0.0.1", "127.0.0.1:8443", "https://", "http://127.0.0.1:99999"])
def test_a_bad_upstream_is_refused_and_the_old_one_kept(upstream: str) -> None:
    with running_addon(graphtape_upstream="https://127.0.0.1:8443") as (addon, tctx):
        with pytest.raises(exceptions.OptionsError):
            tctx.configure(addon, graphtape_upstream=upstream)
        assert tctx.options.graphtape_upstream == "https://127.0.0.1:8443"
        flow = send(addon, graph_flow("GET", "/me"))
        assert (flow.request.host, flow.request.port) == ("127.0.0.1", 8443)


def test_a_bad_fail_on_is_refused() -> None:
    with running_addon() as (addon, tctx):
        with pytest.raises(exceptions.OptionsError):
            tctx.configure(addon, graphtape_fail_on="unmatched,everything")
        tctx.configure(addon, graphtape_fail_on="deviation,unused")
        assert addon.shared.fail_on == {"deviation", "unused"}


@pytest.mark.parametrize("mode", ["record", "replay"])
def test_record_and_replay_need_a_cassette(mode: str) -> None:
    with running_addon() as (addon, tctx), pytest.raises(exceptions.OptionsError):
        tctx.configure(addon, graphtape_mode=mode)


def test_a_missing_cassette_cannot_be_replayed(tmp_path: Path) -> None:
    with running_addon() as (addon, tctx), pytest.raises(exceptions.OptionsError):
        tctx.configure(addon, graphtape_mode="replay", graphtape_cassette=str(tmp_path / "absent.yaml"))


@pytest.mark.parametrize("text", [
    "not: [a cassette",  # not YAML
    "graphtape_cassette: 99\ninteractions: []\n",  # a future format
    "- just\n- a list\n",
])
def test_a_malformed_cassette_is_refused(text: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with running_addon() as (addon, tctx), pytest.raises(exceptions.OptionsError):
        tctx.configure(addon, graphtape_mode="replay", graphtape_cassette=str(path))


def test_an_edited_pseudonymizer_salt_is_refused(cassette: Path) -> None:
    text = cassette.read_text().replace("meta:\n", "meta:\n  pseudonymized: {salt: not-hex, method: hmac-sha256}\n")
    cassette.write_text(text)
    with running_addon() as (addon, tctx), pytest.raises(exceptions.OptionsError):
        tctx.configure(addon, graphtape_mode="replay", graphtape_cassette=str(cassette))


def test_a_bad_ignore_rule_is_refused(cassette: Path) -> None:
    Path("pyproject.toml").write_text('[tool.graphtape]\nignore = "body.subject"\n')  # a string, not a list
    with running_addon() as (addon, tctx), pytest.raises(exceptions.OptionsError):
        tctx.configure(addon, graphtape_mode="replay", graphtape_cassette=str(cassette))


def test_a_cassette_that_cannot_be_written_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    with running_addon() as (addon, tctx), pytest.raises(exceptions.OptionsError):
        tctx.configure(addon, graphtape_mode="record", graphtape_cassette=str(tmp_path / "a-file" / "c.yaml"))


def test_an_existing_cassette_is_not_recorded_over(cassette: Path) -> None:
    before = cassette.read_bytes()
    with running_addon() as (addon, tctx), pytest.raises(exceptions.OptionsError):
        tctx.configure(addon, graphtape_mode="record", graphtape_cassette=str(cassette))
    assert cassette.read_bytes() == before


@pytest.mark.parametrize("limit", ["lots", "inf", "nan", "-1", "0"])
def test_a_bad_body_limit_is_refused_at_start(limit: str, cassette: Path, monkeypatch: pytest.MonkeyPatch,
                                              caplog: pytest.LogCaptureFixture) -> None:
    try:
        with running_addon() as (addon, tctx):
            monkeypatch.setenv(MAX_BODY_ENV, limit)
            with pytest.raises(exceptions.OptionsError, match=MAX_BODY_ENV):
                tctx.configure(addon, graphtape_mode="replay", graphtape_cassette=str(cassette))
    finally:
        caplog.clear()  # the swallowed error is this test's subject, not a failure of the fixture


@pytest.mark.parametrize("mode, policy, enforcing", [
    ("replay", "auto", True), ("replay", "report", False),
    ("record", "auto", False), ("record", "enforce", True), ("inspect", "auto", False),
])
def test_policy_auto_enforces_only_in_replay(mode: str, policy: str, enforcing: bool, tmp_path: Path,
                                             cassette: Path) -> None:
    path = cassette if mode == "replay" else tmp_path / "new.yaml"
    with running_addon(graphtape_mode=mode, graphtape_cassette=str(path), graphtape_policy=policy) as (addon, _):
        assert addon.handler.enforcing is enforcing


def test_every_mode_but_off_connects_lazily(cassette: Path) -> None:
    with running_addon() as (addon, tctx):
        assert tctx.options.connection_strategy == "lazy"
    with running_addon(connection_strategy="eager", graphtape_mode="off") as (addon, tctx):
        assert tctx.options.connection_strategy == "eager"
        tctx.configure(addon, graphtape_mode="replay", graphtape_cassette=str(cassette))
        assert tctx.options.connection_strategy == "lazy"


def test_replay_refuses_big_bodies_and_record_streams_them(cassette: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MAX_BODY_ENV, "2")
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(cassette)) as (addon, tctx):
        assert tctx.options.body_size_limit == "2m"  # wins over stream_large_bodies: refused, never streamed out
        tctx.configure(addon, graphtape_mode="record", graphtape_cassette=str(tmp_path / "new.yaml"))
        assert (tctx.options.body_size_limit, tctx.options.stream_large_bodies) == (None, "2m")


def test_size_options_the_user_set_are_kept(tmp_path: Path, cassette: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MAX_BODY_ENV, "2")
    with running_addon(body_size_limit="5m", stream_large_bodies="1m") as (addon, tctx):
        tctx.configure(addon, graphtape_mode="replay", graphtape_cassette=str(cassette))
        assert tctx.options.body_size_limit == "5m"
        tctx.configure(addon, graphtape_mode="inspect")
        assert (tctx.options.body_size_limit, tctx.options.stream_large_bodies) == ("5m", "1m")
