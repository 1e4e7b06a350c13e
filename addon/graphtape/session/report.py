"""A session's report: JSON for tools, JUnit XML for CI test views (what fails a run: ``session.verdict``).

Building is pure (``session_report``, ``junit_xml``); ``write_reports`` is the I/O edge,
and scrubs what it writes (``redaction_output.scrub_text``, or the session's scrubber, which also
pseudonymizes with --pseudonymize): no secret or real identity reaches a report file.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from graphtape import __version__
from graphtape.cassette.atomicfile import atomic_write
from graphtape.model import Outcome
from graphtape.privacy.output import scrub_text
from graphtape.replay.expiry import RULE as EXPIRED
from graphtape.session.exchanges import Exchange, Session


def _value(v: Any) -> Any:
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    if isinstance(v, (list, tuple)):
        return [_value(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _value(x) for k, x in v.items()}
    return repr(v)


def exchange_report(ex: Exchange) -> dict[str, Any]:
    return {
        "number": ex.number,
        "method": ex.method,
        "url": ex.url,
        "outcome": ex.outcome,
        "status": ex.status,
        "interaction": ex.interaction + 1 if ex.interaction is not None else None,
        "findings": [asdict(f) for f in ex.findings],
        "deviations": [
            {"path": d.path, "kind": d.kind, "recorded": _value(d.recorded), "actual": _value(d.actual),
             "cosmetic": d.cosmetic or None, "line": d.line()}
            for d in ex.deviations
        ],
        "note": ex.note,
    }


def session_report(session: Session) -> dict[str, Any]:
    exchanges = session.exchanges
    return {
        "graphtape_version": __version__,
        "mode": session.mode,
        "cassette": session.cassette,
        "summary": {
            "requests": len(exchanges),
            "matched": session.count(Outcome.MATCHED),
            "unmatched": session.count(Outcome.UNMATCHED),
            "exhausted": session.count(Outcome.EXHAUSTED),
            "rejected": session.count(Outcome.REJECTED),
            "signed_in_offline": session.count(Outcome.SIGNED_IN),
            "simulated": session.count(Outcome.SIMULATED),
            "upstream_connections_refused": session.upstream_refused,
            "contract_errors": sum(len(e.errors) for e in exchanges),
            "contract_warnings": sum(len(e.warnings) for e in exchanges),
            "deviations": sum(len(e.counted) for e in exchanges),  # as --fail-on deviation counts them
            "cosmetic_deviations": sum(len(e.cosmetic) for e in exchanges),  # counted by --fail-on cosmetic only
            "expired": sum(1 for e in exchanges for f in e.findings if f.rule == EXPIRED),  # replay/expiry.py
            "unused_interactions": [i + 1 for i in session.unused],
            "faults_injected": len(session.faults.injected) if session.faults is not None else 0,
            "faults_seed": session.faults.seed if session.faults is not None else None,
        },
        "requests": [exchange_report(e) for e in exchanges],
        "faults": session.faults.report(len(exchanges)) if session.faults is not None else None,
        "problems": list(session.problems),
    }


_FAILED_OUTCOMES = (Outcome.UNMATCHED, Outcome.EXHAUSTED, Outcome.FAILED, Outcome.NOT_RECORDED)


def _case_failure(ex: Exchange) -> tuple[str, str] | None:
    """(message, details) when this request is a failed test case in JUnit terms."""
    if ex.outcome in _FAILED_OUTCOMES:  # each fails the session (session/verdict.py): so its test case too
        return f"{ex.outcome}: {ex.note}", ex.note
    problems = [f.line() for f in ex.errors] + [f"deviation {d.line()}" for d in ex.counted]
    if ex.outcome == Outcome.REJECTED or problems:
        head = ex.errors[0].line() if ex.errors else f"deviation {ex.counted[0].line()}"
        return head, "\n".join(problems)
    return None


def junit_xml(session: Session) -> str:
    """One test case per request; unmatched requests, contract errors and deviations are failures (cosmetic
    deviations are not: they are in the case's system-out, with the warnings)."""
    suite = ET.Element("testsuite", name=f"graphtape {session.mode} {session.cassette}".strip())
    failed = 0
    for ex in session.exchanges:
        case = ET.SubElement(suite, "testcase", classname=f"graphtape.{Path(session.cassette).stem or 'session'}",
                             name=f"#{ex.number} {ex.method} {ex.url}")
        failure = _case_failure(ex)
        if failure is not None:
            failed += 1
            element = ET.SubElement(case, "failure", message=failure[0][:500])
            element.text = failure[1]
        warnings = [f.line() for f in ex.warnings] + [f"deviation {d.line()}" for d in ex.cosmetic]
        if warnings:
            ET.SubElement(case, "system-out").text = "\n".join(warnings)
        _fault_properties(case, session, ex)
    for index in session.unused:
        case = ET.SubElement(suite, "testcase", classname="graphtape.unused", name=f"interaction {index + 1}")
        ET.SubElement(case, "skipped", message="recorded interaction never used")
    suite.set("tests", str(len(session.exchanges) + len(session.unused)))
    suite.set("failures", str(failed))
    suite.set("skipped", str(len(session.unused)))
    suite.set("errors", "0")
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"


def _fault_properties(case: ET.Element, session: Session, ex: Exchange) -> None:
    """The faults injected into this request, as the test case's properties (name ``graphtape.fault``)."""
    faults = session.faults.of_exchange(ex.number) if session.faults is not None else []
    if faults:
        props = ET.SubElement(case, "properties")
        for f in faults:
            ET.SubElement(props, "property", name="graphtape.fault", value=f.line(len(session.exchanges)))


def write_reports(session: Session, json_path: str = "", junit_path: str = "", *,
                  scrub: Callable[[str], str] = scrub_text) -> None:
    if json_path:
        report = _scrubbed(session_report(session), scrub)
        atomic_write(Path(json_path), json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    if junit_path:
        atomic_write(Path(junit_path), scrub(junit_xml(session)))


def _scrubbed(value: Any, scrub: Callable[[str], str]) -> Any:
    """A report with every string (keys too) scrubbed."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list):
        return [_scrubbed(v, scrub) for v in value]
    if isinstance(value, dict):
        return {scrub(str(k)): _scrubbed(v, scrub) for k, v in value.items()}
    return value
