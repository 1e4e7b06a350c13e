"""Validating a request against the contract, and checking recorded interactions."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from graphtape.bodies import is_json_type, is_mime_upload_type, media_type, parse_json
from graphtape.model import Finding, HttpRequest, Interaction

from .data import limit
from .endpoints import EndpointMatch, match_request
from .jsonrules import JsonRequest, check_rules
from .mimecheck import check_mime
from .responses import validate_response
from .rules import finding
from .schema import check_json, normalise_parameters

log = logging.getLogger(__name__)


def _check_json(found: EndpointMatch, body: bytes) -> list[Finding]:
    endpoint, doc = found.endpoint, found.endpoint.doc
    assert endpoint.json_schema is not None
    maximum = limit("json_max_bytes")
    if len(body) > maximum:
        msg = (
            f"the JSON body is {len(body)} bytes, over Graph's 4 MB ({maximum}); "
            "attach files of 3 MB or more through attachments/createUploadSession"
        )
        return [finding("json.too-large", "", msg, doc)]
    try:
        data = parse_json(body)
    except (ValueError, RecursionError) as exc:
        detail = str(exc)[:200] if not isinstance(exc, RecursionError) else "nested too deeply"
        return [finding("json.malformed", "", f"the body is not valid UTF-8 JSON: {detail}", doc)]
    params = normalise_parameters(endpoint.json_schema, data, doc)
    findings = check_json(found.url.version, endpoint.json_schema, params, doc)
    return findings + check_rules(JsonRequest(endpoint, found.url.version, params))


def _check_body(found: EndpointMatch, req: HttpRequest) -> list[Finding]:
    endpoint, doc = found.endpoint, found.endpoint.doc
    has_body = bool(req.body) and not req.body.isspace()
    if endpoint.no_body:
        if not has_body:
            return []
        msg = f"{endpoint.name} takes no body ({len(req.body)} bytes sent); send the draft with an empty POST"
        return [finding("send.no-body", "", msg, doc)]
    if not has_body:
        if endpoint.body_required:
            wanted = " or ".join(endpoint.content_types)
            return [finding("body.required", "", f"{endpoint.name} needs a body ({wanted}); none was sent", doc)]
        return []
    content_type = req.content_type
    if endpoint.json_schema and is_json_type(content_type):
        return _check_json(found, req.body)
    if endpoint.mime and is_mime_upload_type(content_type):
        return check_mime(req.body, sends=endpoint.mime == "send", doc=doc)
    sent = media_type(content_type)
    accepted = " or ".join(endpoint.content_types)
    problem = f"does not take {sent}" if sent else "needs a Content-Type"
    msg = f"{endpoint.name} {problem}; send {accepted}"
    return [finding("content-type.unsupported", "header:Content-Type", msg, doc)]


def validate_request(req: HttpRequest) -> list[Finding]:
    """Every contract finding of a request; [] for calls the contract does not know. Never raises."""
    try:
        found = match_request(req.method, req.url)
        return [] if found is None else _check_body(found, req)
    except Exception as exc:  # a validator bug must not take the proxy down: report it instead
        log.exception("graphtape: contract validation failed for %s %s", req.method, req.url)
        msg = f"the validator failed ({type(exc).__name__}: {exc}); please report this request"
        return [finding("graphtape.internal-error", "", msg)]


def check_interactions(interactions: Sequence[Interaction]) -> list[tuple[int, Finding]]:
    """(index in ``interactions``, finding) for every request and response of a cassette, in order."""
    out: list[tuple[int, Finding]] = []
    for index, interaction in enumerate(interactions):
        out.extend((index, f) for f in validate_request(interaction.request))
        try:
            response_findings = validate_response(interaction.request, interaction.response)
        except Exception as exc:
            msg = f"the response check failed ({type(exc).__name__}: {exc}); please report this interaction"
            response_findings = [finding("graphtape.internal-error", "response:", msg)]
        out.extend((index, f) for f in response_findings)
    return out
