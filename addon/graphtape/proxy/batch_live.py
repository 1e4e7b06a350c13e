"""Enforce on a live call (record, inspect with ``--policy enforce``), batch-aware (``contract.batch_enforce``).

A request the contract refuses whole is answered with Graph's error and not sent, as before. A ``$batch`` whose
errors are all its items' own is sent without the refused items (and their dependants); when Graph answers,
their errors are spliced into its answer, so the client gets one answer per item it sent, and the cassette
records the batch as the client sent it with the answer as the client got it. A batch whose every item is
refused is not sent (answered 200 with the refused items): the pipeline's enforce stage (``enforce_request``) answers
the requests refused whole and the batches refused item by item; this module sends on the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from mitmproxy import http

from graphtape.contract.batch_enforce import Refusal, refuse_items, splice_answers
from graphtape.model import Finding, HttpRequest

logger = logging.getLogger("graphtape")


def send_without_refused(flow: http.HTTPFlow, req: HttpRequest, findings: Sequence[Finding], *,
                         enforcing: bool) -> Refusal | None:
    """A request the pipeline's enforce stage let go on: a ``$batch`` with refused items (enforcing) is rewritten
    without them, and their refusal returned, for ``splice_live``; None: it goes as the client sent it."""
    refusal = refuse_items(req, findings) if enforcing and any(f.severity == "error" for f in findings) else None
    if refusal is None or refusal.forward is None:  # (refused whole, or every item: the enforce stage answered it)
        return None
    flow.request.content = refusal.forward  # Content-Length follows
    return refusal


def splice_live(flow: http.HTTPFlow, refusal: Refusal | None) -> None:
    """Put the refused items' errors into the answer of a batch ``send_without_refused`` sent without them."""
    if refusal is None or flow.response is None:
        return
    spliced = splice_answers(flow.response.get_content(strict=False) or b"", refusal)
    if spliced is None:  # Graph refused the batch itself (or answered something else): its answer stands
        logger.warning(f"graphtape: {flow.request.method} {flow.request.path}: the answer is not a batch answer, so "
                       f"the {len(refusal.answers)} refused item(s) could not be added to it")
        return
    flow.response.content = spliced
