"""The pytest plugin replays with sign-in answered offline: a test whose app signs in with azure-identity's
ClientSecretCredential, unchanged, passes against a cassette that holds only its Graph call."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from conftest import SEEDS

pytest_plugins = ["pytester"]
REPO = Path(__file__).resolve().parents[2]

SIGNIN_TEST = '''
import asyncio

import pytest


async def create_draft(client):
    from msgraph.generated.models.body_type import BodyType
    from msgraph.generated.models.email_address import EmailAddress
    from msgraph.generated.models.importance import Importance
    from msgraph.generated.models.item_body import ItemBody
    from msgraph.generated.models.message import Message
    from msgraph.generated.models.recipient import Recipient

    draft = await client.me.messages.post(Message(
        subject="Did you see last night's game?", importance=Importance.Low,
        body=ItemBody(content_type=BodyType.Html, content="They were <b>awesome</b>!"),
        to_recipients=[Recipient(email_address=EmailAddress(address="AdeleV@contoso.com"))]))
    return draft.id


def production_client():
    """What the app builds at start-up from its configuration: nothing here knows graphtape."""
    from azure.identity import ClientSecretCredential
    from msgraph import GraphServiceClient

    credential = ClientSecretCredential("contoso.onmicrosoft.com", "5b6f2c1e-8a3d-4e7f-9c0b-1d2e3f4a5b6c",
                                        "-".join(["app", "secret"]))
    client = GraphServiceClient(credentials=credential, scopes=["https://graph.microsoft.com/.default"])
    client.request_adapter.base_url = "https://graph.microsoft.com/beta"
    return client


@pytest.mark.graphtape("create-draft-json.yaml")
def test_app_signs_in_and_replays(graphtape):
    assert asyncio.run(create_draft(production_client())) == "AAMkAGRWAAAFSmKXAAA="
    assert [ex.outcome for ex in graphtape.requests] == ["signed-in", "signed-in", "matched"]
    graphtape.assert_all_played()
'''


def test_plugin_answers_sign_in_offline(pytester: pytest.Pytester, monkeypatch):
    for key in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE",
                "CURL_CA_BUNDLE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    pytester.makepyfile(test_signin_app=SIGNIN_TEST)
    shutil.copytree(SEEDS, pytester.path / "seeds")
    result = pytester.runpytest_subprocess(f"--graphtape-cassette-dir={pytester.path / 'seeds'}",
                                           "-p", "no:cacheprovider", "-rf", timeout=120)
    result.assert_outcomes(passed=1)
