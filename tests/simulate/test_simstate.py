"""The simulate mode's pure parts: its options checked, the state URL, how an answer is counted, the CLI's options."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from graphtape.cli import build_parser
from graphtape.commands.simulate import simulate_options
from graphtape.graph import error_response
from graphtape.model import HttpResponse, Outcome
from graphtape.proxy.modes.simulate import outcome_of
from graphtape.proxy.simstate import SimSettings, is_cassette_text, is_state_url, parse_clock, state_response


def opts(**over: object) -> SimpleNamespace:
    base = {"graphtape_simulate_seed": "", "graphtape_simulate_clock": "", "graphtape_simulate_id_seed": 0,
            "graphtape_simulate_dump": "", "graphtape_simulate_fresh": True}
    return SimpleNamespace(**{**base, **over})


def test_clock_is_iso_8601_a_zone_less_time_is_utc_and_empty_is_the_wall_clock():
    assert parse_clock("2026-01-05T09:00:00Z") == dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)
    assert parse_clock("2026-01-05T09:00:00+02:00") == dt.datetime(2026, 1, 5, 7, tzinfo=dt.UTC)
    assert parse_clock("2026-01-05T09:00") == dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)
    assert parse_clock("") is None and parse_clock("  ") is None


def test_a_bad_clock_says_what_it_wants():
    with pytest.raises(ValueError, match=r"--clock 'yesterday' is not an ISO 8601 time; give one such as"):
        parse_clock("yesterday")


def test_a_missing_seed_file_is_refused_before_anything_is_built(tmp_path: Path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ValueError, match=rf"simulate --seed {missing}: no such file \(give a fixture YAML or a"):
        SimSettings.from_options(opts(graphtape_simulate_seed=str(missing)))


def test_a_dump_path_that_cannot_be_written_is_refused_at_start(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ValueError, match=r"simulate --dump .*file/state.yaml: cannot write there"):
        SimSettings.from_options(opts(graphtape_simulate_dump=str(blocker / "state.yaml")))


def test_settings_key_names_what_a_kept_simulator_was_opened_with():
    s = SimSettings.from_options(opts(graphtape_simulate_clock="2026-01-05T09:00:00Z", graphtape_simulate_id_seed=7,
                                      graphtape_simulate_fresh=False))
    assert s.key == ("", "2026-01-05T09:00:00Z", 7) and s.fresh is False and s.seed is None
    assert s.clock == dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC) and s.id_seed == 7


def test_a_cassette_is_told_from_a_fixture_by_its_version_key():
    assert is_cassette_text("# graphtape cassette\ngraphtape_cassette: 1\nmeta: {}\ninteractions: []\n")
    assert not is_cassette_text("me: alex@contoso.com\nmailboxes: []\n")
    assert not is_cassette_text("mailboxes:\n  - note: graphtape_cassette: 1\n")


@pytest.mark.parametrize(("url", "is_state"), [
    ("https://graph.microsoft.com/_graphtape/mailboxes", True),
    ("https://graph.microsoft.com/_graphtape/mailboxes/", True),
    ("https://graph.microsoft.com/_graphtape/mailboxes.yaml", True),
    ("https://graph.microsoft.us/_graphtape/mailboxes?x=1", True),
    ("https://graph.microsoft.com/v1.0/_graphtape/mailboxes", False),
    ("https://example.com/_graphtape/mailboxes", False),
    ("https://graph.microsoft.com/_graphtape/other", False),
])
def test_the_state_url_is_a_graphtape_only_path_on_every_graph_host(url: str, is_state: bool):
    assert is_state_url(url) is is_state


def test_the_state_is_json_for_get_and_405_for_anything_else():
    state = {"me": "alex@contoso.com", "mailboxes": [{"id": "u1"}]}
    got = state_response("GET", "https://graph.microsoft.com/_graphtape/mailboxes", state)
    assert got.status == 200 and got.content_type.startswith("application/json")
    assert json.loads(got.body) == state
    refused = state_response("DELETE", "https://graph.microsoft.com/_graphtape/mailboxes", state)
    assert refused.status == 405 and b"graphtape.MethodNotAllowed" in refused.body


def test_an_answer_is_simulated_unless_it_is_the_simulators_not_simulated_501():
    assert outcome_of(HttpResponse(201, body=b"{}")) == (Outcome.SIMULATED, "")
    assert outcome_of(error_response(404, "ErrorItemNotFound", "gone")) == (Outcome.SIMULATED, "")
    outcome, note = outcome_of(error_response(501, "graphtape.NotSimulated", "GET /me/people is not simulated"))
    assert outcome == Outcome.UNMATCHED and note == "graphtape.NotSimulated: GET /me/people is not simulated"
    assert outcome_of(error_response(501, "NotImplemented", "Graph's own 501")) == (Outcome.SIMULATED, "")


def test_the_simulate_command_takes_replays_proxy_options_and_its_own():
    args = build_parser().parse_args(["simulate", "--seed", "mail.yaml", "--clock", "2026-01-05T09:00:00Z",
                                      "--dump", "out.yaml", "--id-seed", "3", "--reverse", "--port", "0",
                                      "--report", "r.json", "--junit", "j.xml", "--fail-on", "violation"])
    assert (args.reverse, args.port, args.report, args.junit, args.fail_on) == (True, 0, "r.json", "j.xml",
                                                                                "violation")
    assert simulate_options(args) == {"graphtape_simulate_seed": "mail.yaml",
                                      "graphtape_simulate_clock": "2026-01-05T09:00:00Z",
                                      "graphtape_simulate_id_seed": 3, "graphtape_simulate_dump": "out.yaml",
                                      "graphtape_signin": True}


def test_run_takes_simulate_instead_of_a_cassette():
    from graphtape.cli import proxy_options
    from graphtape.commands.simulate import run_mode
    from graphtape.model import Mode

    args = build_parser().parse_args(["run", "--simulate", "--seed", "mail.yaml", "--", "true"])
    assert run_mode(args) == Mode.SIMULATE and args.cassette == ""
    opts = proxy_options(args, Mode.SIMULATE, "")
    assert (opts["graphtape_mode"], opts["graphtape_simulate_seed"], opts["graphtape_cassette"]) == (
        "simulate", "mail.yaml", "")
    replaying = build_parser().parse_args(["run", "--cassette", "c.yaml", "--", "true"])
    assert run_mode(replaying) == Mode.REPLAY and "graphtape_simulate_seed" not in proxy_options(
        replaying, Mode.REPLAY, "c.yaml")
    for wrong in (["run", "--", "true"], ["run", "--simulate", "--cassette", "c.yaml", "--", "true"]):
        with pytest.raises(ValueError, match=r"give --cassette PATH .* or --simulate without one"):
            run_mode(build_parser().parse_args(wrong))
