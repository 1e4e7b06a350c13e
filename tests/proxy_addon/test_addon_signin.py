"""Sign-in in the addon, in-process: replay answers it (also for a pseudonymized cassette, in the client's own
terms), the option turns it off and on while replay runs, and record sends it to the upstream only when asked."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

from mitmproxy.test import tflow

from graphtape.model import Outcome
from graphtape.signin.tokens import jwt_claims
from graphtape.signin.urls import tenant_id

from .addon_support import graph_flow, graph_response, running_addon, send

LOGIN = "https://login.microsoftonline.com"
TENANT = "alice-corp.onmicrosoft.com"
APP = "5b6f2c1e-8a3d-4e7f-9c0b-1d2e3f4a5b6c"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _token_flow(**extra: str):
    body = urlencode({"grant_type": "refresh_token", "client_id": APP, "refresh_token": "from-config",
                      "scope": "Mail.Send openid offline_access", "client_info": "1", **extra})
    return graph_flow("POST", f"{LOGIN}/{TENANT}/oauth2/v2.0/token", body,
                      {"Host": "login.microsoftonline.com", **FORM})


def _pseudonymized_cassette(tmp_path: Path) -> Path:
    path = tmp_path / "p.yaml"
    with running_addon(graphtape_mode="record", graphtape_cassette=str(path), graphtape_pseudonymize=True) as (rec, _):
        send(rec, graph_flow("GET", "/users/alice.smith@alice-corp.onmicrosoft.com/messages"),
             upstream=tflow.tresp(status_code=200, content=b'{"value": []}'))
        rec.done()
    assert "alice" not in path.read_text()
    return path


def test_sign_in_is_answered_in_the_clients_own_terms_for_a_pseudonymized_cassette(tmp_path: Path) -> None:
    cassette = _pseudonymized_cassette(tmp_path)
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(cassette)) as (addon, _):
        config = send(addon, graph_flow("GET", f"{LOGIN}/{TENANT}/v2.0/.well-known/openid-configuration"))
        token = send(addon, _token_flow())
    assert config.response is not None and token.response is not None
    doc = json.loads(config.response.content or b"")
    assert doc["token_endpoint"] == f"{LOGIN}/{tenant_id(TENANT)}/oauth2/v2.0/token"
    answer = json.loads(token.response.content or b"")
    claims = jwt_claims(answer["id_token"])
    assert claims is not None and claims["aud"] == APP and claims["tid"] == tenant_id(TENANT)
    assert [e.outcome for e in addon.session.exchanges] == [Outcome.SIGNED_IN, Outcome.SIGNED_IN]


def test_the_option_turns_sign_in_off_and_on_while_replay_runs(tmp_path: Path) -> None:
    cassette = _pseudonymized_cassette(tmp_path)
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(cassette)) as (addon, tctx):
        tctx.configure(addon, graphtape_signin=False)
        off = send(addon, _token_flow())
        tctx.configure(addon, graphtape_signin=True)
        on = send(addon, _token_flow())
    assert off.response is not None and off.response.status_code == 404
    assert on.response is not None and on.response.status_code == 200
    assert [e.outcome for e in addon.session.exchanges] == [Outcome.UNMATCHED, Outcome.SIGNED_IN]


def test_record_sends_sign_in_to_the_upstream_only_with_upstream_signin(tmp_path: Path) -> None:
    for signin, expected_host in ((False, "login.microsoftonline.com"), (True, "127.0.0.1")):
        cassette = tmp_path / f"r{signin}.yaml"
        with running_addon(graphtape_mode="record", graphtape_cassette=str(cassette),
                           graphtape_upstream="https://127.0.0.1:8443",
                           graphtape_upstream_signin=signin) as (addon, _):
            flow = send(addon, _token_flow(), upstream=graph_response(200, {"token_type": "Bearer"}))
            addon.done()
        assert flow.request.host == expected_host
        assert flow.request.host_header == "login.microsoftonline.com"  # the stand-in answers for the host asked
        assert addon.session.exchanges == []  # never recorded, never counted
        assert "login" not in cassette.read_text()
