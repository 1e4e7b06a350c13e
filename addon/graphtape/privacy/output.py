"""The one place that sanitises what graphtape prints or writes about live traffic.

A client's live request carries the secrets a cassette never holds (its token, the ``code`` of a
redirect, a form's ``client_secret``). Deviations, findings and notes are scrubbed when they are
made (``scrub_deviations``, ``scrub_findings``), so no output can forget; the log, the summary and
the reports go through ``scrub_text`` once more on the way out (``ScrubFilter``, ``output_scrubber``).

Scrubbing applies the cassette's redaction rules (secret parameters anywhere in a text, secret
headers and JSON fields by their name in a deviation's path) and replaces anything token-shaped
(a JWT, a bearer credential) by ``<redacted>``.

A recorded ``<redacted>`` stands for any value (``redacted_matches``): matching and diffing compare a
live value to it as to a wildcard, so an unchanged client neither misses nor deviates.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import functools
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from graphtape.model import Deviation, Finding
from graphtape.privacy.redaction import (
    BEARER_RE,
    JWT_RE,
    REDACTED,
    SECRET_HEADERS,
    SECRET_JSON_KEYS,
    SECRET_PARAMS,
    VALUE_CHARS,
    param_name,
    split_value,
)

MAX_DECODED_PARTS = 200  # MIME parts decoded for the token scan
_NAME_CHARS = "A-Za-z0-9_.%+\\-"
_PARAM_ANYWHERE = re.compile(rf"(?<![{_NAME_CHARS}])([{_NAME_CHARS}]+)=({VALUE_CHARS}*)")
_SEGMENT = re.compile(r"\[[^\]]*\]$")

Scrub = Callable[[str], str]


# --------------------------------------------------------------------------- "<redacted>" is any value


@functools.lru_cache(maxsize=4096)
def _wildcard(recorded: str) -> re.Pattern[str]:
    pieces = recorded.split(REDACTED)
    return re.compile(f"{VALUE_CHARS}*".join(re.escape(p) for p in pieces), re.S)


def redacted_matches(recorded: Any, actual: Any) -> bool:
    """True if ``recorded`` holds ``<redacted>`` and ``actual`` is what it could have been before redaction.

    A whole ``<redacted>`` matches any string; inside a longer string it matches any run of value
    characters (so ``?code=<redacted>&x=1`` matches ``?code=9f3&x=1`` but not ``?code=9f3&x=2``).
    Lists (MIME address lists, repeated query parameters) match item by item.
    """
    if isinstance(recorded, (list, tuple)) and isinstance(actual, (list, tuple)):
        return len(recorded) == len(actual) and all(a == b or redacted_matches(a, b)
                                                     for a, b in zip(recorded, actual, strict=True))
    if not isinstance(recorded, str) or REDACTED not in recorded or not isinstance(actual, (str, int, float)):
        return False
    if recorded == REDACTED:
        return True
    return isinstance(actual, str) and _wildcard(recorded).fullmatch(actual) is not None


def drop_redacted(deviations: Sequence[Deviation]) -> list[Deviation]:
    """The deviations that are not a live value standing where the recording has ``<redacted>``."""
    return [d for d in deviations if not (d.kind == "changed" and redacted_matches(d.recorded, d.actual))]


# --------------------------------------------------------------------------- scrubbing


def _param(m: re.Match[str]) -> str:
    value, rest = split_value(m.group(2))
    if not value or value == REDACTED or param_name(m.group(1)) not in SECRET_PARAMS:
        return m.group(0)
    return f"{m.group(1)}={REDACTED}{rest}"


def scrub_text(text: str) -> str:
    """``text`` with secret parameters (``client_secret=...`` anywhere), JWTs and bearer tokens replaced."""
    if not text:
        return text
    out = _PARAM_ANYWHERE.sub(_param, text) if "=" in text else text
    if "eyJ" in out:
        out = JWT_RE.sub(REDACTED, out)
    return BEARER_RE.sub(f"Bearer {REDACTED}", out)


def _secret_name(path: str) -> bool:
    """Whether the last segment of a deviation path names a secret (``query.code``, ``header.Cookie``)."""
    last = _SEGMENT.sub("", path.rsplit(".", 1)[-1]).lower()
    if path.startswith("query."):
        return param_name(last) in SECRET_PARAMS
    if "header." in path:
        return last in SECRET_HEADERS
    return last in SECRET_JSON_KEYS


def scrub_value(value: Any, *, secret: bool = False) -> Any:
    """A value shown to people: strings scrubbed, fields named like secrets replaced, the rest as it is."""
    if value is None:
        return None
    if secret and isinstance(value, (str, int, float)):
        return REDACTED
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, (list, tuple)):
        return [scrub_value(v, secret=secret) for v in value]
    if isinstance(value, dict):
        return {scrub_text(str(k)) if isinstance(k, str) else k:
                scrub_value(v, secret=isinstance(k, str) and k.lower() in SECRET_JSON_KEYS) for k, v in value.items()}
    return value


def scrub_deviation(d: Deviation) -> Deviation:
    secret = _secret_name(d.path)
    path, recorded, actual = scrub_text(d.path), scrub_value(d.recorded, secret=secret), \
        scrub_value(d.actual, secret=secret)
    if (path, recorded, actual) == (d.path, d.recorded, d.actual) and type(recorded) is type(d.recorded):
        return d
    return dataclasses.replace(d, path=path, recorded=recorded, actual=actual)  # its cosmetic reason kept


def scrub_deviations(deviations: Sequence[Deviation]) -> list[Deviation]:
    return [scrub_deviation(d) for d in deviations]


def scrub_findings(findings: Sequence[Finding]) -> list[Finding]:
    out = []
    for f in findings:
        location, message = scrub_text(f.location), scrub_text(f.message)
        out.append(f if (location, message) == (f.location, f.message)
                   else Finding(f.rule, f.severity, location, message, f.doc))
    return out


def output_scrubber(extra: Scrub | None = None) -> Scrub:
    """``scrub_text``, then ``extra`` (a pseudonymizer's ``text`` when recording with --pseudonymize)."""
    if extra is None:
        return scrub_text
    return lambda text: extra(scrub_text(text))


class ScrubFilter(logging.Filter):
    """A logging filter that scrubs each record's message (the console and mitmweb's event log)."""

    def __init__(self, scrub: Scrub = scrub_text) -> None:
        super().__init__()
        self.scrub = scrub

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.scrub(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


# --------------------------------------------------------------------------- encoded bodies, for the scan


def decoded_texts(node: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(label, text) of what a body node holds encoded, as Latin-1 so any byte is a character."""
    if isinstance(node.get("base64"), str):
        try:
            raw = base64.b64decode(node["base64"])
        except (binascii.Error, ValueError):
            raw = b""
        if raw:
            yield "base64 (decoded)", raw.decode("latin-1")
    if isinstance(node.get("mime"), str):
        yield from _mime_parts(node["mime"])


def _mime_parts(text: str) -> Iterator[tuple[str, str]]:
    if "base64" not in text.lower() and "quoted-printable" not in text.lower():
        return
    from graphtape.bodies.mime import read_message  # the email package, only for bodies that need it

    try:
        for i, part in enumerate(read_message(text.encode("utf-8", "surrogateescape")).walk()):
            if i >= MAX_DECODED_PARTS:
                return
            if not part.is_multipart() and part.transfer_encoding in ("base64", "quoted-printable"):
                yield f"mime part[{i}] (decoded)", part.decoded().decode("latin-1")
    except Exception:  # the email package on hostile input: the text itself is still scanned
        return
