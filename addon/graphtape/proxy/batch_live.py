"""Enforce on a live call (record, inspect with ``--policy enforce``), batch-aware (``contract.batch_enforce``).

A request the contract refuses whole is answered with Graph's error and not sent, as before. A ``$batch`` whose
errors are all its items' own is sent without the refused items (and their dependants); when Graph answers,
their errors are spliced into its answer, so the client gets one answer per item it sent, and the cassette
records the batch as the client sent it with the answer as the client got it. A batch whose every item is
refused is not sent (answered 200 with the refused items).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from mitmproxy import http

from graphtape.contract import enforcement_response
from graphtape.contract.batch_enforce import Refusal, all_refused_response, refuse_items, splice_answers
from graphtape.model import Finding, HttpRequest, HttpResponse

_KEY = "graphtape_batch_refusal"
logger = logging.getLogger("graphtape")


def enforce_live(flow: http.HTTPFlow, req: HttpRequest, findings: Sequence[Finding]) -> HttpResponse | None:
    """The answer to a request refused whole; None when it goes on (a batch: rewritten without its refused items)."""
    refusal = refuse_items(req, findings)
    if refusal is None:
        return enforcement_response(req, findings)
    if refusal.forward is None:
        return all_refused_response(refusal)
    flow.request.content = refusal.forward  # Content-Length follows
    flow.metadata[_KEY] = refusal
    return None


def splice_live(flow: http.HTTPFlow) -> None:
    """Put the refused items' errors into the answer of a batch ``enforce_live`` sent without them."""
    refusal: Refusal | None = flow.metadata.pop(_KEY, None)
    if refusal is None or flow.response is None:
        return
    spliced = splice_answers(flow.response.get_content(strict=False) or b"", refusal)
    if spliced is None:  # Graph refused the batch itself (or answered something else): its answer stands
        logger.warning(f"graphtape: {flow.request.method} {flow.request.path}: the answer is not a batch answer, so "
                       f"the {len(refusal.answers)} refused item(s) could not be added to it")
        return
    flow.response.content = spliced
