"""Each request is parsed once (issue 12): a replayed request's JSON body is parsed once and its base64 MIME body
decoded once and read once (each header block parsed by email once), though validation, matching and diffing all
read them; a recorded request once per interaction, however many requests it answers. Counted at the standard
library (json.loads, binascii.a2b_base64, email's FeedParser.close or graphtape's plain_block in its place), so a
parse that goes around the request's view counts too."""

from __future__ import annotations

import base64
import binascii
import email.feedparser
import json
from collections import Counter
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from graphtape import graph
from graphtape.bodies import mime
from graphtape.cassette.format import load_cassette
from graphtape.contract import validate_request
from graphtape.diffing.ignore import DEFAULT_IGNORE
from graphtape.model import HttpRequest, HttpResponse, Interaction, Mode, Outcome
from graphtape.proxy.pipeline import enforce, validate
from graphtape.replay.pipeline import Replayer
from graphtape.scope import Scope
from graphtape.session.exchanges import Exchange, Session

from .addon_support import GRAPH, graph_flow, running_addon, send, write_cassette


def mime_body(subject: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Alex Wilber <AlexW@contoso.com>"
    msg["To"] = "Megan Bowen <MeganB@contoso.com>"
    msg["Subject"] = subject
    msg.set_content("The figures are in the next mail.\n")  # 7bit text: no base64 inside the message
    return base64.encodebytes(msg.as_bytes())


def multipart_body(subject: str) -> bytes:
    """A message of three entities (multipart/mixed: a text part and a base64 attachment)."""
    msg = EmailMessage()
    msg["To"] = "Megan Bowen <MeganB@contoso.com>"
    msg["Subject"] = subject
    msg.set_content("The figures are attached.\n")
    msg.add_attachment(bytes(range(256)) * 40, maintype="application", subtype="pdf", filename="figures.pdf")
    return base64.encodebytes(msg.as_bytes())


def json_body(subject: str) -> bytes:
    return json.dumps({"subject": subject, "toRecipients": [{"emailAddress": {"address": "MeganB@contoso.com"}}]},
                      separators=(",", ":")).encode()


def json_request(subject: str) -> HttpRequest:
    return HttpRequest("POST", f"{GRAPH}/me/messages", [("Content-Type", "application/json")], json_body(subject))


def mime_request(subject: str) -> HttpRequest:
    return HttpRequest("POST", f"{GRAPH}/me/sendMail", [("Content-Type", "text/plain")], mime_body(subject))


def recorded() -> list[Interaction]:
    created = HttpResponse(201, "Created", [("Content-Type", "application/json")], b'{"id":"AAMk1="}')
    return [Interaction(json_request("recorded"), created), Interaction(mime_request("recorded"), HttpResponse(202))]


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """How many times json.loads and binascii.a2b_base64 ran, by anyone, the email package parsed something (a
    message or a header block), and graphtape split a URL (graph's urlsplit), since the fixture started."""
    counts: Counter[str] = Counter()
    loads, a2b, split, close = json.loads, binascii.a2b_base64, graph.urlsplit, email.feedparser.FeedParser.close

    def counted_loads(*args: Any, **kwargs: Any) -> Any:
        counts["json"] += 1
        return loads(*args, **kwargs)

    def counted_a2b(*args: Any, **kwargs: Any) -> bytes:
        counts["base64"] += 1
        return a2b(*args, **kwargs)

    def counted_split(*args: Any, **kwargs: Any) -> Any:
        counts["url"] += 1
        return split(*args, **kwargs)

    def counted_close(self: email.feedparser.FeedParser) -> Any:
        counts["mime"] += 1
        return close(self)

    plain = mime.plain_block

    def counted_plain(block: bytes, policy: Any) -> Any:  # email's parse of a plain block, made without FeedParser
        made = plain(block, policy)
        counts["mime"] += made is not None
        return made

    validate_request(json_request("warm-up"))  # the contract's own files load once, on first use: not counted
    monkeypatch.setattr(email.feedparser.FeedParser, "close", counted_close)
    monkeypatch.setattr(mime, "plain_block", counted_plain)
    monkeypatch.setattr(json, "loads", counted_loads)
    monkeypatch.setattr(graph, "urlsplit", counted_split)
    monkeypatch.setattr(binascii, "a2b_base64", counted_a2b)
    yield counts


def staged(replayer: Replayer) -> Callable[[HttpRequest], Exchange]:
    """The proxy pipeline's stages after the parse, as the addon runs them in replay."""
    scope = Scope.from_interactions(replayer.interactions)

    def replay(req: HttpRequest) -> Exchange:
        findings = validate(req, scope)
        assert enforce(req, findings, enforcing=True) is None
        return replayer.handle(req, findings)[0]
    return replay


def test_the_replayer_parses_each_request_once_and_each_recording_once(parses: Counter[str]) -> None:
    session = Session(mode=Mode.REPLAY, cassette="c.yaml")
    replayer = Replayer("c.yaml", recorded(), session, allow_repeats=True, rules=DEFAULT_IGNORE)
    replay = staged(replayer)

    assert (parses["json"], parses["base64"], parses["url"]) == (1, 1, 2)  # the recordings, once each, to index them
    assert parses["mime"] == 0  # indexing decodes a MIME body; nothing reads its message yet
    for n in range(1, 3):  # the second pair is served the same recordings again: they are not parsed again
        ex = replay(json_request(f"live {n}"))
        assert ex.outcome == Outcome.MATCHED and ex.deviations and not ex.errors  # validated, matched and diffed
        assert (parses["json"], parses["base64"], parses["url"]) == (1 + n, n, 2 * n + 1)
        ex = replay(mime_request(f"live {n}"))
        assert ex.outcome == Outcome.MATCHED and ex.deviations and not ex.errors
        assert (parses["json"], parses["base64"], parses["url"]) == (1 + n, 1 + n, 2 * n + 2)
        assert parses["mime"] == 1 + n  # the live message once (one header block), the recorded one on first diff


def test_a_multipart_message_is_read_once_through_validation_matching_and_diffing(parses: Counter[str]) -> None:
    def request(subject: str) -> HttpRequest:
        return HttpRequest("POST", f"{GRAPH}/me/sendMail", [("Content-Type", "text/plain")], multipart_body(subject))

    session = Session(mode=Mode.REPLAY, cassette="c.yaml")
    replay = staged(Replayer("c.yaml", [Interaction(request("recorded"), HttpResponse(202))], session,
                             allow_repeats=True, rules=DEFAULT_IGNORE))
    parses.clear()
    for n in range(1, 3):
        ex = replay(request(f"live {n}"))
        assert ex.outcome == Outcome.MATCHED and not ex.errors and not ex.warnings
        assert [d.path for d in ex.deviations] == ["mime.header.Subject"]  # validated and diffed part by part
        # Three header blocks a message (the message, its text part, its attachment), each parsed once: the live
        # message's by the contract check (matching and diffing read the same), the recorded one's on the first diff.
        assert parses["mime"] == 3 * (n + 1)
        assert parses["base64"] == n  # each live body decoded once (the recording was, to index it); the attachments,
        # equal, not at all


def test_the_addon_in_replay_parses_each_request_once(tmp_path: Path, parses: Counter[str]) -> None:
    cassette = write_cassette(tmp_path / "c.yaml", *recorded())
    load_cassette(cassette)  # what loading the file costs (YAML bodies) is not the question here
    with running_addon(graphtape_mode="replay", graphtape_cassette=str(cassette),
                       graphtape_allow_repeats=True) as (addon, _):
        parses.clear()  # loaded and indexed: from here on, only the requests
        for n in range(1, 3):
            flow = send(addon, graph_flow("POST", "/me/messages", json_body(f"live {n}"),
                                          {"Content-Type": "application/json"}))
            assert flow.response is not None and flow.response.status_code == 201
            # the URL: the scope check's parse, which the request's view keeps, and the log line's short path
            assert (parses["json"], parses["base64"], parses["url"]) == (n, n - 1, 4 * n - 2)
            flow = send(addon, graph_flow("POST", "/me/sendMail", mime_body(f"live {n}"),
                                          {"Content-Type": "text/plain"}))
            assert flow.response is not None and flow.response.status_code == 202
            assert (parses["json"], parses["base64"], parses["url"]) == (n, n, 4 * n)
        assert [ex.outcome for ex in addon.session.exchanges] == [Outcome.MATCHED] * 4
        assert all(ex.deviations for ex in addon.session.exchanges)  # each was diffed against its recording
