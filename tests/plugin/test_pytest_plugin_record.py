"""The pytest plugin recording: ``once`` against a local stand-in for Graph, then offline replay; ``record``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from graphtape.pytest.support import safe_file_name
from graphtape.testing.fakegraph import FakeGraph
from graphtape.testing.tls import make_certificate

pytest_plugins = ["pytester"]

ONCE_TESTS = '''
import httpx
import pytest

MAIL = {"message": {"subject": "Lunch?", "body": {"contentType": "Text", "content": "At noon."},
                    "toRecipients": [{"emailAddress": {"address": "AdeleV@contoso.com"}}]}}


def test_send(graphtape):  # the fixture alone is enough: the default cassette
    r = httpx.post("https://graph.microsoft.com/v1.0/me/sendMail", json=MAIL, headers={"Accept": "application/json"})
    assert r.status_code == 202
    assert graphtape.calls("POST", "/me/sendMail") == 1


@pytest.mark.parametrize("folder", ["inbox/drafts"])
@pytest.mark.graphtape(strict=True)
def test_create(folder, graphtape):
    r = httpx.post("https://graph.microsoft.com/v1.0/me/messages", json=MAIL["message"],
                   headers={"Accept": "application/json"})
    assert r.status_code == 201 and r.json()["subject"] == "Lunch?"
    graphtape.assert_all_played()


@pytest.mark.graphtape
def test_fails_after_a_call():
    r = httpx.post("https://graph.microsoft.com/v1.0/me/sendMail", json=MAIL, headers={"Accept": "application/json"})
    assert r.status_code == 202
    assert False, "the test's own failure"
'''

PYPROJECT = '''
[tool.pytest.ini_options]
graphtape_mode = "once"
graphtape_cassette_dir = "tapes"
'''


@pytest.fixture(scope="module")
def cert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The stand-in's certificate, made before ``pytester`` snapshots sys.modules (module scope comes first):
    the cryptography modules this imports must not be dropped at the end of a pytester test and imported
    anew, or the next mitmproxy in this process signs with hash classes the old binding does not know."""
    folder = tmp_path_factory.mktemp("fakegraph-cert")
    make_certificate(folder)
    return folder


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # Paths as --option=VALUE: pytest takes a separate VALUE that exists on disk into its rootdir search.
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rf", *args, timeout=120)


def _recording_leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.startswith(".") or p.suffix == ".journal"]  # journals folded


def test_once_records_what_is_missing_then_replays_offline(pytester: pytest.Pytester, cert_dir: Path):
    pytester.makepyfile(test_once=ONCE_TESTS)
    (pytester.path / "pyproject.toml").write_text(PYPROJECT)
    tapes = pytester.path / "tapes" / "test_once"
    send, fails = tapes / "test_send.yaml", tapes / "test_fails_after_a_call.yaml"
    create = tapes / f"{safe_file_name('test_create[inbox/drafts]')}.yaml"
    assert create.name.startswith("test_create[inbox_drafts]-")

    with FakeGraph(cert_dir) as fake:
        first = _run(pytester, f"--graphtape-upstream={fake.url}", f"--graphtape-upstream-ca={fake.cert}")
        first.assert_outcomes(passed=2, failed=1)
        assert [r.path for r in fake.state.received] == ["/v1.0/me/sendMail", "/v1.0/me/messages",
                                                         "/v1.0/me/sendMail"]
    assert send.is_file() and create.is_file()
    assert "/v1.0/me/sendMail" in send.read_text() and "Lunch?" in create.read_text()
    assert not fails.exists()  # the failing test's recording was thrown away ...
    assert _recording_leftovers(pytester.path / "tapes") == []  # ... with no half-written file beside it
    first.stdout.fnmatch_lines(["*AssertionError: the test's own failure*"])

    # The stand-in is gone; the ini says once, the command line says replay: offline, from the recordings.
    again = _run(pytester, "--graphtape-mode=replay")
    again.assert_outcomes(passed=2, failed=1)
    assert re.findall(r"^FAILED test_once.py::(\S+)", again.stdout.str(), re.MULTILINE) == [
        "test_fails_after_a_call"]
    again.stdout.fnmatch_lines([f"*graphtape: no cassette {fails} for test_once.py::test_fails_after_a_call; "
                                "replay is offline and needs one. Record it: pytest --graphtape-mode=once*"])


def test_record_replaces_a_cassette_only_when_the_test_passes(pytester: pytest.Pytester, cert_dir: Path):
    pytester.makepyfile(test_once=ONCE_TESTS)
    tapes = pytester.path / "cassettes" / "test_once"
    tapes.mkdir(parents=True)
    send, fails = tapes / "test_send.yaml", tapes / "test_fails_after_a_call.yaml"
    send.write_text("an old recording\n")
    fails.write_text("an old recording\n")
    with FakeGraph(cert_dir) as fake:
        result = _run(pytester, "--graphtape-mode=record", f"--graphtape-upstream={fake.url}",
                      f"--graphtape-upstream-ca={fake.cert}", "-k", "test_send or test_fails")
        result.assert_outcomes(passed=1, failed=1)
        assert len(fake.state.received) == 2
    assert "/v1.0/me/sendMail" in send.read_text()  # re-recorded
    assert fails.read_text() == "an old recording\n"  # the failing test left the old cassette alone
    assert _recording_leftovers(tapes) == []
