"""Sign-in in the addon, in-process: replay answers it offline in the pipeline's "offline answers" stage (counted
apart, no interaction used; a malformed one gets Entra's error; also for a pseudonymized cassette, in the client's
own terms), the option turns it off and on while replay runs, and record sends it to the upstream only when asked."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

from mitmproxy.test import tflow

from graphtape.model import FailOn, HttpRequest, HttpResponse, Interaction, Outcome
from graphtape.session.report import session_report
from graphtape.session.verdict import failures
from graphtape.signin.tokens import jwt_claims
from graphtape.signin.urls import tenant_id

from .addon_support import SEND_MAIL, graph_flow, graph_response, running_addon, send, write_cassette

LOGIN = "https://login.microsoftonline.com"
TENANT = "alice-corp.onmicrosoft.com"
APP = "5b6f2c1e-8a3d-4e7f-9c0b-1d2e3f4a5b6c"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _token_flow(**extra: str):
    body = urlencode({"grant_type": "refresh_token", "client_id": APP, "refresh_token": "from-config",
                      "scope": "Mail.Send openid offline_access", "client_info": "1", **extra})
    return graph_flow("POST", f"{LOGIN}/{TENANT}/oauth2/v2.0/token", body,
                      {"Host": "login.microsoftonline.com", **FORM})


US_TOKEN = "https://login.microsoftonline.us/contoso.onmicrosoft.com/oauth2/v2.0/token"
GOOD = urlencode({"grant_type": "client_credentials", "client_id": "app", "client_secret": "-".join("xy"),
                  "scope": "https://graph.microsoft.us/.default"})


def _send_mail_cassette(tmp_path: Path) -> Path:
    send_mail = HttpRequest("POST", "https://graph.microsoft.com/v1.0/me/sendMail",
                            [("Content-Type", "application/json")], json.dumps(SEND_MAIL).encode())
    return write_cassette(tmp_path / "c.yaml", Interaction(send_mail, HttpResponse(202, "Accepted")))


def test_sign_in_is_answered_offline_and_counted_apart(tmp_path: Path) -> None:
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(_send_mail_cassette(tmp_path))) as (addon, _):
        token = send(addon, graph_flow("POST", US_TOKEN, GOOD, FORM))
        mail = send(addon, graph_flow("POST", "/me/sendMail", SEND_MAIL))
        session = addon.current_session()
    assert token.response is not None and token.response.status_code == 200
    assert json.loads(token.response.content or b"")["token_type"] == "Bearer"
    assert mail.response is not None and mail.response.status_code == 202  # the interaction is still there
    ex = session.exchanges[0]
    assert (ex.outcome, ex.status, ex.interaction, ex.note) == (Outcome.SIGNED_IN, 200, None, "")
    assert session.exchanges[1].outcome == Outcome.MATCHED
    assert session.unused == [] and failures(session, set(FailOn)) == []
    assert "  sign-in calls answered offline 1 (graphtape's fake tokens, not recorded)" in session.summary_lines()
    assert session_report(session)["summary"]["signed_in_offline"] == 1


def test_a_malformed_sign_in_gets_entras_error_and_says_why(tmp_path: Path) -> None:
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(_send_mail_cassette(tmp_path))) as (addon, _):
        flow = send(addon, graph_flow("POST", US_TOKEN, "grant_type=client_credentials", FORM))
    assert flow.response is not None and flow.response.status_code == 400
    assert json.loads(flow.response.content or b"")["error_codes"] == [900144]
    ex = addon.session.exchanges[0]
    assert ex.outcome == Outcome.SIGNED_IN and "AADSTS900144" in ex.note and "'client_id'" in ex.note


def test_without_offline_sign_in_it_is_unmatched_as_any_host_outside_graph(tmp_path: Path) -> None:
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(_send_mail_cassette(tmp_path)),
                       graphtape_signin=False) as (addon, _):
        flow = send(addon, graph_flow("POST", US_TOKEN, GOOD, FORM))
    assert flow.response is not None and flow.response.status_code == 404
    assert json.loads(flow.response.content or b"")["error"]["code"] == "graphtape.UnmatchedRequest"
    assert addon.session.exchanges[0].outcome == Outcome.UNMATCHED
    assert not any("sign-in" in line for line in addon.session.summary_lines())


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
