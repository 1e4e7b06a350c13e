"""The inspect half of the addon: each Graph call forwarded as it is, then checked and described."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from mitmproxy import ctx, http

from graphtape.bodies.limits import BodyTooLarge
from graphtape.contract import validate_response
from graphtape.graph import is_token_endpoint
from graphtape.model import Outcome
from graphtape.privacy.output import scrub_findings
from graphtape.proxy.flows import request_of, response_of
from graphtape.proxy.marks import mark_flow
from graphtape.proxy.record import duration_ms
from graphtape.session.describe import describe_exchange, short_path
from graphtape.session.exchanges import Session

logger = logging.getLogger("graphtape")


class InspectHooks:
    """Mixed into GraphTape: what inspect mode does with an answer that came back."""

    session: Session

    def _inspect(self, flow: http.HTTPFlow) -> None:
        """An in-scope call's answer: its findings noted, its description logged and put on the flow."""
        url = flow.metadata["graphtape_url"]
        if is_token_endpoint(urlsplit(url).hostname or "", urlsplit(url).path) or flow.response is None:
            return
        try:
            req = flow.metadata.get("graphtape_request") or request_of(flow, url)
            resp = response_of(flow.response)
        except BodyTooLarge as e:
            ex = self.session.start(flow.request.method, url)
            ex.status, ex.note, ex.outcome = flow.response.status_code, str(e), Outcome.OBSERVED
            logger.error(f"graphtape: {flow.request.method} {short_path(url)} -> {ex.status}: {e}")
            return
        ex = self.session.start(req.method, url)
        ex.status, ex.outcome = resp.status, Outcome.OBSERVED
        ex.findings = [*flow.metadata.get("graphtape_findings", []), *scrub_findings(validate_response(req, resp))]
        mark_flow(flow, ex)
        block = "\n".join([describe_exchange(req, resp, duration_ms(flow)), *(f"    {f.line()}" for f in ex.findings)])
        flow.comment = block
        if not ctx.options.graphtape_quiet:
            logger.info(f"graphtape:\n{block}")
