"""Upload chunks kept as a digest: the cassette form, the parse cache, matching by URL and range, diffing."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

import pytest

from graphtape.bodies.digest import BodyDigest
from graphtape.cassette import cache
from graphtape.cassette.format import CassetteError, load_cassette, save_cassette
from graphtape.cassette.recorder import Recorder, RecordMode
from graphtape.diffing.core import diff_requests
from graphtape.model import HttpRequest, HttpResponse, Interaction
from graphtape.privacy.redaction import Redactor
from graphtape.replay.matching import Matcher

UPLOAD = ("https://outlook.office.com/api/v2.0/Users('u@contoso.com')/Messages('AAMk=')/"
          "AttachmentSessions('AAMkS=')?authtoken=")
SIZE = 6 * 1024 * 1024


def _b64url(data: bytes) -> str:
    """A JWT part, built here: the repo holds no token-shaped literal."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def chunk(start: int, data: bytes, token: str = "<redacted>") -> HttpRequest:
    rng = f"bytes {start}-{start + len(data) - 1}/{SIZE}"
    return HttpRequest("PUT", UPLOAD + token, [("Content-Range", rng), ("Content-Type", "application/octet-stream")],
                       data)


def recorded(start: int, data: bytes) -> HttpRequest:
    live = chunk(start, data)
    return HttpRequest(live.method, live.url, live.headers, b"", BodyDigest.of(data))


def test_a_digest_body_round_trips_through_the_cassette_and_the_cache(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = os.urandom(4096)
    items = [Interaction(recorded(0, data), HttpResponse(200, "OK", [], b'{"nextExpectedRanges":["4096"]}'))]
    path = tmp_path / "c.yaml"
    save_cassette(path, items)
    text = path.read_text()
    assert f"sha256: {hashlib.sha256(data).hexdigest()}" in text and "size: 4096" in text
    monkeypatch.setenv(cache.DIR_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(cache, "MIN_BYTES", 0)
    first, second = load_cassette(path), load_cassette(path)  # the YAML parse, then the cache's entry
    assert first.interactions == second.interactions == items
    assert second.interactions[0].request.body_digest == BodyDigest.of(data)


@pytest.mark.parametrize(("body", "error"), [
    ("{sha256: abc, size: 3}", "64 lower-case hex digits"),
    ("{sha256: " + "a" * 64 + ", size: -1}", "body.size must be"),
    ("{sha256: " + "a" * 64 + ", size: 3, text: x}", "unknown key 'text'"),
])
def test_a_broken_digest_body_is_refused_with_its_line(tmp_path: Path, body: str, error: str) -> None:
    good = tmp_path / "good.yaml"
    save_cassette(good, [Interaction(recorded(0, b"abc"), HttpResponse(200))])
    text = good.read_text()
    start = text.index("sha256:")
    end = text.index("\n", text.index("size:", start))
    bad = tmp_path / "bad.yaml"
    bad.write_text(text[:start] + body.strip("{}").replace(", ", "\n      ") + text[end:])
    with pytest.raises(CassetteError, match=error):
        load_cassette(bad)


def test_chunks_match_by_url_and_range_and_their_digest() -> None:
    a, b = os.urandom(1000), os.urandom(1000)
    interactions = [Interaction(recorded(0, a), HttpResponse(200)), Interaction(recorded(1000, b), HttpResponse(201))]
    matcher = Matcher(interactions)
    live_token = "eyJ" + "x" * 20  # the live authtoken: the recording has it <redacted>
    assert matcher.find(chunk(1000, b, live_token)).index == 1  # by range, not by recorded order
    assert matcher.find(chunk(0, a, live_token)).index == 0
    assert matcher.find(chunk(2000, a, live_token)).index is None  # a range never recorded


def test_a_chunk_with_other_bytes_is_a_deviation_and_the_same_bytes_none() -> None:
    data = os.urandom(2048)
    assert diff_requests(recorded(0, data), chunk(0, data)) == []
    other = bytearray(data)
    other[100] ^= 1
    (dev,) = diff_requests(recorded(0, data), chunk(0, bytes(other)))
    assert dev.path == "body.sha256" and dev.recorded == hashlib.sha256(data).hexdigest()[:16]
    devs = diff_requests(recorded(0, data), chunk(0, data[:-1]))
    assert {d.path for d in devs} >= {"body.sha256", "body.size"}


@pytest.mark.parametrize("mode", ["digest", "full"])
def test_the_recorder_keeps_a_chunk_as_asked_and_never_the_authtoken(tmp_path: Path, mode: str) -> None:
    data = os.urandom(3000)
    path = tmp_path / "rec.yaml"
    secret = ".".join(_b64url(part) for part in (b'{"alg":"none"}', b'{"sid":"xxxxxx"}', b"signature"))
    recorder = Recorder(path, RecordMode.NEW, Redactor(), upload_bodies=mode)
    recorder.add(Interaction(chunk(0, data, secret), HttpResponse(200, "OK", [], b"")))
    recorder.close()
    (got,) = load_cassette(path).interactions
    assert secret not in path.read_text() and "authtoken=<redacted>" in got.request.url
    if mode == "digest":
        assert got.request.body == b"" and got.request.body_digest == BodyDigest.of(data)
    else:
        assert got.request.body == data and got.request.body_digest is None


def test_pseudonymizing_leaves_a_chunks_bytes_as_its_digest_has_them() -> None:
    from graphtape.privacy.pseudonymize import Pseudonymizer

    data = b"To: Megan Bowen <megan@contoso.com>\n" * 100  # a text file being attached
    req = chunk(0, data)
    out = Pseudonymizer.new().request(req)
    assert out.body == data
    assert [d.path for d in diff_requests(recorded(0, data), out)] == ["path"]  # the address in the URL only
