"""What differs between two requests, two interactions or two cassettes, as deviations a person reads.

Every deviation has a path; the first segment says where it is:

- ``method``, ``host``, ``path``: the request line (``path`` normalised, so ``/v1.0//me`` is ``/v1.0/me``);
- ``query.$top``: query parameters; ``$select`` and ``$expand`` are sets of comma-separated items
  (``$select=a,b`` equals ``$select=b,a``), shown sorted;
- ``header.Prefer``: the request headers in ``COMPARED_REQUEST_HEADERS`` only (names case-insensitive;
  ``Accept``, ``Prefer`` and ``Preference-Applied`` compared as sets of comma-separated items,
  ``Content-Type`` with its parameters sorted); tokens, ids and telemetry are not compared; ``Accept`` and
  ``Accept-Language`` deviations are cosmetic (``diffing_cosmetic``: shown, counted apart);
- ``body...``: JSON, text or bytes (see ``diffing_body``); ``mime...``: base64 MIME bodies (``diffing_mime``);
- ``batch[N]...``: a ``$batch``'s items, each diffed as the request it stands for (``diffing_batch``);
- ``response.status``, ``response.header.X``, ``response.body...``, ``response.mime...``: responses;
- ``interaction``: an interaction only one cassette has.

Which deviations are dropped by default, and how users drop more, is in ``ignore``. A recorded
``<redacted>`` stands for any value: a live value where the recording has it is no deviation. What
the deviations show is scrubbed (``redaction_output``): a live secret never reaches a report or a log.
"""

from __future__ import annotations

import functools
import heapq
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from graphtape.bodies.batch import is_batch
from graphtape.bodies.digest import diff_digests, digest_of
from graphtape.contract.shapes import request_slot
from graphtape.diffing.batch import diff_batch
from graphtape.diffing.body import diff_bodies, read_body, read_request_body
from graphtape.diffing.cosmetic import mark_headers
from graphtape.diffing.ignore import DEFAULT_IGNORE, IgnoreRules
from graphtape.graph import normalise_path, parse_query
from graphtape.model import Deviation, Headers, HttpRequest, HttpResponse, Interaction
from graphtape.privacy.output import drop_redacted, scrub_deviations

COMPARED_REQUEST_HEADERS: tuple[str, ...] = (
    "Accept",
    "Accept-Language",
    "ConsistencyLevel",  # advanced queries ($count, $search)
    "Content-Language",
    "Content-Range",  # upload session chunks
    "Content-Type",
    "If-Match",
    "If-None-Match",
    "Prefer",  # outlook.body-content-type, IdType, outlook.timezone
)
COMPARED_RESPONSE_HEADERS: tuple[str, ...] = (
    "Content-Type",
    "OData-Version",
    "Preference-Applied",
    "Retry-After",
)
SET_VALUED_QUERY: frozenset[str] = frozenset({"$select", "$expand"})
_SET_VALUED_HEADERS = frozenset({"accept", "prefer", "preference-applied"})

# How much a deviation under each root weighs when ranking near misses.
_WEIGHTS: dict[str, int] = {"method": 1000, "path": 500, "host": 100, "query": 20, "header": 5}


def _target(req: HttpRequest) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """Host, normalised path and sorted query of a request's URL (its parsed view for Graph); never raises."""
    url = req.url
    try:
        graph = req.graph_url
        if graph is not None:
            return graph.host, graph.path, graph.query
        parts = urlsplit(url)
        return (parts.hostname or "").lower(), normalise_path(parts.path or "/"), parse_query(parts.query)
    except ValueError:  # e.g. a bad IPv6 literal
        return "", url, ()


def _split_items(value: str) -> list[str]:
    """``"a,b(c,d)"`` -> ``["a", "b(c,d)"]``: commas inside parentheses ($expand options) do not split."""
    if "(" not in value:  # nothing nested: every comma splits, as in _split_nested, ~10x faster
        return [item for item in (part.strip() for part in value.split(",")) if item]
    return _split_nested(value)


def _split_nested(value: str) -> list[str]:
    items: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in value:
        depth += (ch == "(") - (ch == ")")
        if ch == "," and depth <= 0:
            items.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    items.append("".join(current).strip())
    return [item for item in items if item]


def _query_values(query: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    grouped: dict[str, list[str]] = {}
    for key, value in query:
        grouped.setdefault(key, []).append(value)
    out: dict[str, Any] = {}
    for key, values in grouped.items():
        if key in SET_VALUED_QUERY:
            out[key] = ",".join(sorted({item for v in values for item in _split_items(v)}))
        else:
            out[key] = values[0] if len(values) == 1 else values
    return out


def _compare(path: str, recorded: Any, actual: Any) -> list[Deviation]:
    if recorded == actual:
        return []
    if recorded is None:
        return [Deviation(path, "added", None, actual)]
    if actual is None:
        return [Deviation(path, "removed", recorded, None)]
    return [Deviation(path, "changed", recorded, actual)]


def _compare_maps(prefix: str, recorded: dict[str, Any], actual: dict[str, Any]) -> list[Deviation]:
    keys = [*recorded, *(k for k in actual if k not in recorded)]
    return [d for k in keys for d in _compare(f"{prefix}.{k}", recorded.get(k), actual.get(k))]


def _content_type(value: str) -> str:
    media, *params = value.split(";")
    kept = []
    for param in params:
        name, _, val = param.partition("=")
        name, val = name.strip().lower(), val.strip().strip('"')
        if name and name != "boundary":
            kept.append(f"{name}={val.lower() if name == 'charset' else val}")
    return "; ".join([media.strip().lower(), *sorted(kept)])


@functools.cache
def _lower_names(names: tuple[str, ...]) -> frozenset[str]:
    return frozenset(n.lower() for n in names)


def header_values(headers: Headers, names: Sequence[str]) -> dict[str, Any]:
    """The compared headers present, under their canonical names, normalised."""
    wanted = _lower_names(tuple(names))
    found: dict[str, list[str]] = {}
    for k, v in headers:  # one pass, one lower() a header (was one a header per compared name)
        lk = k.lower()
        if lk in wanted:
            found.setdefault(lk, []).append(v)
    out: dict[str, Any] = {}
    for name in names:
        lname = name.lower()
        values = found.get(lname)
        if not values:
            continue
        joined = " ".join(", ".join(values).split())
        if lname == "content-type":  # one value only: a second Content-Type is not a list
            out[name] = _content_type(values[0])
        elif lname in _SET_VALUED_HEADERS:
            out[name] = ", ".join(sorted(set(_split_items(joined))))
        else:
            out[name] = joined
    return out


def _compared_headers(req: HttpRequest) -> dict[str, Any]:
    """``header_values`` of a request's compared headers, kept in its view: a recording is diffed against every
    request it serves (never modified: ``_compare_maps`` only reads it)."""
    found: dict[str, Any] | None = req.__dict__.get("_compared_headers")
    if found is None:
        found = req.__dict__["_compared_headers"] = header_values(req.headers, COMPARED_REQUEST_HEADERS)
    return found


def _diff_body_of(
    prefix: str, recorded: HttpRequest | HttpResponse, actual: HttpRequest | HttpResponse, *, request: bool
) -> list[Deviation]:
    """Body deviations; equal bytes are not parsed at all. Only requests carry base64 MIME. A body recorded as
    its digest (an upload chunk) is compared by digest: ``body.sha256``, ``body.size``."""
    if isinstance(recorded, HttpRequest) and isinstance(actual, HttpRequest) and (
            recorded.body_digest is not None or actual.body_digest is not None):
        return diff_digests(prefix, digest_of(recorded.body, recorded.body_digest),
                            digest_of(actual.body, actual.body_digest))
    if recorded.body == actual.body:
        return []
    mime_prefix = "mime" if request else "response.mime"
    if isinstance(recorded, HttpRequest) and isinstance(actual, HttpRequest):
        a, b = read_request_body(recorded), read_request_body(actual)
        return diff_bodies(prefix, mime_prefix, a, b, request_slot(recorded))
    a = read_body(recorded.content_type, recorded.body, base64_mime=request)
    b = read_body(actual.content_type, actual.body, base64_mime=request)
    return diff_bodies(prefix, mime_prefix, a, b)


def _request_body(recorded: HttpRequest, actual: HttpRequest, ignore: IgnoreRules, batch: bool) -> list[Deviation]:
    """The body's deviations; a ``$batch``'s item by item (its items' requests are not batches themselves)."""
    if batch and recorded.body != actual.body and is_batch(recorded) and is_batch(actual):
        found = diff_batch(recorded, actual,
                           lambda a, b: ignore.apply(_raw_diff_requests(a, b, ignore, batch=False)))
        if found is not None:
            return found
    return _diff_body_of("body", recorded, actual, request=True)


def _raw_diff_requests(recorded: HttpRequest, actual: HttpRequest, ignore: IgnoreRules = DEFAULT_IGNORE, *,
                       batch: bool = True) -> list[Deviation]:
    a_host, a_path, a_query = _target(recorded)
    b_host, b_path, b_query = _target(actual)
    return mark_headers([  # the cosmetic header deviations marked (diffing/cosmetic.py)
        *_compare("method", recorded.method.upper(), actual.method.upper()),
        *_compare("host", a_host, b_host),
        *_compare("path", a_path, b_path),
        *_compare_maps("query", _query_values(a_query), _query_values(b_query)),
        *_compare_maps("header", _compared_headers(recorded), _compared_headers(actual)),
        *_request_body(recorded, actual, ignore, batch),
    ])


def diff_requests(recorded: HttpRequest, actual: HttpRequest, ignore: IgnoreRules = DEFAULT_IGNORE) -> list[Deviation]:
    """How ``actual`` differs from ``recorded``: request line, query, compared headers, body.

    ``ignore`` is the whole rule set (merge user rules into ``DEFAULT_IGNORE`` to keep the defaults).
    Never raises: what cannot be parsed is compared as bytes.
    """
    return _shown(ignore.apply(_raw_diff_requests(recorded, actual, ignore)))


def _shown(deviations: list[Deviation]) -> list[Deviation]:
    """Deviations as they may be shown: none for a live value standing for a recorded <redacted>, secrets scrubbed."""
    if not deviations:
        return deviations
    return scrub_deviations(drop_redacted(deviations))


def _raw_diff_responses(recorded: HttpResponse, actual: HttpResponse) -> list[Deviation]:
    return [
        *_compare("response.status", recorded.status, actual.status),
        *_compare_maps(
            "response.header",
            header_values(recorded.headers, COMPARED_RESPONSE_HEADERS),
            header_values(actual.headers, COMPARED_RESPONSE_HEADERS),
        ),
        *_diff_body_of("response.body", recorded, actual, request=False),
    ]


def diff_interactions(old: Interaction, new: Interaction, ignore: IgnoreRules = DEFAULT_IGNORE) -> list[Deviation]:
    """Drift from ``old`` to ``new``: the request deviations, then the response's (``response.``)."""
    found = _raw_diff_requests(old.request, new.request, ignore) + _raw_diff_responses(old.response, new.response)
    return _shown(ignore.apply(found))


def describe(interaction: Interaction) -> str:
    """``"POST /v1.0/me/sendMail -> 202"``: an interaction in one line."""
    _, path, _ = _target(interaction.request)
    return f"{interaction.request.method.upper()} {path} -> {interaction.response.status}"


def diff_cassettes(
    old: Sequence[Interaction], new: Sequence[Interaction], ignore: IgnoreRules = DEFAULT_IGNORE,
    remap: Callable[[Interaction], Interaction] | None = None,
) -> list[tuple[int, list[Deviation]]]:
    """Drift between two recordings, interactions paired by position; only the indices that differ.

    An interaction only one side has is one deviation at ``interaction`` (``added`` or ``removed``).
    ``remap`` rewrites each of OLD's interactions before it is compared (NEW's server ids: ``diffing.ids``).
    """
    out: list[tuple[int, list[Deviation]]] = []
    for i in range(max(len(old), len(new))):
        if i >= len(new):
            found = _shown(ignore.apply([Deviation("interaction", "removed", describe(old[i]), None)]))
        elif i >= len(old):
            found = _shown(ignore.apply([Deviation("interaction", "added", None, describe(new[i]))]))
        else:
            found = diff_interactions(remap(old[i]) if remap else old[i], new[i], ignore)
        if found:
            out.append((i, found))
    return out


def _cheap_distance(request: HttpRequest) -> Callable[[HttpRequest], int]:
    """A rough distance to ``request`` from the request line, the query and body equality (no body parsing)."""
    _, path, query = _target(request)
    method, segments, params = request.method.upper(), path.split("/"), set(query)

    def distance(candidate: HttpRequest) -> int:
        _, c_path, c_query = _target(candidate)
        d = 1000 * (candidate.method.upper() != method) + (candidate.body != request.body)
        if c_path != path:
            c_segments = c_path.split("/")
            differing = sum(x != y for x, y in zip(segments, c_segments, strict=False))
            d += 200 + 50 * (differing + abs(len(segments) - len(c_segments)))
        return d + 20 * len(params.symmetric_difference(c_query))

    return distance


def _weight(deviation: Deviation) -> int:
    root = deviation.path.split(".", 1)[0].split("[", 1)[0]
    return _WEIGHTS.get(root, 1)


def nearest(
    request: HttpRequest,
    candidates: Sequence[HttpRequest],
    limit: int = 3,
    ignore: IgnoreRules = DEFAULT_IGNORE,
) -> list[tuple[int, list[Deviation]]]:
    """The ``limit`` candidates closest to ``request``, each with ``diff_requests(candidate, request)``.

    Closest means: same method first, then same path, then fewer query deviations, then fewer
    header and body deviations; ties go to the earlier candidate. All candidates are ranked with a
    cheap distance (request line, query, body equality); only the best ``4 * limit`` (at least 12)
    are diffed in depth.
    """
    if limit <= 0 or not candidates:
        return []
    distance = _cheap_distance(request)
    ranked = heapq.nsmallest(max(4 * limit, 12), range(len(candidates)), key=lambda i: (distance(candidates[i]), i))
    shortlist = [(i, diff_requests(candidates[i], request, ignore)) for i in ranked]
    order = sorted(range(len(shortlist)), key=lambda k: (sum(_weight(d) for d in shortlist[k][1]), k))
    return [shortlist[k] for k in order[:limit]]
