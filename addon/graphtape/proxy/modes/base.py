"""What every mode is: the interface the addon and the request pipeline call, with the defaults (do nothing).

A mode is one small class (record.py, replay.py, inspect.py, off.py). The pipeline (``graphtape.proxy.pipeline``)
does what all of them share (scope, parse, validate, enforce, report) and calls the mode at its own stages:
``admit`` before the request is parsed, ``view`` on the parsed request, ``request`` once it passed the contract
check, ``outside`` for a call out of scope, ``too_large`` for a body graphtape cannot keep; then ``response`` or
``error`` when the answer (or the failure) of a request it took comes back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from mitmproxy import http
from mitmproxy.proxy import server_hooks

from graphtape.bodies.limits import BodyTooLarge
from graphtape.cassette.recorder import Recorder
from graphtape.model import FailOn, HttpRequest, Mode
from graphtape.privacy.output import scrub_text
from graphtape.privacy.pseudonymize import Pseudonymizer
from graphtape.privacy.redaction import Redactor
from graphtape.proxy.inflight import InFlight
from graphtape.proxy.options import OPENED_BY, LargeBodies
from graphtape.proxy.state import FlowState
from graphtape.proxy.upstream import Upstream
from graphtape.replay.pipeline import Replayer
from graphtape.scope import Scope
from graphtape.session.exchanges import Session
from graphtape.session.verdict import DEFAULT_FAIL_ON

if TYPE_CHECKING:
    from graphtape.faults.stage import Injector


@dataclass
class Shared:
    """What every mode reads and ``configure`` may change while a mode runs (nothing is reopened for it)."""

    upstream: Upstream | None = None  # record/inspect send Graph calls here
    redactor: Redactor = field(default_factory=Redactor)
    scrub: Callable[[str], str] = scrub_text  # applied to all graphtape prints and writes about traffic
    inflight: InFlight = field(default_factory=InFlight)  # record: calls sent upstream, not yet recorded
    fail_on: frozenset[FailOn] = DEFAULT_FAIL_ON
    simulation: Any = None  # simulate: (its settings' key, the Simulator) last opened, for graphtape_simulate_fresh
    faults: Injector | None = None  # graphtape_faults: the fault stage's state (faults/stage.py); None: no stage
    policy: str = "auto"  # graphtape_policy, as configure last took it (read on every request: no option lookup)


class ModeHandler:
    """A mode of the proxy. The defaults: traffic passes untouched, nothing is written down."""

    mode: Mode
    active: ClassVar[bool] = True  # False (off): no requests taken, no start line, no summary
    opened: ClassVar[bool] = True  # False: the mode's cassette could not be opened (UnopenedHandler)
    needs_cassette: ClassVar[bool] = False
    enforces: ClassVar[bool] = False  # graphtape_policy=auto answers contract errors as Graph would
    large_bodies: ClassVar[LargeBodies] = "stream"
    opened_by: ClassVar[frozenset[str]] = OPENED_BY  # the options whose change opens this mode anew
    recorder: Recorder | None = None
    replayer: Replayer | None = None
    pseudonymizer: Pseudonymizer | None = None  # the fake identities of this mode's cassette, if any

    def __init__(self, session: Session, shared: Shared, scope: Scope | None = None) -> None:
        self.session = session
        self.shared = shared
        self.scope = scope or Scope()  # what is in scope: Graph, and the upload URLs its answers named (scope.py)

    @classmethod
    def open(cls, session: Session, shared: Shared) -> ModeHandler:
        """The mode set up for ``session.cassette`` (errors as ``setup.open_mode`` turns them into refusals)."""
        return cls(session, shared)

    @property
    def enforcing(self) -> bool:
        """Contract errors are answered as Graph documents them, not sent, recorded or replayed."""
        policy = self.shared.policy
        return policy == "enforce" or (policy == "auto" and self.enforces)

    def retune(self, updated: set[str], opts: Any) -> None:
        """Options this mode takes on as they change, without a new session."""

    def close(self) -> None:
        """Switched away from, or the proxy stops: whatever this mode opened is closed."""

    def finish(self) -> None:
        """Bring the session up to date (replay: its unused interactions)."""

    # ------------------------------------------------------------------ the mode's stages (see pipeline.py)

    def server_connect(self, data: server_hooks.ServerConnectionHookData) -> None:
        """mitmproxy is about to connect upstream."""

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        """The request's headers arrived; its body may stream through right after (``flow.request.stream``)."""

    def outside(self, flow: http.HTTPFlow, url: str) -> None:
        """A request out of scope: passed through untouched, never written down."""

    def admit(self, flow: http.HTTPFlow, state: FlowState) -> bool:
        """False: the mode answered the request itself before anything else (record, while stopping)."""
        return True

    def view(self, req: HttpRequest) -> HttpRequest:
        """The request as this mode reads it (replay of a pseudonymized cassette: with its fake identities)."""
        return req

    def too_large(self, flow: http.HTTPFlow, state: FlowState, e: BodyTooLarge) -> None:
        """A body over graphtape's limit: it cannot be kept, checked or compared."""

    def request(self, flow: http.HTTPFlow, state: FlowState) -> None:
        """An in-scope request, parsed, validated (``state.findings``) and not refused by the contract."""

    def response(self, flow: http.HTTPFlow, state: FlowState) -> None:
        """The answer to a request this mode took came back (it goes on to the client after this hook)."""

    def error(self, flow: http.HTTPFlow, state: FlowState) -> None:
        """A request this mode took failed upstream (no answer)."""
