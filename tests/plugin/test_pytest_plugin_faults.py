"""The plugin's faults: ``@pytest.mark.graphtape(faults=...)`` (a file beside the test module, or a dict), the
``graphtape.faults`` fixture attribute, and each fault as a property of the test case in pytest's JUnit XML."""

from __future__ import annotations

import os
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import SEEDS

pytest_plugins = ["pytester"]
REPO = Path(__file__).resolve().parents[2]

FAULT_TESTS = '''
import asyncio

import httpx
import pytest

DRAFTS = "https://graph.microsoft.com/beta/me/messages"


async def create_draft():
    from msgraph.generated.models.email_address import EmailAddress
    from msgraph.generated.models.message import Message
    from msgraph.generated.models.recipient import Recipient
    from dev.scenario import make_client

    client = make_client(base_url="https://graph.microsoft.com/beta")
    draft = await client.me.messages.post(Message(subject="Did you see last night's game?",
        to_recipients=[Recipient(email_address=EmailAddress(address="AdeleV@contoso.com"))]))
    return draft.id


@pytest.mark.graphtape("create-draft-json.yaml", faults="faults.yaml")
def test_sdk_waits_out_the_scripted_429(graphtape):
    assert asyncio.run(create_draft()) == "AAMkAGRWAAAFSmKXAAA="
    (fault,) = graphtape.faults
    assert (fault.source, fault.status, fault.retry_after, fault.exchange) == ("script 1", 429, 1.0, 1)
    assert fault.retried_after_s >= 1.0 and not fault.retried_too_soon
    assert [ex.outcome for ex in graphtape.requests] == ["faulted", "matched"]


@pytest.mark.graphtape("create-draft-json.yaml",
                       faults={"scripts": [{"endpoint": "/me/messages", "status": 500, "times": 1}]})
def test_inline_faults(graphtape):
    with httpx.Client(proxy=graphtape.url, verify=str(graphtape.ca)) as c:
        first = c.post(DRAFTS, json={"subject": "x"})
        second = c.post(DRAFTS, json={"subject": "x"})
    assert (first.status_code, first.json()["error"]["code"], second.status_code) == (
        500, "ErrorInternalServerError", 201)
    assert graphtape.faults[0].reaction(2).startswith("retried after")


@pytest.mark.graphtape("create-draft-json.yaml")
def test_no_faults_after_a_faulted_test(graphtape):
    assert asyncio.run(create_draft()) == "AAMkAGRWAAAFSmKXAAA="
    assert graphtape.faults == []


@pytest.mark.graphtape("create-draft-json.yaml", faults="scripts: [{endpoint: /me/messages, stauts: 429}]")
def test_a_bad_faults_file():
    pass
'''


def test_marker_faults_the_fixture_and_junit(pytester: pytest.Pytester, monkeypatch) -> None:
    seeds = pytester.path / "seeds"
    shutil.copytree(SEEDS, seeds)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    pytester.makepyfile(test_faulted=FAULT_TESTS)
    (pytester.path / "faults.yaml").write_text(
        "scripts:\n  - {method: POST, endpoint: /me/messages, nth: 1, status: 429, retry_after: 1}\n")
    junit = pytester.path / "junit.xml"
    result = pytester.runpytest_subprocess(f"--graphtape-cassette-dir={seeds}", f"--junitxml={junit}",
                                           "-p", "no:cacheprovider", "-rf", timeout=120)
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["*the inline faults: scripts*: unknown key 'stauts'; did you mean 'status'?*",
                                 "FAILED test_faulted.py::test_a_bad_faults_file*"])
    cases = {c.get("name"): c for c in ET.parse(junit).getroot().iter("testcase")}
    props = [(p.get("name"), p.get("value", "")) for p in cases["test_sdk_waits_out_the_scripted_429"].iter("property")]
    assert props[0][0] == "graphtape.fault" and "429 Retry-After 1; retried after 1." in props[0][1]
    assert props[1][0] == "graphtape.faults_seed"
    assert not list(cases["test_no_faults_after_a_faulted_test"].iter("property"))
