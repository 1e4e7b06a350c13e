"""normalise_path's fast path (a path with nothing to decode or encode is returned as it is) gives what the
per-segment quote(unquote()) gives, for every path: generated ones and the spellings clients send."""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphtape.graph import normalise_path, parse_query


def reference(path: str) -> str:
    """normalise_path before the fast path: every segment decoded and encoded again."""
    path = re.sub(r"/{2,}", "/", path)
    return "/".join(quote(unquote(seg), safe="!$&'()*+,;=:@-._~") for seg in path.split("/"))


PATHS = ["/v1.0/me/sendMail", "/beta/me/messages/AAMkAGRWAAAFSmK000002AAA%3D/send", "/v1.0//me", "/",
         "", "/v1.0/users/u@x.com/messages", "/v1.0/me/messages/AAMk=/attachments", "/v1.0/me/a%2Fb",
         "/v1.0/me/caf\u00e9", "/v1.0/me/a b", "/v1.0/me/a%zz", "/v1.0/me/$value", "/v1.0/me/x?y", "///"]


@pytest.mark.parametrize("path", PATHS)
def test_client_spellings_normalise_as_before(path: str) -> None:
    assert normalise_path(path) == reference(path)


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet=st.sampled_from("/%3DAaz09-._~!$&'()*+,;=:@ #?[]\"<>\\^`{|}\u00e9\u2603"), max_size=30))
def test_generated_paths_normalise_as_before(path: str) -> None:
    assert normalise_path(path) == reference(path)


def test_an_empty_query_is_no_parameters() -> None:
    assert parse_query("") == ()
    assert parse_query("a=1&b=") == (("a", "1"), ("b", ""))
