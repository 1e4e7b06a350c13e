"""Clients that would go around the plugin's proxy, in real inner pytest processes through the real proxy.

The proxy variables are set for the whole session (import-time clients and session fixtures go through it),
Graph calls outside any cassette are answered 403 ``graphtape.NoCassette`` and fail what was running, an
inherited ``NO_PROXY`` naming Graph is removed (and said), and a replay that no request reached fails naming
the likely bypass. No inner test calls graph.microsoft.com unless the proxy variables are in place: if the
plugin did not set them, the test fails before its call instead of reaching for the network.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from conftest import SEEDS
from graphtape.testing.fakegraph import FakeGraph

pytest_plugins = ["pytester"]

SEND = "https://graph.microsoft.com/beta/me/messages/AAMkAGRWAAAFSmKXAAA=/send"
NOTICE = ("graphtape: removed graph.microsoft.com from NO_PROXY: they would send Microsoft Graph and sign-in calls "
          "around the proxy, to the real service")

COMMON = '''
import os
from pathlib import Path

import httpx
import pytest

SEND = "{send}"
TENANT = "{tenant}"  # the stand-in, reached directly: where a real tenant would be
TENANT_CA = "{tenant_ca}"


def behind_the_proxy(env=os.environ):
    """Whether a client built now goes through graphtape (else calling Graph would reach for the network)."""
    return env.get("HTTPS_PROXY", "").startswith("http://127.0.0.1:") and "graph" not in env.get("NO_PROXY", "")
'''

SESSION_TESTS = COMMON + '''
AT_IMPORT = httpx.Client(timeout=10)  # built while pytest imports this module, before any test
PROXIED_AT_IMPORT = behind_the_proxy()


@pytest.fixture(scope="session")
def session_client():
    with httpx.Client(timeout=10) as client:
        yield client, behind_the_proxy()


def test_a_unmarked_builds_the_session_client(session_client):
    pass


@pytest.mark.graphtape("send-draft.yaml")
def test_b_import_time_client(graphtape):
    assert PROXIED_AT_IMPORT, "the proxy variables were not set when the module was imported"
    assert AT_IMPORT.post(SEND).status_code == 202
    assert graphtape.calls("POST", SEND) == 1


@pytest.mark.graphtape("send-draft.yaml")
def test_c_session_fixture_client(session_client, graphtape):
    client, proxied = session_client
    assert proxied, "the proxy variables were not set when the session fixture ran"
    assert client.post(SEND).status_code == 202
    assert graphtape.calls("POST", SEND) == 1


def test_d_unmarked_graph_call():
    assert behind_the_proxy()
    r = httpx.post(SEND, timeout=10)
    assert r.status_code == 403, r.text
    error = r.json()["error"]
    assert error["code"] == "graphtape.NoCassette"
    Path("no-cassette.txt").write_text(error["message"])


def test_e_the_environment_is_the_sessions():
    assert behind_the_proxy()
    assert os.environ["NO_PROXY"] == "localhost"


@pytest.mark.graphtape("send-draft.yaml")
def test_f_trust_env_false_goes_straight_to_the_tenant():
    with httpx.Client(trust_env=False, verify=TENANT_CA, timeout=10) as direct:
        direct.post(TENANT + "/beta/me/messages/AAMkAGRWAAAFSmKXAAA=/send")
'''

WIDER_FIXTURE = COMMON + '''
@pytest.fixture(scope="module")
def called_in_a_module_fixture():  # set up before the test's cassette is on the proxy
    return httpx.post(SEND, timeout=10).status_code if behind_the_proxy() else None


@pytest.mark.graphtape("send-draft.yaml")
def test_y_marked_but_the_call_is_outside_its_cassette(called_in_a_module_fixture):
    assert called_in_a_module_fixture == 403
'''

AT_COLLECTION = COMMON + '''
STATUS = httpx.post(SEND, timeout=10).status_code if behind_the_proxy() else None  # while pytest collects


def test_z_the_call_at_import_was_refused():
    assert STATUS == 403
'''


@pytest.fixture
def cassettes(pytester: pytest.Pytester) -> Path:
    folder = pytester.path / "cassettes"
    folder.mkdir()
    shutil.copy(SEEDS / "send-draft.yaml", folder)
    return folder


def _modules(pytester: pytest.Pytester, tenant: FakeGraph, **sources: str) -> None:
    fill = {"send": SEND, "tenant": tenant.url, "tenant_ca": str(tenant.cert)}
    pytester.makepyfile(**{name: text.format(**fill) for name, text in sources.items()})


def test_session_wide_proxy_fail_closed_calls_and_no_proxy(pytester: pytest.Pytester, cassettes: Path,
                                                           fake_graph: FakeGraph, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NO_PROXY", "graph.microsoft.com,localhost")
    monkeypatch.delenv("no_proxy", raising=False)
    _modules(pytester, fake_graph, test_session=SESSION_TESTS, test_y_fixture=WIDER_FIXTURE,
             test_zz_collect=AT_COLLECTION)
    result = pytester.runpytest_subprocess(f"--graphtape-cassette-dir={cassettes}", "-p", "no:cacheprovider",
                                           "-rf", timeout=120)
    out = result.stdout.str()
    result.assert_outcomes(passed=5, failed=2, errors=1)
    assert result.ret == 1
    assert set(re.findall(r"^FAILED test_session.py::(\w+)", out, re.MULTILINE)) == {
        "test_d_unmarked_graph_call", "test_f_trust_env_false_goes_straight_to_the_tenant"}
    assert result.stderr.str().count(NOTICE) == 1, result.stderr.str()  # said once, on stderr
    message = (pytester.path / "no-cassette.txt").read_text()
    assert message == (f"graphtape: POST {SEND.removeprefix('https://graph.microsoft.com')} came while no cassette "
                       "was in use (test test_session.py::test_d_unmarked_graph_call is not marked graphtape); "
                       "graphtape answers Microsoft Graph only from a cassette and sends nothing to the network. "
                       "Mark the test @pytest.mark.graphtape, or make the call inside a marked test.")
    result.stdout.fnmatch_lines([
        "*_ test_d_unmarked_graph_call _*",
        "graphtape: 1 Microsoft Graph call(s) came while no cassette was in use; each was answered 403 "
        "graphtape.NoCassette and sent nowhere:",
        "  POST /beta/me/messages/AAMkAGRWAAAFSmKXAAA=/send (test test_session.py::test_d_unmarked_graph_call "
        "is not marked graphtape)",
    ])
    result.stdout.fnmatch_lines([
        "*_ ERROR at setup of test_y_marked_but_the_call_is_outside_its_cassette _*",
        "graphtape: 1 Microsoft Graph call(s) came while no cassette was in use; *",
        "  POST /beta/me/messages/AAMkAGRWAAAFSmKXAAA=/send (test test_y_fixture.py::test_y_marked_but_the_call_is_"
        "outside_its_cassette had no cassette in use yet, or no longer: a fixture of wider scope, set up before the "
        "test's cassette or torn down after it)",
    ])
    result.stdout.fnmatch_lines([
        "*_ test_f_trust_env_false_goes_straight_to_the_tenant _*",
        "graphtape: no request reached graphtape's proxy, though the cassette holds 1 interaction(s): the client "
        "likely went around it (NO_PROXY or no_proxy naming a Graph host; trust_env=False (httpx, requests); *",
    ])
    result.stdout.fnmatch_lines([  # a call while no test ran fails the session, in a section of its own
        "*= graphtape: Microsoft Graph calls outside any test =*",
        "  POST /beta/me/messages/AAMkAGRWAAAFSmKXAAA=/send (during collection, before any test: at the import "
        "of a test module or conftest.py)",
    ])
    assert [r.path for r in fake_graph.state.received] == ["/beta/me/messages/AAMkAGRWAAAFSmKXAAA=/send"]  # f's


def test_a_client_built_before_a_late_proxy_fails_the_replay(pytester: pytest.Pytester, cassettes: Path,
                                                             fake_graph: FakeGraph):
    """Nothing configures graphtape on the command line or in the ini: the proxy starts once collection found a
    marked test, after the import of the module; the import-time client calls the tenant directly, and the
    replay that no request reached says so."""
    _modules(pytester, fake_graph, test_late=COMMON + '''
AT_IMPORT = httpx.Client(verify=TENANT_CA, timeout=10)
PROXIED_AT_IMPORT = behind_the_proxy()


@pytest.mark.graphtape("send-draft.yaml")
def test_import_time_client():
    assert not PROXIED_AT_IMPORT and behind_the_proxy()
    AT_IMPORT.post(TENANT + "/beta/me/messages/AAMkAGRWAAAFSmKXAAA=/send")
''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=120)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["graphtape: no request reached graphtape's proxy, though the cassette holds 1 "
                                 "interaction(s): *a client built before the proxy variables were set (at import "
                                 "time, in a session fixture)*"])
    assert len(fake_graph.state.received) == 1


def test_an_unmarked_run_starts_no_proxy_and_changes_nothing(pytester: pytest.Pytester,
                                                              monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NO_PROXY", "graph.microsoft.com")
    monkeypatch.delenv("HTTPS_PROXY", raising=False)
    pytester.makepyfile(test_plain='''
import os, sys

def test_untouched():
    assert "HTTPS_PROXY" not in os.environ and os.environ["NO_PROXY"] == "graph.microsoft.com"
    assert "mitmproxy" not in sys.modules
''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=120)
    result.assert_outcomes(passed=1)
    assert "graphtape: removed" not in result.stderr.str()


def test_an_ini_setting_starts_the_proxy_before_the_modules_are_imported(pytester: pytest.Pytester, cassettes: Path,
                                                                         fake_graph: FakeGraph):
    pytester.makeini("[pytest]\ngraphtape_mode = replay\n")
    _modules(pytester, fake_graph, test_ini=COMMON + '''
AT_IMPORT = httpx.Client(timeout=10)
PROXIED_AT_IMPORT = behind_the_proxy()


@pytest.mark.graphtape("send-draft.yaml")
def test_import_time_client():
    assert PROXIED_AT_IMPORT
    assert AT_IMPORT.post(SEND).status_code == 202
''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "xdist", "-n", "1", timeout=120)
    result.assert_outcomes(passed=1)


def test_started_early_for_no_marked_test_it_stops_and_puts_the_environment_back(pytester: pytest.Pytester,
                                                                                 monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NO_PROXY", "graph.microsoft.com")
    monkeypatch.delenv("HTTPS_PROXY", raising=False)
    pytester.makepyfile(test_plain='''
import os

PROXY_AT_IMPORT = os.environ.get("HTTPS_PROXY", "")


def test_untouched():
    assert PROXY_AT_IMPORT.startswith("http://127.0.0.1:")  # configured: started before the import
    assert "HTTPS_PROXY" not in os.environ and os.environ["NO_PROXY"] == "graph.microsoft.com"
''')
    result = pytester.runpytest_subprocess("--graphtape-mode=replay", "-p", "no:cacheprovider", timeout=120)
    result.assert_outcomes(passed=1)
