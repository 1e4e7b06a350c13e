"""The differ's shortcuts give exactly what the long way gives.

- ``diff_json`` skips deepdiff when both values have the same canonical JSON text;
- ``_split_items`` splits on every comma when nothing is nested in parentheses;
- ``header_values`` reads the headers in one pass instead of one pass per compared header.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphtape.diffing import body as diffing_body
from graphtape.diffing import core as diffing
from graphtape.diffing.body import _deepdiff, diff_json, shrink
from graphtape.diffing.core import COMPARED_REQUEST_HEADERS, COMPARED_RESPONSE_HEADERS, _split_items, header_values
from graphtape.model import Headers

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-3, max_value=3)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([0.0, -0.0, 1.0, 2.0, math.nan, math.inf])
    | st.text(max_size=6)
    | st.sampled_from(["line 1\nline 2", "line 1\nline 3", "a" * (diffing_body.BIG_STRING + 1)])
)
keys = st.sampled_from(["a", "b", "@odata.type", "to Recipients", "x"])
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=4), max_leaves=12
)


@st.composite
def variants(draw: st.DrawFn, value: Any) -> Any:
    """``value`` with keys reordered and, now and then, one leaf swapped for a look-alike (1 -> 1.0, True -> 1)."""
    if isinstance(value, dict):
        items = [(k, draw(variants(v))) for k, v in value.items()]
        return dict(draw(st.permutations(items)))
    if isinstance(value, list):
        return [draw(variants(v)) for v in value]
    if draw(st.integers(0, 4)) == 0:
        look_alikes: list[Any] = [value]
        if isinstance(value, bool):
            look_alikes += [int(value), float(value)]
        elif isinstance(value, int):
            look_alikes += [float(value), bool(value) if value in (0, 1) else value]
        elif isinstance(value, float) and not math.isnan(value) and value.is_integer() and abs(value) < 1e15:
            look_alikes += [int(value), -value]
        elif isinstance(value, float) and math.isnan(value):
            look_alikes += [float("nan")]  # another NaN object
        return draw(st.sampled_from(look_alikes))
    return value


def _lines(deviations: list[Any]) -> list[str]:
    return [d.line() for d in deviations]  # repr-based: NaN compares equal to NaN here


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), value=json_values)
def test_json_diff_equals_deepdiff_on_look_alike_values(data: st.DataObject, value: Any) -> None:
    other = data.draw(variants(value))
    assert _lines(diff_json("body", value, other)) == _lines(_deepdiff("body", shrink(value), shrink(other)))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(a=json_values, b=json_values)
def test_json_diff_equals_deepdiff_on_any_values(a: Any, b: Any) -> None:
    assert _lines(diff_json("body", a, b)) == _lines(_deepdiff("body", shrink(a), shrink(b)))


def test_equal_documents_in_another_key_order_do_not_reach_deepdiff(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("deepdiff ran on equal documents")

    monkeypatch.setattr(diffing_body, "DeepDiff", refuse)
    recorded = {"subject": "Hi", "toRecipients": [{"emailAddress": {"address": "a@b.c"}}], "n": 1.5, "x": None}
    actual = {"x": None, "n": 1.5, "toRecipients": [{"emailAddress": {"address": "a@b.c"}}], "subject": "Hi"}
    assert diff_json("body", recorded, actual) == []
    assert diff_json("body", {"v": math.nan}, {"v": float("nan")}) == []  # NaN equals NaN, as deepdiff is told


@pytest.mark.parametrize(
    ("recorded", "actual"),
    [({"size": 1}, {"size": 1.0}), ({"flag": True}, {"flag": 1}), ({"v": 0.0}, {"v": -0.0}), ([1, 2], [2, 1])],
)
def test_look_alike_values_take_the_long_way(recorded: Any, actual: Any) -> None:
    assert _lines(diff_json("body", recorded, actual)) == _lines(_deepdiff("body", recorded, actual))


def test_a_changed_type_is_still_a_deviation() -> None:
    assert _lines(diff_json("body", {"size": 1}, {"size": 1.0})) == ["body.size: 1 -> 1.0"]


# ---- query and header items ------------------------------------------------------------------

@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab ,()\t$")), max_size=24))
def test_split_items_equals_the_nested_split(value: str) -> None:
    assert _split_items(value) == diffing._split_nested(value)


def _header_values_per_name(headers: Headers, names: tuple[str, ...]) -> dict[str, Any]:
    """The former implementation: one scan of the headers per compared name."""
    out: dict[str, Any] = {}
    for name in names:
        lname = name.lower()
        values = [v for k, v in headers if k.lower() == lname]
        if not values:
            continue
        joined = " ".join(", ".join(values).split())
        if lname == "content-type":
            out[name] = diffing._content_type(values[0])
        elif lname in diffing._SET_VALUED_HEADERS:
            out[name] = ", ".join(sorted(set(_split_items(joined))))
        else:
            out[name] = joined
    return out


header_names = st.sampled_from([*COMPARED_REQUEST_HEADERS, *COMPARED_RESPONSE_HEADERS, "Authorization", "X-Other"])
header_lists = st.lists(
    st.tuples(header_names.map(lambda n: st.sampled_from([n, n.lower(), n.upper()])).flatmap(lambda s: s),
              st.sampled_from(["a", "b, a", " text/plain; charset=UTF-8 ", "odata.maxpagesize=2", ""])),
    max_size=8,
)


@settings(max_examples=400, deadline=None)
@given(headers=header_lists)
def test_header_values_in_one_pass_equal_one_pass_per_name(headers: Headers) -> None:
    for names in (COMPARED_REQUEST_HEADERS, COMPARED_RESPONSE_HEADERS):
        assert header_values(headers, names) == _header_values_per_name(headers, names)
