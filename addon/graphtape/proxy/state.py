"""What graphtape knows of one flow between its hooks: one typed object under one ``flow.metadata`` key."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mitmproxy import http

from graphtape.model import Finding, HttpRequest

if TYPE_CHECKING:
    from graphtape.contract.batch_enforce import Refusal
    from graphtape.faults.stage import FlowFault
    from graphtape.proxy.modes.base import ModeHandler

KEY = "graphtape"


@dataclass(eq=False)
class FlowState:
    """An in-scope flow, from the request hook (or ``requestheaders``, for a streamed body) to its answer."""

    url: str  # the URL the client asked for (canonical_url); what the cassette and the session name
    # Who finishes the flow when its answer or its error comes: the mode that took the request, even if the
    # proxy switched mode since (a recording switched away from answers its abandoned calls). None once
    # graphtape answered the request itself (rejected, refused, replayed): nothing is left to do.
    handler: ModeHandler | None
    request: HttpRequest | None = None  # parsed once by the pipeline; None if the body is streamed or too large
    findings: list[Finding] = field(default_factory=list)  # the request's contract findings
    streamed: bool = False  # its body streams through (over the limit): the request hook leaves it alone
    refusal: Refusal | None = None  # a $batch sent without the items the contract refused (batch_live.py)
    fault: FlowFault | None = None  # the fault stage saw it (faults/stage.py): a fault, the limiter's admission

    def done(self) -> None:
        """graphtape is finished with the flow: later hooks leave it alone, and the parsed request (its body, its
        JSON) is not kept alive with the flow (mitmweb keeps every flow)."""
        self.handler = None
        self.request = None

    def __deepcopy__(self, memo: dict[int, Any]) -> None:
        """The state belongs to the live proxy: a flow copied or saved (``mitmdump -w``, mitmweb's Save, which
        deep-copy ``metadata``) carries None here, which mitmproxy's flow files can hold."""
        return None


def state_of(flow: http.HTTPFlow) -> FlowState | None:
    """The flow's state; None for a flow graphtape did not take (or a copy, or one read from a file)."""
    state = flow.metadata.get(KEY)
    return state if isinstance(state, FlowState) else None


def attach(flow: http.HTTPFlow, state: FlowState) -> FlowState:
    flow.metadata[KEY] = state
    return state
