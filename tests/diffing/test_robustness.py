"""The differ never raises, whatever the bodies, content types and URLs (hypothesis)."""

from __future__ import annotations

import base64
import re

from dev.deviations import format_deviations
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphtape.bodies.kinds import decode_base64_mime
from graphtape.diffing.core import diff_interactions, diff_requests, nearest
from graphtape.model import Deviation, HttpRequest, HttpResponse, Interaction

CONTENT_TYPES = st.one_of(
    st.sampled_from(
        [
            "application/json",
            "application/json; charset=utf-8",
            "text/plain",
            "message/rfc822",
            "application/octet-stream",
            "text/html; charset=klingon",
            "",
        ]
    ),
    st.text(max_size=30),
)
MIME_PIECES = st.one_of(
    st.sampled_from(
        [
            b"Content-Type: multipart/mixed; boundary=b\r\n",
            b'Content-Type: multipart/alternative; boundary="b"\r\n',
            b"Content-Type: text/plain; charset=klingon\r\n",
            b"Content-Transfer-Encoding: base64\r\n",
            b"Content-Transfer-Encoding: quoted-printable\r\n",
            b"Content-Disposition: attachment; filename*=utf-8''%FF%FE\r\n",
            b"Subject: =?utf-8?q?broken=E2?=\r\n",
            b'To: <<@>>, a@b, "unclosed <x@y>\r\n',
            b"Date: yesterday\r\n",
            b" folded continuation\r\n",
            b"\r\n",
            b"--b\r\n",
            b"--b--\r\n",
            b"AAA=\r\n",
            b"=ZZ=\r\n",
        ]
    ),
    st.binary(max_size=24),
)
MIME_BYTES = st.lists(MIME_PIECES, max_size=30).map(lambda pieces: b"Subject: x\r\n" + b"".join(pieces))
JSONISH = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
).map(lambda v: repr(v).replace("'", '"').encode())
BODIES = st.one_of(st.binary(max_size=200), MIME_BYTES, MIME_BYTES.map(base64.encodebytes), JSONISH)
URLS = st.one_of(
    st.sampled_from(
        [
            "https://graph.microsoft.com/v1.0/me/sendMail",
            "https://graph.microsoft.com/v1.0//me/messages?$select=a,b&$expand=x($select=c,d",
            "https://graph.microsoft.com/beta/me/messages/%ZZ?%%%=&&",
            "http://[::1/broken",
            "not a url",
            "",
        ]
    ),
    st.text(max_size=40),
)
HEADERS = st.lists(
    st.tuples(st.sampled_from(["Content-Type", "prefer", "Accept", "If-Match", "X-Other"]), st.text(max_size=20)),
    max_size=4,
)


@st.composite
def requests(draw: st.DrawFn) -> HttpRequest:
    headers = [("Content-Type", draw(CONTENT_TYPES)), *draw(HEADERS)]
    return HttpRequest(draw(st.text(max_size=6)), draw(URLS), headers, draw(BODIES))


@st.composite
def responses(draw: st.DrawFn) -> HttpResponse:
    return HttpResponse(draw(st.integers(0, 999)), "", [("Content-Type", draw(CONTENT_TYPES))], draw(BODIES))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests(), requests())
def test_diff_requests_never_raises(recorded: HttpRequest, actual: HttpRequest) -> None:
    devs = diff_requests(recorded, actual)
    assert all(isinstance(d, Deviation) for d in devs)
    format_deviations(devs)
    assert diff_requests(recorded, recorded) == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests(), responses(), requests(), responses())
def test_diff_interactions_never_raises(q1: HttpRequest, r1: HttpResponse, q2: HttpRequest, r2: HttpResponse) -> None:
    format_deviations(diff_interactions(Interaction(q1, r1), Interaction(q2, r2)))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests(), st.lists(requests(), max_size=6))
def test_nearest_never_raises(probe: HttpRequest, candidates: list[HttpRequest]) -> None:
    found = nearest(probe, candidates)
    assert len(found) == min(3, len(candidates))
    assert len({i for i, _ in found}) == len(found)


@settings(max_examples=2000)
@given(
    st.one_of(
        st.text(alphabet="AB+/=\r\n \t-", max_size=24).map(str.encode),
        st.binary(max_size=16),
        st.binary(max_size=60).map(base64.encodebytes),
    )
)
def test_the_base64_decoder_agrees_with_a_regex_reference(body: bytes) -> None:
    """decode_base64_mime (C, strict mode) against the plain definition: strip whitespace, check, decode."""
    compact = re.sub(rb"[\r\n\t ]+", b"", body)
    valid = bool(compact) and len(compact) % 4 == 0 and re.fullmatch(rb"[A-Za-z0-9+/]*={0,2}", compact)
    expected = base64.b64decode(compact, validate=True) if valid else None
    assert decode_base64_mime(body) == expected
