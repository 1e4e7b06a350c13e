"""Which URLs graphtape handles: the one place that decides what is in scope.

In scope are Microsoft Graph URLs (``graph.parse_graph_url``: the Graph hosts, under /v1.0 and /beta) and the
upload URLs Graph's answers named in this session: a createUploadSession answer's ``uploadUrl`` is on another
host (``https://outlook.office.com/api/v2.0/.../AttachmentSessions('...')?authtoken=...``), and the chunk PUTs
and the DELETE sent there are recorded, replayed and checked like Graph calls. Record and inspect learn those
URLs from the answers as they pass (``learn``); replay from the cassette's recorded answers
(``from_interactions``). An upload URL is known by its scheme, host, port and path (its query, with the secret
``authtoken``, is not kept); everything else on that host stays out of scope.

Pure: no mitmproxy, no I/O. The scope also follows each upload session (its size, the next byte it expects), so
``check`` can hold a chunk to the contract (uploads/chunks.py); every other request goes to ``validate_request``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from graphtape.bodies.kinds import is_json_type, parse_json
from graphtape.contract import validate_request
from graphtape.graph import normalise_path, parse_graph_url
from graphtape.model import Finding, HttpRequest, HttpResponse, Interaction
from graphtape.uploads.chunks import UploadState, advance, check_chunk, take_answer

UPLOAD_URL_KEY = "uploadUrl"
_UPLOAD_URL_BYTES = b'"uploadUrl"'


def upload_key(url: str) -> str | None:
    """How an upload URL is known: ``https://host:port/normalised/path`` (no query); None if it is no URL."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default = 443 if parts.scheme == "https" else 80
    netloc = parts.hostname.lower() + (f":{port}" if port and port != default else "")
    return f"{parts.scheme}://{netloc}{normalise_path(parts.path or '/')}"


def _upload_urls(value: Any) -> Iterator[str]:
    """Every ``uploadUrl`` string in a JSON document (a createUploadSession answer, or one inside $batch)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for k, v in item.items():
                if k == UPLOAD_URL_KEY and isinstance(v, str):
                    yield v
                elif isinstance(v, (dict, list)):
                    stack.append(v)
        elif isinstance(item, list):
            stack.extend(item)


def _json(body: bytes) -> Any:
    try:
        return parse_json(body) if body else None
    except (ValueError, RecursionError):
        return None


def _session_size(req: HttpRequest) -> int | None:
    """The ``AttachmentItem.size`` a createUploadSession request asked for (any key casing), or None."""
    value = req.json.value if req.json.ok else None
    if not isinstance(value, dict):
        return None
    item = next((v for k, v in value.items() if k.lower() == "attachmentitem"), None)
    size = next((v for k, v in item.items() if k.lower() == "size"), None) if isinstance(item, dict) else None
    return size if isinstance(size, int) and not isinstance(size, bool) else None


class Scope:
    """Graph plus the upload URLs learnt this session, each with its session's state."""

    def __init__(self) -> None:
        self.uploads: dict[str, UploadState] = {}

    @classmethod
    def from_interactions(cls, interactions: Iterable[Interaction]) -> Scope:
        """Replay: the upload URLs the cassette's recorded answers named."""
        scope = cls()
        for interaction in interactions:  # the URLs only: each session starts from its first byte again
            scope._learn_urls(interaction.request, interaction.response)
        return scope

    def covers(self, url: str) -> bool:
        """Whether graphtape records, replays and checks a request to ``url``."""
        return parse_graph_url(url) is not None or self.session(url) is not None

    def session(self, url: str) -> UploadState | None:
        """The upload session ``url`` names (an uploadUrl learnt this session), else None."""
        if not self.uploads or parse_graph_url(url) is not None:
            return None
        key = upload_key(url)
        return self.uploads.get(key) if key is not None else None

    def learns_from(self, req: HttpRequest) -> bool:
        """Whether ``learn`` has anything to take from this request's answer (cheap: no body is read)."""
        return (req.method.upper() == "PUT" and self.session(req.url) is not None) or (
            req.method.upper() == "POST" and parse_graph_url(req.url) is not None)

    def learn(self, req: HttpRequest, resp: HttpResponse) -> None:
        """Take what a Graph answer says: the upload URLs it names (with the size asked for), or where an
        upload session stands after a chunk. Never raises."""
        state = self.session(req.url)
        if state is not None:
            body = _json(resp.body) if is_json_type(resp.content_type) else None
            take_answer(state, resp.status, body.get("nextExpectedRanges") if isinstance(body, dict) else None)
        else:
            self._learn_urls(req, resp)

    def _learn_urls(self, req: HttpRequest, resp: HttpResponse) -> None:
        if not 200 <= resp.status < 300 or _UPLOAD_URL_BYTES not in resp.body:
            return
        for url in _upload_urls(_json(resp.body)):
            key = upload_key(url)
            if key is not None and key not in self.uploads:
                self.uploads[key] = UploadState(size=_session_size(req))

    def check(self, req: HttpRequest) -> list[Finding]:
        """The contract findings of a request: a chunk against its upload session (taken into it when
        accepted), anything else through ``validate_request``."""
        state = self.session(req.url)
        if state is None:
            return validate_request(req)
        method = req.method.upper()
        found = check_chunk(req, state) if method == "PUT" else []
        if method in ("PUT", "DELETE"):
            advance(req, state, found)
        return found
