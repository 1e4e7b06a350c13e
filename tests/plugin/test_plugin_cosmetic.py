"""The marker's fail_on= and strict= with cosmetic deviations, in pytester: strict and "deviation" let a request
that differs only cosmetically pass; fail_on naming "cosmetic" fails the test and says how many."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from conftest import SEEDS

pytest_plugins = ["pytester"]
REPO = Path(__file__).resolve().parents[2]

TESTS = '''
import httpx
import pytest

DRAFTS = "https://graph.microsoft.com/beta/me/messages"
BODY = {"@odata.type": "#microsoft.graph.message", "subject": "Did you see last night's game?", "importance": "Low",
        "body": {"contentType": "HTML", "content": "They were <b>awesome</b>!"},
        "toRecipients": [{"emailAddress": {"address": "AdeleV@contoso.com"}}]}


def _draft():
    r = httpx.post(DRAFTS, json=BODY, headers={"Accept": "application/json", "Accept-Language": "en-US"})
    assert r.status_code == 201


@pytest.mark.graphtape("create-draft-json.yaml", strict=True)
def test_strict_passes(graphtape):
    _draft()
    assert [d.cosmetic for d in graphtape.deviations] == ["header Accept-Language", "enum case", "enum case"]


@pytest.mark.graphtape("create-draft-json.yaml", fail_on="unmatched,violation,deviation,cosmetic")
def test_cosmetic_counts():
    _draft()
'''


def test_marker_fail_on_cosmetic(pytester: pytest.Pytester, monkeypatch) -> None:
    for key in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    seeds = pytester.path / "seeds"
    shutil.copytree(SEEDS, seeds)
    pytester.makepyfile(test_mail=TESTS)
    result = pytester.runpytest_subprocess(f"--graphtape-cassette-dir={seeds}", "-p", "no:cacheprovider", "-rf",
                                           timeout=120)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*_ test_cosmetic_counts _*",
        "graphtape: 3 cosmetic deviation(s) from the recording (replay of *create-draft-json.yaml)",
        "  #1 POST /beta/me/messages: deviation header.Accept-Language: added 'en-US' "
        "(cosmetic: header Accept-Language)",
    ])
