"""The faults file: which requests graphtape answers with a fault instead of (or on top of) the real answer.

    seed: 42                      # for the random faults and latency distributions (--faults-seed overrides)
    scripts:
      - {method: POST, endpoint: /me/sendMail, nth: 3, status: 429, retry_after: 2}
      - {endpoint: "/me/messages/*/attachments/createUploadSession", status: 503, times: 1, per: request}
      - {endpoint: /me/messages, reset: true, times: 1}
      - {regex: "/messages/[^/]+$", mailbox: a@contoso.com, latency: {uniform: [0.1, 0.5]}}
    random: {rates: {429: 0.05, 503: 0.02}, retry_after: 1}
    limits: {...}                 # Outlook's limits model (faults/limits.py reads it)

A rule is which requests (``match.py``), which of their calls (``Calls``) and what happens (``Action``). The
file is YAML (JSON is YAML too), given as a path or inline; the pytest marker may give a dict. ``parse_faults``
is pure and raises ``FaultsError`` naming the file, the key and what to write instead.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from graphtape.config import ConfigError
from graphtape.faults.limitsconfig import LimitsConfig, parse_limits
from graphtape.faults.match import METHODS, Match, pattern_path

STATUSES = (429, 500, 502, 503, 504)
Kind = Literal["status", "reset", "empty", "truncated", "latency"]
ANSWERS: tuple[Kind, ...] = ("status", "reset", "empty", "truncated")  # at most one per rule
DISTRIBUTIONS = ("uniform", "normal", "exponential")
_MATCH_KEYS = ("method", "endpoint", "regex", "mailbox")
_CALL_KEYS = ("nth", "times", "every", "per")
_ACTION_KEYS = ("status", "retry_after", "code", "message", "reset", "empty", "truncated", "latency")
SCRIPT_KEYS = ("name", *_MATCH_KEYS, *_CALL_KEYS, *_ACTION_KEYS)
RANDOM_KEYS = ("rates", "retry_after", *_MATCH_KEYS)
TOP_KEYS = ("seed", "scripts", "random", "limits")


class FaultsError(ConfigError):
    """A faults file graphtape cannot use; the message names the file, the key and what to do."""


@dataclass(frozen=True)
class Latency:
    """A delay in seconds: ``fixed``, or drawn (seeded) from ``uniform: [lo, hi]``, ``normal: [mean, sd]`` (never
    below 0) or ``exponential: mean``."""

    fixed: float = 0.0
    dist: str = ""
    a: float = 0.0
    b: float = 0.0

    def describe(self) -> str:
        return {"": f"{self.fixed:g} s", "uniform": f"uniform {self.a:g}-{self.b:g} s",
                "normal": f"normal {self.a:g}±{self.b:g} s", "exponential": f"exponential mean {self.a:g} s"}[self.dist]


@dataclass(frozen=True)
class Calls:
    """Which of a rule's matching calls fire (1-based count): ``nth`` alone: that one; ``times`` alone: the first
    ``times``; both: ``times`` from the ``nth``; ``every: k``: each k-th (``times`` caps it); none: all.
    ``per: request``: counted for each request (method, URL) on its own instead of across the rule."""

    nth: int | None = None
    times: int | None = None
    every: int | None = None
    per_request: bool = False

    def fires(self, count: int, fired: int) -> bool:
        """Whether call number ``count`` fires, ``fired`` calls of the same count having fired already."""
        if self.times is not None and fired >= self.times:
            return False
        if self.every is not None:
            return count >= (self.nth or self.every) and (count - (self.nth or self.every)) % self.every == 0
        if self.nth is not None:
            return count >= self.nth and (self.times is not None or count == self.nth)
        return True


@dataclass(frozen=True)
class Action:
    """What a fault does. ``status``: Graph's error body for it (``code``/``message`` override; ``retry_after`` in
    seconds); ``reset``: the connection is closed with no answer; ``empty``: the real answer without its body;
    ``truncated``: the real answer cut after ``keep`` of its body and the connection closed; ``latency``: the
    answer comes that much later (alone, or before any of the others)."""

    kind: Kind
    status: int | None = None
    retry_after: float | None = None
    code: str = ""
    message: str = ""
    keep: float = 0.5
    latency: Latency | None = None

    def describe(self) -> str:
        text = {"status": f"{self.status}", "reset": "connection reset", "empty": "empty answer",
                "truncated": f"answer truncated at {self.keep:.0%}", "latency": ""}[self.kind]
        if self.retry_after is not None:
            text += f" Retry-After {self.retry_after:g}"
        if self.latency is not None:
            text = f"latency {self.latency.describe()}" + (f", then {text}" if text else "")
        return text


@dataclass(frozen=True)
class Script:
    name: str  # "script 1" unless named
    match: Match
    calls: Calls
    action: Action


@dataclass(frozen=True)
class RandomFaults:
    """A chance per status (or ``reset``) for each matching request, drawn from the seed."""

    rates: tuple[tuple[str, float], ...]  # ("429", 0.05), ("reset", 0.01): in the file's order
    retry_after: float
    match: Match


@dataclass(frozen=True)
class FaultsConfig:
    where: str  # the file, or "inline faults"
    seed: int | None = None
    scripts: tuple[Script, ...] = ()
    random: RandomFaults | None = None
    limits: LimitsConfig | None = None


def is_inline(text: str) -> bool:
    """Faults written out (YAML or JSON: a newline, a ``{``, or a ``key: value``) rather than a file's path."""
    return "\n" in text or text.lstrip().startswith("{") or ": " in text


def load_faults(value: str | Mapping[str, Any], *, base: Path | None = None) -> FaultsConfig | None:
    """The faults given as an option (a path, or inline YAML/JSON) or as the marker's dict; None for ""."""
    if isinstance(value, Mapping):
        return parse_faults(value, "the inline faults")
    text = value.strip()
    if not text:
        return None
    if not is_inline(text):
        path = Path(text).expanduser()
        if base is not None and not path.is_absolute():
            path = base / path
        try:
            text, where = path.read_text(encoding="utf-8"), str(path)
        except OSError as e:
            raise FaultsError(f"graphtape: cannot read the faults file {path}: {e.strerror or e} (give a path to "
                              "a YAML file, or the faults inline)") from e
    else:
        where = "the inline faults"
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise FaultsError(f"graphtape: {where} is not valid YAML: {e}") from e
    return parse_faults(doc if doc is not None else {}, where)


def parse_faults(doc: object, where: str) -> FaultsConfig:
    """The faults in ``doc`` (the file's mapping); FaultsError for anything graphtape would not do as written."""
    top = _mapping(doc, where, "the top level")
    _known(top, TOP_KEYS, where, "the top level")
    seed = top.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise FaultsError(f"graphtape: {where}: seed: {seed!r} is not a whole number (write e.g. seed: 42)")
    raw_scripts = top.get("scripts") or []
    if not isinstance(raw_scripts, list):
        raise FaultsError(f"graphtape: {where}: scripts: write a list of rules (- endpoint: ..., status: ...)")
    scripts = tuple(_script(s, where, i) for i, s in enumerate(raw_scripts, 1))
    rand = _random(top["random"], where) if top.get("random") is not None else None
    limits = _limits(top["limits"], where) if top.get("limits") is not None else None
    return FaultsConfig(where, seed, scripts, rand, limits)


def _limits(doc: object, where: str) -> LimitsConfig:
    """The ``limits:`` section, read by the limits model (``limitsconfig.parse_limits``)."""
    try:
        return parse_limits(_mapping(doc, where, "limits"), where)
    except FaultsError:
        raise
    except ValueError as e:
        text = str(e)
        raise FaultsError(text if text.startswith("graphtape:") else f"graphtape: {text}") from e


# ---------------------------------------------------------------------- the parts of a rule

def _script(doc: object, where: str, number: int) -> Script:
    at = f"scripts[{number}]"
    rule = _mapping(doc, where, at)
    _known(rule, SCRIPT_KEYS, where, at)
    name = str(rule.get("name") or f"script {number}")
    return Script(name, _match(rule, where, at), _calls(rule, where, at), _action(rule, where, at))


def _match(rule: Mapping[str, Any], where: str, at: str) -> Match:
    method = rule.get("method")
    if method is not None:
        method = str(method).upper()
        if method not in METHODS and method != "*":
            raise FaultsError(f"graphtape: {where}: {at}.method: {rule['method']!r} is not an HTTP method "
                              f"({', '.join(METHODS)}){_close(method, METHODS)}")
    regex = None
    if rule.get("regex") is not None:
        try:
            regex = re.compile(str(rule["regex"]), re.IGNORECASE)
        except re.error as e:
            raise FaultsError(f"graphtape: {where}: {at}.regex: {e} (a Python regular expression over the path "
                              "after the version, /me and /users/{id} written {mailbox})") from e
    glob = pattern_path(str(rule["endpoint"])) if rule.get("endpoint") is not None else None
    mailbox = str(rule["mailbox"]).lower() if rule.get("mailbox") is not None else None
    return Match(None if method in (None, "*") else method, glob, regex, mailbox)


def _calls(rule: Mapping[str, Any], where: str, at: str) -> Calls:
    nth, times, every = (_count(rule, k, where, at) for k in ("nth", "times", "every"))
    per = rule.get("per")
    if per not in (None, "rule", "request"):
        raise FaultsError(f"graphtape: {where}: {at}.per: {per!r}: write per: request (each request counted on "
                          "its own) or per: rule (the default)")
    return Calls(nth, times, every, per == "request")


def _count(rule: Mapping[str, Any], key: str, where: str, at: str) -> int | None:
    value = rule.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise FaultsError(f"graphtape: {where}: {at}.{key}: {value!r} is not a count (write a whole number from 1)")
    return value


def _action(rule: Mapping[str, Any], where: str, at: str) -> Action:
    given = [k for k in ANSWERS if rule.get(k) not in (None, False)]
    if len(given) > 1:
        raise FaultsError(f"graphtape: {where}: {at}: {' and '.join(given)} together: a rule answers one way "
                          "(split it in two rules; latency may go with any of them)")
    latency = _latency(rule["latency"], where, f"{at}.latency") if rule.get("latency") is not None else None
    if not given and latency is None:
        raise FaultsError(f"graphtape: {where}: {at}: no fault given: add one of status: 429|500|502|503|504, "
                          "reset: true, empty: true, truncated: true (or a fraction kept) or latency: SECONDS")
    kind: Kind = given[0] if given else "latency"
    status = retry_after = None
    if kind == "status":
        status = rule["status"]
        if status not in STATUSES:
            raise FaultsError(f"graphtape: {where}: {at}.status: {status!r}: graphtape injects "
                              f"{', '.join(map(str, STATUSES))} (Graph's bodies for each)")
        retry_after = _seconds(rule, "retry_after", where, at, 1.0 if status in (429, 503) else None)
    elif rule.get("retry_after") is not None:
        raise FaultsError(f"graphtape: {where}: {at}.retry_after goes with a status (429, 503...), not {kind}")
    keep = 0.5
    if kind == "truncated" and rule["truncated"] is not True:
        keep = rule["truncated"]
        if isinstance(keep, bool) or not isinstance(keep, (int, float)) or not 0 <= keep < 1:
            raise FaultsError(f"graphtape: {where}: {at}.truncated: {keep!r}: write true (half the body) or the "
                              "fraction of the body kept, from 0 up to (not including) 1")
    return Action(kind, status, retry_after, str(rule.get("code") or ""), str(rule.get("message") or ""),
                  float(keep), latency)


def _seconds(rule: Mapping[str, Any], key: str, where: str, at: str, default: float | None) -> float | None:
    value = rule.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise FaultsError(f"graphtape: {where}: {at}.{key}: {value!r} is not a number of seconds (e.g. 2)")
    return float(value)


def _latency(value: object, where: str, at: str) -> Latency:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return Latency(fixed=float(value))
    shape = (f"graphtape: {where}: {at}: {value!r}: write seconds (latency: 0.5) or one of "
             "{uniform: [LOW, HIGH]}, {normal: [MEAN, SD]}, {exponential: MEAN}")
    if not isinstance(value, Mapping) or len(value) != 1:
        raise FaultsError(shape)
    (dist, params), = value.items()
    if dist not in DISTRIBUTIONS:
        raise FaultsError(shape + _close(str(dist), DISTRIBUTIONS))
    nums = params if isinstance(params, list) else [params]
    want = 1 if dist == "exponential" else 2
    if len(nums) != want or not all(isinstance(n, (int, float)) and not isinstance(n, bool) and n >= 0
                                    for n in nums):
        raise FaultsError(shape)
    if dist == "uniform" and nums[0] > nums[1]:
        raise FaultsError(f"graphtape: {where}: {at}.uniform: [{nums[0]}, {nums[1]}]: the low bound comes first")
    return Latency(dist=str(dist), a=float(nums[0]), b=float(nums[1]) if want == 2 else 0.0)


def _random(doc: object, where: str) -> RandomFaults:
    section = _mapping(doc, where, "random")
    _known(section, RANDOM_KEYS, where, "random")
    rates = _mapping(section.get("rates"), where, "random.rates")
    out: list[tuple[str, float]] = []
    for key, rate in rates.items():
        name = str(key)
        if name != "reset" and (not name.isdigit() or int(name) not in STATUSES):
            raise FaultsError(f"graphtape: {where}: random.rates: {key!r}: write a status "
                              f"({', '.join(map(str, STATUSES))}) or reset")
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            raise FaultsError(f"graphtape: {where}: random.rates.{name}: {rate!r} is not a rate from 0 to 1 "
                              "(0.05: one request in twenty)")
        out.append((name, float(rate)))
    if sum(r for _, r in out) > 1:
        raise FaultsError(f"graphtape: {where}: random.rates add up to more than 1")
    retry_after = _seconds(section, "retry_after", where, "random", 1.0)
    return RandomFaults(tuple(out), retry_after or 0.0, _match(section, where, "random"))


# ---------------------------------------------------------------------- messages

def _mapping(doc: object, where: str, at: str) -> Mapping[str, Any]:
    if not isinstance(doc, Mapping):
        raise FaultsError(f"graphtape: {where}: {at}: expected a mapping (key: value), found "
                          f"{type(doc).__name__}")
    return doc


def _known(doc: Mapping[str, Any], keys: tuple[str, ...], where: str, at: str) -> None:
    for key in doc:
        if key not in keys:
            raise FaultsError(f"graphtape: {where}: {at}: unknown key {key!r}{_close(str(key), keys)} "
                              f"(known: {', '.join(keys)})")


def _close(word: str, choices: tuple[str, ...] | list[str]) -> str:
    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {found[0]!r}?" if found else ""
