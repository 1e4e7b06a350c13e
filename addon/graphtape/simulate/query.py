"""A list request's OData query options over a collection of resources, as Graph's mail store answers them.

``run_query(items, params)`` applies ``$filter`` (odata_filter.py), ``$orderby``, ``$count``, ``$skip``,
``$top`` and ``$select`` to resources (dicts as Graph answers GET) and returns one page with the query string
of the next (``$skip`` advanced, as Outlook's ``@odata.nextLink`` carries it). ``$top`` is the page size, as
for Outlook lists; without it, ``page_size`` (Graph's default for messages is 10; the caller passes
``Prefer: odata.maxpagesize``). Property paths, and the types of the literals ``$filter`` compares them with, are
checked against Graph's metadata (edm.py).

Bad input raises ``QueryError`` with the status, code and message Graph gives (public reports of real
answers; see each constant). Options the simulator does not simulate (``$search``, ``$expand``) raise a 501
``graphtape.NotSimulated``, never a silent success; ``$skiptoken``/``$deltatoken`` are the caller's.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .edm import Prop, edm_name, properties
from .odata_filter import FilterSyntaxError, Node, comparable, comparisons, evaluate, parse_filter, paths, resolve

ALWAYS_SELECTED = ("@odata.etag", "id")  # Graph answers these whatever $select names
CALLER_OPTIONS = frozenset({"$skiptoken", "$deltatoken"})  # paging/delta state: the route's, not a query's
NOT_SIMULATED = frozenset({"$search", "$expand", "$levels", "$apply", "$compute", "$format"})
OPTIONS = frozenset({"$select", "$filter", "$orderby", "$top", "$skip", "$count"})
MAX_PAGE = 1000  # "Use $top to customize the page size, within the range of 1 and 1000" (list messages doc page)
# Outlook's answer when $orderby's properties are not the first ones $filter names (the message-list doc page).
INEFFICIENT = ("InefficientFilter", "The restriction or sort order is too complex for this operation.")


class QueryError(Exception):
    """A query option Graph refuses: ``status`` (400 unless not simulated), ``code`` and ``message``."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


@dataclass
class QueryPage:
    items: list[dict[str, Any]]
    count: int | None  # $count=true: how many match the filter (all pages)
    next_params: dict[str, str] | None  # the query string of @odata.nextLink; None on the last page


def run_query(
    items: Sequence[Mapping[str, Any]], params: Mapping[str, str], *, page_size: int = 10,
    entity: str = "message", version: str = "v1.0", hidden: Collection[str] = (),
) -> QueryPage:
    """One page of ``items`` as the query options in ``params`` (the decoded query string) ask.

    ``hidden``: properties the items hold that Graph answers only when ``$select`` names them
    (``internetMessageHeaders``, ``uniqueBody``); they can still be filtered and sorted on.
    """
    options = _options(params)
    names = options.get("$select")
    select = _select(names, entity, version) if names is not None else None
    keep = _filter(options["$filter"], entity, version) if "$filter" in options else None
    order = _orderby(options["$orderby"], entity, version) if "$orderby" in options else []
    if keep is not None and order:
        _check_efficient(keep, order)
    count = _boolean_option("$count", options["$count"]) if "$count" in options else False
    skip = _integer_option("$skip", options.get("$skip", "0"))
    top = min(_integer_option("$top", options["$top"]) if "$top" in options else page_size, MAX_PAGE)
    matched = [item for item in items if keep is None or evaluate(keep, item) is True]
    ordered = sort_items(matched, order)
    page = ordered[skip:skip + top]
    next_params = None
    if top and skip + top < len(ordered):
        next_params = {**params, _name(params, "$skip"): str(skip + top)}
    answered = [_project(item, select, hidden) for item in page]
    return QueryPage(answered, len(matched) if count else None, next_params)


def _name(params: Mapping[str, str], option: str) -> str:
    return next((key for key in params if key.lower() == option), option)


def _options(params: Mapping[str, str]) -> dict[str, str]:
    """The query options by lower-case name (Graph reads ``$Top`` as ``$top``); unknown ``$`` options refused."""
    options: dict[str, str] = {}
    for key, value in params.items():
        name = key.lower()
        if name in OPTIONS:
            options[name] = value
        elif name in NOT_SIMULATED:
            raise QueryError(
                "graphtape.NotSimulated",
                f"The simulator does not answer the {name} query option. Drop it from the request, or record "
                "the call against Graph (graphtape record) and replay the cassette.",
                status=501,
            )
        elif name.startswith("$") and name not in CALLER_OPTIONS:
            raise QueryError("BadRequest", f"The query parameter '{key}' is not supported.")
    return options


def _integer_option(name: str, text: str) -> int:
    if text.strip().isdigit():
        return int(text)
    raise QueryError(
        "BadRequest", f"Invalid value '{text}' for {name} query option found. "
        f"The {name} query option requires a non-negative integer value.")


def _boolean_option(name: str, text: str) -> bool:
    if text.strip().lower() in ("true", "false"):
        return text.strip().lower() == "true"
    raise QueryError("BadRequest", f"'{text}' is not a valid count option.")


def _type_name(type_name: str) -> str:
    return f"Microsoft.OutlookServices.{type_name[:1].upper()}{type_name[1:]}"


def check_path(segments: Sequence[str], entity: str, version: str) -> Prop | None:
    """The property a path names (QueryError as Graph words it if the entity has none); None in an open type."""
    owner, props = entity, properties(entity, version)
    prop = None
    for i, name in enumerate(segments):
        if not props:
            return None  # below a primitive or an unknown type: nothing to check against
        if name not in props:
            raise QueryError("RequestBroker--ParseUri",
                             f"Could not find a property named '{name}' on type '{_type_name(owner)}'.")
        prop = props[name]
        if prop.collection and i < len(segments) - 1:
            raise QueryError(
                "BadRequest", f"The parent value for a property access of a property '{segments[i + 1]}' is not a "
                "single value. Property access can only be applied to a single value.")
        owner = prop.type
        props = properties(prop.type, version) if prop.kind in ("complex", "entity") else {}
    return prop


def _select(text: str, entity: str, version: str) -> list[str] | None:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if "*" in names:
        return None
    for name in names:
        check_path(name.split("/"), entity, version)
    return names


def _project(item: Mapping[str, Any], select: list[str] | None, hidden: Collection[str]) -> dict[str, Any]:
    if select is None:
        return {key: value for key, value in item.items() if key not in hidden}
    wanted = [*ALWAYS_SELECTED, *select]
    return {key: item[key] for key in item if key in wanted or (key.startswith("@odata.") and key != "@odata.context")}


def _filter(text: str, entity: str, version: str) -> Node:
    try:
        tree = parse_filter(text)
    except FilterSyntaxError as e:
        detail = f"{e.detail} at position {e.position} in '{text}'"
        raise QueryError("BadRequest", f"Invalid filter clause: {detail}.") from None
    for segments in paths(tree):
        check_path(segments, entity, version)
    for op, segments, literal in comparisons(tree):
        _check_operands(op, check_path(segments, entity, version), literal)
    return tree


_OPERATOR_KINDS = {"eq": "Equal", "ne": "NotEqual", "gt": "GreaterThan", "ge": "GreaterThanOrEqual",
                   "lt": "LessThan", "le": "LessThanOrEqual"}
_NUMBERS = frozenset({"Edm.Int32", "Edm.Int64", "Edm.Double"})
_SAME = {"Edm.DateTimeOffset": {"Edm.DateTimeOffset", "Edm.Date"}, **{n: _NUMBERS for n in _NUMBERS}}


def _check_operands(op: str, prop: Prop | None, literal: Node) -> None:
    """OData's binder: a literal of another type than the property's is refused (null compares with anything)."""
    if prop is None or not literal.edm or prop.collection:
        return
    if prop.kind == "enum" and literal.edm == "Edm.String":
        if str(literal.value).lower() not in prop.members:
            raise QueryError("BadRequest", f"The string '{literal.value}' is not a valid enumeration type constant.")
        return
    if prop.kind == "edm" and literal.edm in _SAME.get(prop.type, {prop.type}):
        return
    raise QueryError(
        "BadRequest", "A binary operator with incompatible types was detected. Found operand types "
        f"'{edm_name(prop.type)}' and '{literal.edm}' for operator kind '{_OPERATOR_KINDS[op]}'.")


def _orderby(text: str, entity: str, version: str) -> list[tuple[tuple[str, ...], bool]]:
    """(path, descending) per key of a ``$orderby`` value."""
    keys = []
    for part in text.split(","):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise QueryError("BadRequest", f"Invalid $orderby clause: '{part.strip()}'; use 'property [asc|desc]'.")
        segments = tuple(words[0].split("/"))
        prop = check_path(segments, entity, version)
        if prop is not None and (prop.collection or prop.kind in ("complex", "entity")):
            raise QueryError("BadRequest", "The $orderby expression must evaluate to a single value of primitive type.")
        keys.append((segments, len(words) == 2 and words[1].lower() == "desc"))
    return keys


def _check_efficient(keep: Node, order: list[tuple[tuple[str, ...], bool]]) -> None:
    """Outlook: each $orderby property must appear in $filter, first and in the same order."""
    named = list(dict.fromkeys(paths(keep)))
    if named[:len(order)] != [segments for segments, _ in order]:
        raise QueryError(*INEFFICIENT)


_EPOCH = datetime.datetime.min.replace(tzinfo=datetime.UTC)


def _sort_key(value: Any) -> tuple[int, Any]:
    """Nulls first (OData's smallest), then by type so mixed values never compare across types."""
    value = comparable(value)
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, value)
    if isinstance(value, int | float):
        return (2, value)
    if isinstance(value, datetime.datetime):
        return (3, value)
    if isinstance(value, str):
        return (4, value)
    return (5, repr(value))


def sort_items(
    items: list[Mapping[str, Any]], order: Sequence[tuple[tuple[str, ...], bool]]
) -> list[Mapping[str, Any]]:
    """``items`` sorted by the keys (path, descending), first key first; stable for equal keys."""
    ordered = list(items)
    for segments, descending in reversed(order):
        ordered.sort(key=lambda item: _sort_key(resolve(item, segments)), reverse=descending)
    return ordered
