"""What the stand-in's mailbox starts with: the Create Message page's example 1 draft (its id
``AAMkAGRWAAAFSmKXAAA=``, subject, body and recipient), so that the docs' calls on that id (send it, reply to it,
attach to it) are answered as Graph answers them. It was created with an immutable id: it keeps that id in Sent
Items once sent."""

from __future__ import annotations

from graphtape.simulate import Simulator
from graphtape.simulate.seeding import seed_message

DOCS_DRAFT_ID = "AAMkAGRWAAAFSmKXAAA="


def docs_draft(sim: Simulator, message_id: str = DOCS_DRAFT_ID) -> None:
    """The docs' example draft in /me's Drafts (``message_id``: another id for a second one)."""
    state = sim.state
    box = state.store.find("me")
    assert box is not None
    resource = {"id": message_id, "subject": "Did you see last night's game?", "importance": "low",
                "body": {"contentType": "html", "content": "They were <b>awesome</b>!"},
                "toRecipients": [{"emailAddress": {"address": "AlexW@contoso.com"}}]}
    with state.lock:
        seed_message(state, box, box.well_known("drafts"), resource, immutable=True)
