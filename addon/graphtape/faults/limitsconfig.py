"""The ``limits:`` section of a faults file: Outlook's limits, each one overridable, and how ``--faults-scale`` and
``--faults-time-scale`` change them.

Outlook's service limits (learn.microsoft.com/graph/throttling-limits#outlook-service-limits, as of 2026):

- per app ID: 4 concurrent requests, "regardless of whether the requests all access the same mailbox, or access
  different mailboxes" (an earlier revision said per app ID and mailbox: ``concurrency_scope: mailbox``);
- per app ID and mailbox: 10,000 API requests in a 10 minute period, and 150 megabytes (MB) upload (PATCH, POST,
  PUT) in a 5 minute period.

An empty section (``limits: {}``) is exactly those.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

MB = 1024 * 1024
ConcurrencyScope = Literal["app", "mailbox"]


@dataclass(frozen=True)
class LimitsConfig:
    requests: int = 10_000  # per app and mailbox, in each sliding window of ...
    requests_window_s: float = 600.0  # ... 10 minutes
    upload_bytes: int = 150 * MB  # the bodies of PATCH, POST and PUT, per app and mailbox, in each ...
    upload_window_s: float = 300.0  # ... 5 minutes
    concurrency: int = 4  # requests at once, per app (or per app and mailbox)
    concurrency_scope: ConcurrencyScope = "app"
    concurrency_retry_after_s: float = 1.0  # what a MailboxConcurrency 429 asks (Graph does not say; 1 s)
    time_scale: float = 1.0  # what every wait was multiplied by (``scaled``): for the 429s' Retry-After


# key in the file -> (field, kind, what it is)
_KEYS: dict[str, tuple[str, str, str]] = {
    "requests": ("requests", "count", "requests per app and mailbox in each window"),
    "requests_window": ("requests_window_s", "seconds", "the request window's length in seconds"),
    "upload_mb": ("upload_bytes", "megabytes", "megabytes uploaded (PATCH, POST, PUT bodies) in each window"),
    "upload_window": ("upload_window_s", "seconds", "the upload window's length in seconds"),
    "concurrency": ("concurrency", "count", "requests at once"),
    "concurrency_scope": ("concurrency_scope", "scope", "app (current docs) or mailbox (per app and mailbox)"),
    "concurrency_retry_after": ("concurrency_retry_after_s", "seconds", "the Retry-After of a concurrency 429"),
}


def _number(key: str, value: Any, kind: str, where: str) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{where}: limits.{key} must be a number above 0 ({_KEYS[key][2]}), not {value!r}")
    if kind == "count":
        if value != int(value):
            raise ValueError(f"{where}: limits.{key} must be a whole number ({_KEYS[key][2]}), not {value!r}")
        return int(value)
    if kind == "megabytes":
        return max(1, int(value * MB))
    return float(value)


def _value(key: str, value: Any, where: str) -> Any:
    kind = _KEYS[key][1]
    if kind != "scope":
        return _number(key, value, kind, where)
    if value not in ("app", "mailbox"):
        raise ValueError(f"{where}: limits.{key} must be 'app' or 'mailbox' ({_KEYS[key][2]}), not {value!r}")
    return value


def parse_limits(doc: Mapping[str, Any], where: str) -> LimitsConfig:
    """The ``limits:`` mapping of the faults file ``where``; ValueError naming the key and the file."""
    if not isinstance(doc, Mapping):
        raise ValueError(f"{where}: limits must be a mapping of {', '.join(_KEYS)} (or {{}} for Outlook's "
                         f"limits), not {doc!r}")
    changes: dict[str, Any] = {}
    for key, value in doc.items():
        if key not in _KEYS:
            close = difflib.get_close_matches(str(key), list(_KEYS), n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ValueError(f"{where}: limits.{key} is not a limit: {hint}the keys of limits are "
                             f"{', '.join(_KEYS)}")
        changes[_KEYS[key][0]] = _value(str(key), value, where)
    return replace(LimitsConfig(), **changes)


def parse_scale(text: str, name: str) -> float:
    """A scale option's value (``graphtape_faults_scale``, ``graphtape_faults_time_scale``: mitmproxy options are
    strings): a number above 0; ValueError naming the option."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"graphtape: {name} must be a number above 0 (such as 0.01), not {text!r}")
    return value


def scaled(cfg: LimitsConfig, scale: float = 1.0, time_scale: float = 1.0) -> LimitsConfig:
    """The limits for ``--faults-scale`` and ``--faults-time-scale``.

    ``scale`` multiplies what a window admits (requests, bytes), rounded down, at least 1; and the concurrency,
    rounded to the nearest whole number (half up), at least 1: 4 x 0.01 is 1, 4 x 0.4 is 2, 4 x 2 is 8.
    ``time_scale`` multiplies every duration: the windows' lengths and the waits a 429 asks (its Retry-After is
    then the shortened wait, in whole seconds, at least 1: ``session.retries.retry_after_value``).
    """
    if scale <= 0 or time_scale <= 0 or not (math.isfinite(scale) and math.isfinite(time_scale)):
        raise ValueError(f"the faults scale and time scale must be numbers above 0, not {scale!r} and "
                         f"{time_scale!r}")
    return replace(
        cfg,
        requests=max(1, math.floor(cfg.requests * scale)),
        upload_bytes=max(1, math.floor(cfg.upload_bytes * scale)),
        concurrency=max(1, math.floor(cfg.concurrency * scale + 0.5)),
        requests_window_s=cfg.requests_window_s * time_scale,
        upload_window_s=cfg.upload_window_s * time_scale,
        concurrency_retry_after_s=cfg.concurrency_retry_after_s * time_scale,
        time_scale=cfg.time_scale * time_scale,
    )
