"""Property-based hardening: any body survives cassette + real proxy byte for byte; the MIME validator, the
differ, the pseudonymizer and the bounded decoder never raise on arbitrary input."""

from __future__ import annotations

import base64
import gzip
import zlib

import brotli
import httpx
import pytest
import zstandard
from dev.harness import ProxyProcess
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from mitmproxy.net import encoding

from graphtape.bodies.limits import BodyTooLarge, decode_bounded
from graphtape.cassette.format import save_cassette
from graphtape.contract import validate_request
from graphtape.diffing.core import diff_requests
from graphtape.model import HttpRequest, HttpResponse, Interaction
from graphtape.privacy.pseudonymize import Pseudonymizer

GRAPH = "https://graph.microsoft.com/v1.0"
CONTENT_TYPES = ["application/json", "application/json; charset=utf-8", "text/plain", "text/html; charset=utf-8",
                 "application/octet-stream", "message/rfc822", "", "multipart/mixed; boundary=x", "image/png"]
bodies = st.one_of(st.binary(max_size=3000), st.text(max_size=500).map(str.encode),
                   st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                                lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids,
                                                                                           max_size=4),
                                max_leaves=12).map(lambda v: __import__("json").dumps(v).encode()))


@pytest.mark.slow
@settings(max_examples=3, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.tuples(bodies, st.sampled_from(CONTENT_TYPES), bodies, st.sampled_from(CONTENT_TYPES)),
                min_size=12, max_size=12))
def test_any_body_and_content_type_replays_identically_on_the_wire(tmp_path_factory, confdir, cases):
    """Each example: a cassette of 12 interactions with arbitrary bodies, served by one real proxy."""
    path = tmp_path_factory.mktemp("prop") / "c.yaml"
    items = [Interaction(HttpRequest("POST", f"{GRAPH}/me/messages/AAMk{i}/attachments",
                                     [("Content-Type", qt)] if qt else [], q),
                         HttpResponse(200, "OK", [("Content-Type", rt)] if rt else [], r))
             for i, (q, qt, r, rt) in enumerate(cases)]
    save_cassette(path, items)
    with ProxyProcess(["replay", str(path), "--policy", "report", "--quiet"], confdir) as p, \
            httpx.Client(proxy=p.url, verify=str(p.ca), timeout=30) as c:
        for i, (q, qt, r, _) in enumerate(cases):
            with c.stream("POST", f"{GRAPH}/me/messages/AAMk{i}/attachments", content=q,
                          headers={"Content-Type": qt} if qt else {}) as resp:
                raw = b"".join(resp.iter_raw())
            assert resp.status_code == 200, raw[:300]
            assert raw == r, i
    assert f"matched {len(cases)}, unmatched 0" in p.stderr
    assert "deviation body" not in p.output  # the request bodies matched their recordings exactly


# --------------------------------------------------------------------------- MIME that looks like MIME

header_values = st.one_of(
    st.text(max_size=40),
    st.builds(lambda n, a: f'"{n}" <{a}@contoso.com>', st.text(max_size=12),
              st.from_regex(r"[a-z.]{1,10}", fullmatch=True)),
    st.builds(lambda t: f"=?utf-8?b?{base64.b64encode(t.encode()).decode()}?=", st.text(max_size=12)),
    st.sampled_from(["=?utf-8?q?broken", "=?bogus-charset?b?AAAA?=", "<>", ",,,", "a@", "@b", "undisclosed:;"]),
)
headers = st.lists(st.tuples(st.sampled_from(["From", "To", "Cc", "Bcc", "Subject", "Content-Type",
                                              "Content-Transfer-Encoding", "MIME-Version", "X-Odd", "Reply-To"]),
                             header_values), max_size=8)


@st.composite
def mime_messages(draw) -> bytes:
    lines = [f"{k}: {v}" for k, v in draw(headers)]
    boundary = draw(st.sampled_from(["b1", "", "x" * 80, "=_weird boundary"]))
    if draw(st.booleans()):
        lines.append(f'Content-Type: multipart/mixed; boundary="{boundary}"')
        types = ["text/plain", "text/html", "application/pdf", "message/rfc822"]
        parts = draw(st.lists(st.tuples(st.sampled_from(types),
                                        st.sampled_from(["base64", "quoted-printable", "7bit", "x-bogus"]),
                                        st.text(max_size=60)), max_size=3))
        body = "".join(f"--{boundary}\r\nContent-Type: {t}\r\nContent-Transfer-Encoding: {e}\r\n\r\n{c}\r\n"
                       for t, e, c in parts) + (f"--{boundary}--\r\n" if draw(st.booleans()) else "")
    else:
        body = draw(st.text(max_size=200))
    newline = draw(st.sampled_from(["\r\n", "\n"]))
    return (newline.join(lines) + newline + newline + body).encode("utf-8", "surrogatepass")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mime_messages(), mime_messages(), st.sampled_from(["/me/sendMail", "/me/messages", "/me/messages/AAMk=/send"]))
def test_mime_validation_and_diffing_never_raise_on_mime_shaped_input(a, b, path):
    reqs = [HttpRequest("POST", GRAPH + path, [("Content-Type", "text/plain")], base64.b64encode(m)) for m in (a, b)]
    for req in reqs:
        assert isinstance(validate_request(req), list)
    assert isinstance(diff_requests(reqs[0], reqs[1]), list)


# --------------------------------------------------------------------------- the pseudonymizer

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30)
    | st.sampled_from(["megan@contoso.com", "Megan Bowen", "72f988bf-86f1-41af-91ab-2d7cd011db47"]),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(
        st.sampled_from(["name", "address", "displayName", "subject", "emailAddress", "x"]), kids, max_size=4),
    max_leaves=15)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(min_size=16, max_size=16), json_values, mime_messages(), st.text(max_size=60))
@example(bytes(16), None, b'From: [["@\r\n\r\n', "")  # an empty address item was written as ", " again each time
@example(bytes(16), None, b"To: a@contoso.com, , b@contoso.com\r\n\r\n", "")
def test_pseudonymizing_never_raises_is_stable_and_idempotent(salt, value, mime, path):
    import json

    pz = Pseudonymizer(salt)
    body = json.dumps(value).encode()
    req = HttpRequest("POST", f"{GRAPH}/users/{path}/messages?$filter={path}", [("Content-Type", "application/json"),
                                                                                ("X-Odd", path)], body)
    once = pz.request(req)
    assert pz.request(req) == once  # the same input, the same fake values
    assert pz.request(once) == once  # fake values are left as they are: a fake-using client still matches
    mreq = HttpRequest("POST", f"{GRAPH}/me/sendMail", [("Content-Type", "text/plain")], base64.b64encode(mime))
    m1 = pz.request(mreq)
    assert pz.request(m1) == m1
    if b"megan@contoso.com" in body:
        assert b"megan@contoso.com" not in once.body


# --------------------------------------------------------------------------- the bounded decoder

ENCODERS = {"gzip": gzip.compress, "deflate": zlib.compress, "br": brotli.compress,
            "zstd": lambda d: zstandard.ZstdCompressor().compress(d)}


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=5000), st.sampled_from(sorted(ENCODERS)), st.integers(0, 6000))
def test_bounded_decoding_agrees_with_mitmproxy_up_to_the_limit(data, enc, limit):
    packed = ENCODERS[enc](data)
    if len(data) > limit:
        with pytest.raises(BodyTooLarge):
            decode_bounded(packed, enc, limit)
    else:
        assert decode_bounded(packed, enc, limit) == data == encoding.decode(packed, enc)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400), st.sampled_from([*sorted(ENCODERS), "identity", "x-unknown", ""]))
def test_bounded_decoding_of_garbage_gives_the_bytes_back(garbage, enc):
    out = decode_bounded(garbage, enc, 10_000)
    assert out == garbage or out == encoding.decode(garbage, enc)
