"""graphtape's mitmproxy contentviews, registered by the addon (``register``) and chosen automatically for Graph
mail bodies in mitmweb, mitmproxy and mitmdump's flow detail (``--flow-detail 3``):

- ``Graph-MIME``: a base64 MIME body (``POST /me/sendMail``, ``/me/messages`` with ``text/plain``) or a message's
  ``$value``, decoded: headers, parts and attachments by name and size, then the message. Interactive: an edited
  view is encoded again as it came (base64 in the original's line layout; a ``$value`` as text).
- ``Graph-batch``: a ``$batch`` request or answer item by item (an answer's items name the request item they
  answer, by id), MIME items summarised.
"""

from __future__ import annotations

from typing import Any, Literal

from mitmproxy import contentviews, http
from mitmproxy.contentviews import Metadata, SyntaxHighlight

from graphtape.bodies.batch import is_batch_resource, request_items, response_items
from graphtape.bodies.kinds import decode_base64_mime, looks_like_rfc5322
from graphtape.cassette.bodycodec import base64_layout, encode_base64_layout
from graphtape.graph import GraphUrl, parse_graph_url
from graphtape.model import HttpRequest
from graphtape.proxy.state import state_of
from graphtape.views.text import batch_answer_view, batch_request_view, message_of, mime_view

PRIORITY = 2.0  # above mitmproxy's own views for the same bodies (JSON's is 1)
MimeEncoding = Literal["base64", "as text"]


def graph_url(metadata: Metadata) -> GraphUrl | None:
    """The Graph URL of the flow the body belongs to (the one the client asked for, even when graphtape sent it
    to an upstream); None out of Graph."""
    flow = metadata.flow
    if not isinstance(flow, http.HTTPFlow):
        return None
    state = state_of(flow)
    try:
        return parse_graph_url(state.url if state is not None else flow.request.pretty_url)
    except ValueError:
        return None


def mime_content(data: bytes, url: GraphUrl | None) -> tuple[bytes, MimeEncoding] | None:
    """The message in a body: base64 MIME decoded, or a ``$value`` (any URL when none is known) as it is."""
    decoded = decode_base64_mime(data)
    if decoded is not None and looks_like_rfc5322(decoded):
        return decoded, "base64"
    if (url is None or url.resource.endswith("/$value")) and looks_like_rfc5322(data):
        return data, "as text"
    return None


class GraphMimeContentview(contentviews.InteractiveContentview):
    @property
    def name(self) -> str:
        return "Graph-MIME"

    @property
    def syntax_highlight(self) -> SyntaxHighlight:
        return "none"

    def render_priority(self, data: bytes, metadata: Metadata) -> float:
        url = graph_url(metadata)
        return PRIORITY if url is not None and mime_content(data, url) is not None else -1

    def prettify(self, data: bytes, metadata: Metadata) -> str:
        found = mime_content(data, None)
        if found is None:
            raise ValueError("graphtape: this body is neither base64 of a MIME message nor a MIME message")
        return mime_view(*found)

    def reencode(self, prettified: str, metadata: Metadata) -> bytes:
        original = _original(metadata)
        found = mime_content(original, None)
        if found is None:
            raise ValueError("graphtape: the original body is not a MIME message, so it cannot be encoded again")
        decoded, encoding = found
        message = message_of(prettified, decoded)
        if encoding == "as text":
            return message
        wrap, newline, final = base64_layout(original) or (0, "\n", False)
        return encode_base64_layout(message, wrap, newline, final)


class GraphBatchContentview(contentviews.Contentview):
    @property
    def name(self) -> str:
        return "Graph-batch"

    @property
    def syntax_highlight(self) -> SyntaxHighlight:
        return "none"

    def render_priority(self, data: bytes, metadata: Metadata) -> float:
        url = graph_url(metadata)
        if url is None or not is_batch_resource(url.resource):
            return -1
        return PRIORITY if _items(data) is not None else -1

    def prettify(self, data: bytes, metadata: Metadata) -> str:
        found = _items(data)
        if found is None:
            raise ValueError('graphtape: this body is not a $batch ({"requests": [...]} or {"responses": [...]})')
        kind, items = found
        if kind == "requests":
            return batch_request_view(items)
        flow = metadata.flow
        asked = _items(flow.request.get_content(strict=False) or b"") if isinstance(flow, http.HTTPFlow) else None
        return batch_answer_view(items, asked[1] if asked is not None and asked[0] == "requests" else None)


def _items(data: bytes) -> tuple[str, list[Any]] | None:
    """("requests", items) or ("responses", items); None for a body that is neither."""
    body = HttpRequest("POST", "", [], data)
    requests = request_items(body)
    if requests is not None:
        return "requests", requests
    responses = response_items(body.json.value) if body.json.ok else None
    return ("responses", responses) if responses is not None else None


def _original(metadata: Metadata) -> bytes:
    if metadata.original_data is not None:
        return metadata.original_data
    message = metadata.http_message
    return (message.get_content(strict=False) or b"") if message is not None else b""


VIEWS: tuple[contentviews.Contentview, ...] = (GraphMimeContentview(), GraphBatchContentview())


def register() -> None:
    """Add graphtape's views to mitmproxy's registry (once: the addon loads again in each pytest session)."""
    for view in VIEWS:
        if contentviews.registry.get(view.name.lower()) is not view:
            contentviews.add(view)
