"""The pytest plugin's simulate mode, run by pytester in a subprocess with the real in-process proxy.

``@pytest.mark.graphtape(simulate=True)`` gives a test a fresh simulated mailbox (``seed=`` beside the test file,
``fresh=False`` to go on with the last one), ``graphtape.mailbox("me")`` shows it; ``--graphtape-mode=simulate``
simulates every marked test, its cassette not needed; a call the simulator does not answer fails the test.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]
REPO = Path(__file__).resolve().parents[2]

SIMULATED_TESTS = '''
import httpx
import pytest

GRAPH = "https://graph.microsoft.com/v1.0"
AUTH = {"Authorization": "Bearer test"}


def send(subject):
    with httpx.Client(timeout=30) as http:  # HTTPS_PROXY and the CA bundle come from the plugin
        return http.post(f"{GRAPH}/me/sendMail", headers=AUTH, json={
            "message": {"subject": subject, "toRecipients": [{"emailAddress": {"address": "megan@contoso.com"}}]},
            "saveToSentItems": True})


@pytest.mark.graphtape(simulate=True)
def test_send_lands_in_sent_items(graphtape):
    assert send("Hello from a simulated test").status_code == 202
    assert [m["subject"] for m in graphtape.mailbox("me").sent_items] == ["Hello from a simulated test"]
    assert [ex.outcome for ex in graphtape.requests] == ["simulated"]
    state = graphtape.dump()
    (me,) = [box for box in state["mailboxes"] if box["id"] == state["me"]]
    assert [m["resource"]["subject"] for m in me["messages"]] == ["Hello from a simulated test"]
    with pytest.raises(KeyError, match="has no mailbox 'nobody@contoso.com'"):
        graphtape.mailbox("nobody@contoso.com")


@pytest.mark.graphtape(simulate=True)
def test_each_test_starts_fresh(graphtape):
    assert graphtape.mailbox("me").sent_items == []
    assert send("Second").status_code == 202


@pytest.mark.graphtape(simulate=True, fresh=False)
def test_fresh_false_keeps_the_last_mailboxes(graphtape):
    assert [m["subject"] for m in graphtape.mailbox("me").sent_items] == ["Second"]


@pytest.mark.graphtape(simulate=True, seed="mail.yaml")
def test_seeded_from_a_fixture_beside_the_test(graphtape):
    with httpx.Client(timeout=30) as http:
        r = http.get(f"{GRAPH}/me/mailFolders/inbox/messages", headers=AUTH)
    assert r.status_code == 200, r.text
    assert [m["subject"] for m in r.json()["value"]] == ["Welcome aboard"]
    assert [m["subject"] for m in graphtape.mailbox("me").inbox] == ["Welcome aboard"]


@pytest.mark.graphtape(simulate=True)
def test_not_simulated_fails(graphtape):
    with httpx.Client(timeout=30) as http:
        assert http.get(f"{GRAPH}/me/onenote/notebooks", headers=AUTH).status_code == 501


@pytest.mark.graphtape(simulate=True, seed="missing.yaml")
def test_missing_seed_fails(graphtape):
    pass


@pytest.mark.graphtape
def test_a_cassette_test_in_simulate_mode(graphtape):
    assert send("No cassette needed").status_code == 202
    assert len(graphtape.mailbox("me").sent_items) == 1
'''

SEED = '''
graphtape_seed: 1
me: alex@contoso.com
mailboxes:
- user_principal_name: alex@contoso.com
  display_name: Alex Wilber
  messages:
  - folder: inbox
    subject: Welcome aboard
    from: Megan Bowen <megan@contoso.com>
    body: Glad to have you.
    isRead: false
'''


@pytest.fixture
def isolated(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    for key in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE",
                "CURL_CA_BUNDLE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    pytester.makepyfile(test_simulated=SIMULATED_TESTS)
    (pytester.path / "mail.yaml").write_text(SEED)
    return pytester


def test_marked_tests_get_a_simulated_mailbox_each(isolated: pytest.Pytester):
    result = isolated.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly", "-rf",
                                           "-k", "not cassette_test", timeout=180)
    result.assert_outcomes(passed=4, failed=2)
    result.stdout.fnmatch_lines([
        "*_ test_not_simulated_fails _*",
        "graphtape: 1 unmatched request(s) (simulate of the default mailbox)",
        "  #1 GET /v1.0/me/onenote/notebooks: unmatched - graphtape.NotSimulated: *",
        "*_ test_missing_seed_fails _*",
        "graphtape: no seed file */missing.yaml for test_simulated.py::test_missing_seed_fails (seed= is relative "
        "to the test file)"])


def test_graphtape_mode_simulate_simulates_every_marked_test(isolated: pytest.Pytester):
    result = isolated.runpytest_subprocess("--graphtape-mode=simulate", "-p", "no:cacheprovider", "-p",
                                           "no:randomly", "-rf", "-k", "cassette_test or lands", timeout=180)
    result.assert_outcomes(passed=2)
    assert not (isolated.path / "cassettes").exists()  # nothing recorded, nothing read
