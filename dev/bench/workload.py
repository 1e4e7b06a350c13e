"""The traffic the benchmark sends: Graph mail calls built from the bundled seed cassettes.

Three kinds, in turn: create a draft (JSON), sendMail (base64 MIME), send a draft (empty POST).
Interaction ``i`` differs from the others in its subject, message id and client-request-id, so a
cassette of N interactions holds N distinct requests. Everything is deterministic (no clock, no
randomness beyond a fixed seed), so two runs send the same bytes.
"""

from __future__ import annotations

import base64
import json
import random
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from graphtape.bodies.kinds import decode_base64_mime
from graphtape.cassette.format import load_cassette, save_cassette
from graphtape.model import HttpRequest, Interaction

SEEDS = Path(__file__).resolve().parents[2] / "cassettes" / "seeds"
SEED_NAMES = ("create-draft-json", "sendmail-mime", "send-draft")
GRAPH_HOST = "graph.microsoft.com"
# Framing and per-connection headers: the client library sets its own.
_CLIENT_SETS = frozenset({"host", "content-length", "connection", "accept-encoding", "transfer-encoding"})


@dataclass(frozen=True)
class WireRequest:
    """One request as the bench clients send it through a CONNECT tunnel to graph.microsoft.com."""

    method: str
    path: str  # path and query
    headers: tuple[tuple[str, str], ...]
    body: bytes
    expect: int  # the status the recording answered


def seed_interactions(seeds: Path = SEEDS) -> list[Interaction]:
    found = []
    for name in SEED_NAMES:
        path = seeds / f"{name}.yaml"
        if not path.exists():
            raise FileNotFoundError(f"graphtape bench: the seed cassette {path} is missing (run 'make cassettes')")
        found.append(load_cassette(path).interactions[0])
    return found


def _message_id(i: int) -> str:
    return f"AAMkAGRWAAAFSmK{i:06d}AAA="


def _vary(seed: Interaction, kind: int, i: int, rng: random.Random) -> Interaction:
    req, resp = seed.request, seed.response
    request_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    headers = [(k, request_id if k.lower() == "client-request-id" else v) for k, v in req.headers]
    resp_headers = [(k, request_id if k.lower() == "client-request-id" else v) for k, v in resp.headers]
    url, body, resp_body = req.url, req.body, resp.body
    if kind == 0:  # create draft, JSON
        doc = json.loads(body)
        doc["subject"] = f"{doc['subject']} #{i}"
        body = json.dumps(doc, separators=(", ", ": "), ensure_ascii=False).encode()
        answer = json.loads(resp_body)
        answer["subject"], answer["id"] = doc["subject"], _message_id(i)
        resp_body = json.dumps(answer, separators=(",", ":"), ensure_ascii=False).encode()
    elif kind == 1:  # sendMail, base64 MIME
        decoded = decode_base64_mime(body)
        assert decoded is not None, "the sendMail seed is not base64 MIME"
        decoded = decoded.replace(b"Subject: ", f"Subject: #{i} ".encode(), 1)
        body = base64.b64encode(decoded)
    else:  # send a draft
        url = url.rsplit("/messages/", 1)[0] + "/messages/" + _message_id(i).replace("=", "%3D") + "/send"
    headers = [(k, str(len(body)) if k.lower() == "content-length" else v) for k, v in headers]
    resp_headers = [(k, str(len(resp_body)) if k.lower() == "content-length" else v) for k, v in resp_headers]
    return replace(
        seed,
        request=replace(req, url=url, headers=headers, body=body),
        response=replace(resp, headers=resp_headers, body=resp_body),
        recorded_at="2026-01-01T00:00:00.000Z",
    )


def interactions(n: int, seed: int = 6, seeds: Path = SEEDS) -> list[Interaction]:
    """``n`` distinct interactions, the three kinds in turn; the same for the same ``seed``."""
    rng = random.Random(seed)
    base = seed_interactions(seeds)
    return [_vary(base[i % 3], i % 3, i, rng) for i in range(n)]


def send_interactions(start: int, count: int, seed: int = 6, seeds: Path = SEEDS) -> list[Interaction]:
    """``count`` sends of drafts (no body, one URL each), numbered from ``start``: a warm-up pool."""
    rng = random.Random(seed + 1)
    send = seed_interactions(seeds)[2]
    return [_vary(send, 2, start + i, rng) for i in range(count)]


def warmup_request() -> WireRequest:
    """A call no cassette holds: graphtape answers 404 (unmatched) without touching any interaction."""
    return WireRequest("GET", "/v1.0/me/graphtape-bench-warmup", (), b"", 404)


def write_cassette(path: Path, items: list[Interaction]) -> Path:
    save_cassette(path, items, {"created": "2026-01-01T00:00:00Z", "graphtape_version": "bench"})
    return path


def wire(req: HttpRequest, expect: int) -> WireRequest:
    parts = urlsplit(req.url)
    assert parts.hostname == GRAPH_HOST, req.url
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = tuple((k, v) for k, v in req.headers if k.lower() not in _CLIENT_SETS)
    return WireRequest(req.method, target, headers, req.body, expect)


def wire_requests(items: list[Interaction]) -> list[WireRequest]:
    return [wire(i.request, i.response.status) for i in items]


def write_flows(path: Path, items: list[Interaction]) -> Path:
    """The same interactions as a mitmproxy flow file, for ``mitmdump --server-replay``."""
    from mitmproxy import connection, http, io
    from mitmproxy.proxy.mode_specs import ProxyMode

    with path.open("wb") as fh:
        writer = io.FlowWriter(fh)
        for n, it in enumerate(items):
            t = 1_700_000_000.0 + n
            client = connection.Client(peername=("127.0.0.1", 50000), sockname=("127.0.0.1", 8080),
                                       timestamp_start=t, proxy_mode=ProxyMode.parse("regular"))
            server = connection.Server(address=(GRAPH_HOST, 443))
            req = it.request
            request = http.Request.make(req.method, req.url, req.body,
                                        [(k.encode(), v.encode()) for k, v in req.headers])
            request.timestamp_start, request.timestamp_end = t, t
            resp = it.response
            fields = [(k.encode(), v.encode()) for k, v in resp.headers if k.lower() != "content-length"]
            response = http.Response.make(resp.status, resp.body, fields)
            response.reason = resp.reason or response.reason
            response.timestamp_start, response.timestamp_end = t, t
            flow = http.HTTPFlow(client, server)
            flow.request, flow.response = request, response
            writer.add(flow)
    return path
