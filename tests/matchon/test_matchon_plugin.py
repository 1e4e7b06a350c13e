"""match_on in the pytest plugin, through its real proxy (pytester runs a test session in a subprocess):
``@pytest.mark.graphtape(match_on=[...])``, its precedence over the cassette's, a typo, and a re-recording
(``--graphtape-mode=record``) that keeps the cassette's ``meta.match_on``."""

from __future__ import annotations

from typing import Any

import pytest

from graphtape.cassette.format import load_cassette

from .cassettes import draft, write

pytest_plugins = ["pytester"]

PLUGIN_TEST = '''
import json, httpx, pytest
GRAPH = "https://graph.microsoft.com/v1.0"

@pytest.mark.graphtape("drafts.yaml"MARKER)
def testdraft(graphtape):
    r = httpx.post(f"{GRAPH}/me/messages", content=BODY, headers={"Content-Type": "application/json"})
    assert r.status_code == 201, r.text
'''


def _run(pytester: pytest.Pytester, marker: str, body: bytes, *args: str, **meta: Any) -> Any:
    (pytester.path / "cassettes").mkdir(exist_ok=True)
    write(pytester.path / "cassettes" / "drafts.yaml", **meta)
    source = PLUGIN_TEST.replace("MARKER", f", {marker}" if marker else "").replace("BODY", repr(body))
    pytester.makepyfile(test_drafts=source)
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly", *args)


def test_marker_match_on_body_fails_a_test_whose_body_changed_naming_the_difference(pytester: pytest.Pytester):
    run = _run(pytester, 'match_on=["method", "url", "body"]', draft("Report (final)"))
    run.assert_outcomes(failed=1)
    out = run.stdout.str()
    assert "graphtape.UnmatchedRequest" in out or "404" in out, out
    assert "body differs: body.subject: 'Report' -> 'Report (final)'" in out, out


def test_marker_match_on_serves_an_equal_body_and_wins_over_the_cassettes(pytester: pytest.Pytester):
    _run(pytester, 'match_on=["method", "url", "body"]', draft("Report")).assert_outcomes(passed=1)
    loose = _run(pytester, 'match_on="method,url"', draft("Report (final)"), match_on=["method", "url", "body"])
    loose.assert_outcomes(passed=1)
    strict = _run(pytester, "", draft("Report (final)"), match_on=["method", "url", "body"])  # the cassette's
    strict.assert_outcomes(failed=1)


def test_marker_match_on_typo_refuses_the_test(pytester: pytest.Pytester):
    run = _run(pytester, 'match_on=["method", "url", "boddy"]', draft("Report"))
    assert run.ret != 0
    assert "graphtape: match_on=: unknown match_on item 'boddy'; did you mean 'body'?" in run.stdout.str()


def test_the_projects_match_on_applies_under_pytest_and_a_typo_in_it_refuses_the_test(pytester: pytest.Pytester):
    pytester.makepyprojecttoml('[tool.graphtape]\nmatch_on = ["method", "url", "body"]\n')
    _run(pytester, "", draft("Report (final)")).assert_outcomes(failed=1)
    _run(pytester, "", draft("Report")).assert_outcomes(passed=1)
    pytester.makepyprojecttoml('[tool.graphtape]\nmatch_on = ["method", "url", "bdy"]\n')
    run = _run(pytester, "", draft("Report"))
    assert run.ret != 0
    assert "graphtape: [tool.graphtape] match_on: unknown match_on item 'bdy'; did you mean 'body'?" in run.stdout.str()


def test_plugin_re_recording_keeps_the_cassettes_match_on(pytester: pytest.Pytester, fake_graph: Any):
    run = _run(pytester, "", draft("Report"), "--graphtape-mode=record", f"--graphtape-upstream={fake_graph.url}",
               f"--graphtape-upstream-ca={fake_graph.cert}", match_on=["method", "url", "body"])
    run.assert_outcomes(passed=1)
    loaded = load_cassette(pytester.path / "cassettes" / "drafts.yaml")
    assert loaded.meta["match_on"] == ["method", "url", "body"]
    assert [i.request.method for i in loaded.interactions] == ["POST"]  # recorded anew: one call
