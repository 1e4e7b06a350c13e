"""Validating a request against the contract, and checking recorded interactions."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from graphtape.bodies.batch import is_batch
from graphtape.bodies.kinds import is_json_type, is_mime_upload_type
from graphtape.model import Finding, HttpRequest, Interaction

from .batch import check_batch
from .data import limit
from .endpoints import EndpointMatch, is_mail_resource, match_url
from .jsonparse import Path
from .jsonrules import JsonRequest, check_rules
from .mimecheck import check_mime_request
from .responses import validate_response
from .rules import finding, graph_text, pointer
from .schema import check_json, definition, normalise_parameters

READS = frozenset({"GET", "HEAD", "OPTIONS"})

log = logging.getLogger(__name__)


def _repeated(found: EndpointMatch, schema_name: str, repeated: Sequence[tuple[Path, str]]) -> list[Finding]:
    """A finding per key given twice in one object (parameter.duplicate at the top of an action body)."""
    is_action = bool(definition(schema_name, found.url.version).get("x-operation"))
    out: list[Finding] = []
    for path, key in repeated:
        where = pointer([*path, key])
        if is_action and not path:
            text = graph_text("parameter.duplicate", parameter=key)
            out.append(finding("parameter.duplicate", where, f"{text} (graphtape: send it once)", found.endpoint.doc))
        else:
            text = graph_text("json.duplicate-property", property=key)
            msg = f"{text} (graphtape: JSON readers disagree on which one wins; send it once)"
            out.append(finding("json.duplicate-property", where, msg, found.endpoint.doc))
    return out


def _check_json(found: EndpointMatch, schema_name: str, req: HttpRequest) -> list[Finding]:
    endpoint, doc = found.endpoint, found.endpoint.doc
    maximum, body = limit("json_max_bytes"), req.body
    if len(body) > maximum:
        msg = (
            f"the JSON body is {len(body)} bytes, over Graph's 4 MB ({maximum}); "
            "attach files of 3 MB or more through attachments/createUploadSession"
        )
        return [finding("json.too-large", "", msg, doc)]
    parsed = req.json  # the request's one parse: matching and diffing read the same
    if parsed.error is not None:
        exc = parsed.error
        detail = str(exc)[:200] if not isinstance(exc, RecursionError) else "nested too deeply"
        return [finding("json.malformed", "", f"the body is not valid UTF-8 JSON: {detail}", doc)]
    version = found.url.version
    params = normalise_parameters(schema_name, parsed.value, doc, version)
    findings = _repeated(found, schema_name, parsed.repeated) + check_json(version, schema_name, params, doc)
    return findings + check_rules(JsonRequest(endpoint, version, params))


def _check_body(found: EndpointMatch, req: HttpRequest) -> list[Finding]:
    endpoint, doc = found.endpoint, found.endpoint.doc
    has_body = bool(req.body) and not req.body.isspace()
    if endpoint.no_body:
        if not has_body:
            return []
        msg = f"{endpoint.name} takes no body ({len(req.body)} bytes sent); send the request with an empty body"
        return [finding("send.no-body", "", msg, doc)]
    if not has_body:
        if endpoint.body_required:
            wanted = " or ".join(endpoint.content_types)
            return [finding("body.required", "", f"{endpoint.name} needs a body ({wanted}); none was sent", doc)]
        return []
    content_type = req.content_type
    if endpoint.json_schema and is_json_type(content_type):
        return _check_json(found, endpoint.json_schema, req)
    if endpoint.mime and is_mime_upload_type(content_type):
        return check_mime_request(req, sends=endpoint.mime == "send", doc=doc)  # decision mime-recipients
    sent = req.media_type
    accepted = " or ".join(endpoint.content_types)
    problem = f"does not take {sent}" if sent else "needs a Content-Type"
    msg = f"{endpoint.name} {problem}; send {accepted}"
    return [finding("content-type.unsupported", "header:Content-Type", msg, doc)]


def _unknown(req: HttpRequest) -> list[Finding]:
    """A warning for a write to a Graph mail URL the contract does not list; [] for anything else."""
    parsed = req.graph_url
    if parsed is None or req.method.upper() in READS or not is_mail_resource(parsed.resource):
        return []
    msg = (f"{req.method.upper()} {parsed.path} is a mail URL the contract does not list, so its body was not "
           "checked; compare the path with the docs (a typo answers 400 or 404)")
    return [finding("endpoint.unknown", "url", msg)]


def validate_request(req: HttpRequest) -> list[Finding]:
    """Every contract finding of a request; [] for calls outside mail. Never raises.

    A write to a mail URL the contract does not list gets an endpoint.unknown warning: it never passes silently.
    """
    try:
        parsed = req.graph_url
        if is_batch(req):
            return check_batch(req, validate_request)
        found = match_url(req.method, parsed)
        return _unknown(req) if found is None else _check_body(found, req)
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
