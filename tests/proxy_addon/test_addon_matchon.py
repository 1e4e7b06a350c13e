"""match_on in the addon, in-process: ``graphtape_match_on`` as mitmproxy sets it (``mitmdump --set``), changed in a
running replay (the interactions served so far stay served), and refused when misspelt."""

from __future__ import annotations

from pathlib import Path

import pytest
from mitmproxy import exceptions

from .addon_support import SEND_MAIL, graph_error_code, graph_flow, interaction, running_addon, send, write_cassette


@pytest.fixture
def cassette(tmp_path: Path) -> Path:
    return write_cassette(tmp_path / "c.yaml", interaction("POST", "/me/sendMail", 202, req_body=SEND_MAIL),
                          interaction("POST", "/me/sendMail", 202, req_body=SEND_MAIL))


def _changed() -> dict[str, object]:
    return {"message": {**SEND_MAIL["message"], "subject": "changed"}}


def test_match_on_body_refuses_then_a_change_of_the_option_serves(cassette: Path) -> None:
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(cassette),
                       graphtape_match_on="method,url,body") as (addon, tctx):
        refused = send(addon, graph_flow("POST", "/me/sendMail", _changed()))
        assert refused.response is not None and refused.response.status_code == 404
        assert graph_error_code(refused) == "graphtape.UnmatchedRequest"
        assert "body differs: body.message.subject: 'hi' -> 'changed'" in (refused.response.text or "")
        same = send(addon, graph_flow("POST", "/me/sendMail", SEND_MAIL))
        assert same.response is not None and same.response.status_code == 202
        tctx.configure(addon, graphtape_match_on="method,url")
        served = send(addon, graph_flow("POST", "/me/sendMail", _changed()))
        assert served.response is not None and served.response.status_code == 202
        again = send(addon, graph_flow("POST", "/me/sendMail", SEND_MAIL))
        assert again.response is not None and again.response.status_code == 410  # both were served
        assert [e.interaction for e in addon.session.exchanges] == [None, 0, 1, None]


def test_a_misspelt_match_on_option_is_refused(cassette: Path) -> None:
    refused = pytest.raises(exceptions.OptionsError,
                            match=r"graphtape_match_on: unknown match_on item 'mehtod'; did you mean 'method'\?")
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(cassette)) as (addon, tctx), refused:
        tctx.configure(addon, graphtape_match_on="mehtod,url")
