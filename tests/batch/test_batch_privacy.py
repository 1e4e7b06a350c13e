"""Stored decoded, a batch's MIME items are seen by the privacy passes like any MIME body."""

from __future__ import annotations

import base64
import json

from graphtape.cassette.format import interaction_to_data
from graphtape.model import HttpResponse, Interaction
from graphtape.privacy.pseudonymize import Pseudonymizer
from graphtape.privacy.redaction import find_secrets

from .batches import batch_request, draft, send_mime


def test_pseudonymize_rewrites_addresses_inside_a_mime_item_and_keeps_it_base64() -> None:
    out = Pseudonymizer.new().request(batch_request(draft("1"), send_mime("2")))
    items = json.loads(out.body)["requests"]
    message = base64.b64decode(items[1]["body"], validate=True).decode()
    assert "megan@contoso.com" not in message and "alex@contoso.com" not in message
    assert items[0]["body"]["toRecipients"][0]["emailAddress"]["address"] in message  # the same fake, consistently


def test_a_bearer_token_in_a_mime_item_is_found_before_writing() -> None:
    token = "Bearer " + "x" * 40
    req = batch_request(send_mime("1", subject=token))
    hits = find_secrets(interaction_to_data(Interaction(req, HttpResponse(200))))
    assert [h.kind for h in hits] == ["bearer token"]
