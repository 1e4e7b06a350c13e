"""Inspect: each Graph call forwarded as it is, then its answer checked and described."""

from __future__ import annotations

import logging

from mitmproxy import ctx, http

from graphtape.bodies.limits import BodyTooLarge
from graphtape.contract import validate_response
from graphtape.model import Mode, Outcome
from graphtape.privacy.output import scrub_findings
from graphtape.proxy.flows import request_of, response_of
from graphtape.proxy.marks import mark_flow
from graphtape.proxy.modes.forward import Forwarding, duration_ms, kept
from graphtape.proxy.pipeline import settle
from graphtape.proxy.state import FlowState
from graphtape.session.describe import describe_exchange, short_path

logger = logging.getLogger("graphtape")


class InspectHandler(Forwarding):
    mode = Mode.INSPECT

    def answered(self, flow: http.HTTPFlow, state: FlowState) -> None:
        """An in-scope call's answer: its findings noted, its description logged and put on the flow."""
        if not kept(state.url) or flow.response is None:
            return
        try:
            req = state.request or request_of(flow, state.url)  # not parsed yet: its body is too large
            resp = response_of(flow.response)
        except BodyTooLarge as e:
            ex = settle(self.session, flow.request.method, state.url, Outcome.OBSERVED, flow.response.status_code,
                        note=str(e))
            logger.error(f"graphtape: {ex.method} {short_path(ex.url)} -> {ex.status}: {e}")
            return
        ex = settle(self.session, req.method, state.url, Outcome.OBSERVED, resp.status,
                    findings=[*state.findings, *scrub_findings(validate_response(req, resp))])
        mark_flow(flow, ex)
        block = "\n".join([describe_exchange(req, resp, duration_ms(flow)), *(f"    {f.line()}" for f in ex.findings)])
        flow.comment = block
        if not ctx.options.graphtape_quiet:
            logger.info(f"graphtape:\n{block}")
