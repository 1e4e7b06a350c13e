"""Bad and unusual traffic through the real proxy: odd bodies, bombs, big bodies, chunked, HTTP/2, clients
that hang up, 16 at once, and an upstream that fails. After each, the proxy still answers a good request."""

from __future__ import annotations

import concurrent.futures
import json
import socket
import subprocess
import threading
import time
import zlib
from pathlib import Path
from typing import Any

import httpx
import pytest
from dev.harness import ProxyProcess
from hardening_upstream import HANG_SECONDS, Upstream, peak_rss_mb

from graphtape.bodies.limits import DEFAULT_MAX_BODY_MB
from graphtape.cassette.format import load_cassette, save_cassette
from graphtape.model import HttpRequest, HttpResponse, Interaction

MESSAGES = "https://graph.microsoft.com/v1.0/me/messages"
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def upstream(tmp_path_factory):
    with Upstream(tmp_path_factory.getbasetemp() / "upstream-cert") as u:
        yield u


def recorder(proxy, cassette: Path, upstream: Upstream, *extra: str) -> ProxyProcess:
    return proxy("record", str(cassette), "--upstream", upstream.url, "--upstream-ca", str(upstream.cert), *extra)


def pid_of(p: ProxyProcess) -> int:
    assert p.proc is not None
    return p.proc.pid


def client(p: ProxyProcess, **kw) -> httpx.Client:
    return httpx.Client(proxy=p.url, verify=str(p.ca), timeout=kw.pop("timeout", 30), **kw)


def good_request_works(p: ProxyProcess, subject: str = "after") -> None:
    with client(p) as c:
        r = c.post(MESSAGES, json={"subject": subject})
    assert r.status_code == 201 and r.json()["subject"] == subject, r.text


def after_cassette(path: Path, *more: Interaction) -> Path:
    """A replay cassette holding ``more`` and the good request ``good_request_works`` sends."""
    body = json.dumps({"subject": "after"}, separators=(",", ":")).encode()
    after = Interaction(HttpRequest("POST", MESSAGES, [("Content-Type", "application/json")], body),
                        HttpResponse(201, "Created", [("Content-Type", "application/json")],
                                     b'{"id":"AAMk1","subject":"after"}'))
    save_cassette(path, [*more, after])
    return path


# --------------------------------------------------------------------------- odd bodies and charsets

ODD: list[tuple[str, dict[str, Any], bytes]] = [  # header values: str, or bytes sent as they are
    ("malformed-json", JSON, b'{"subject": "x",'),
    ("bad-base64-mime", {"Content-Type": "text/plain"}, b"RnJvbTogYQ==!!not base64"),
    ("latin-1-json", {"Content-Type": "application/json; charset=iso-8859-1"}, '{"subject": "café"}'.encode("latin-1")),
    ("bom-json", JSON, b'\xef\xbb\xbf{"subject": "bom"}'),
    ("lone-surrogate", JSON, b'{"subject": "\\ud800"}'),
    ("utf-16-text", {"Content-Type": "text/plain; charset=utf-16"}, "hello".encode("utf-16")),
    ("non-utf8-header", {"Content-Type": "application/json", "X-Odd": b"caf\xe9"}, b'{"subject": "hdr"}'),
    ("empty-json", JSON, b""),
    ("binary", {"Content-Type": "application/octet-stream"}, bytes(range(256))),
]


def test_odd_bodies_and_charsets_are_recorded_and_replayed_byte_for_byte(tmp_path, proxy, upstream):
    cassette = tmp_path / "odd.yaml"
    rec = recorder(proxy, cassette, upstream)
    recorded: dict[str, tuple[int, bytes]] = {}
    with client(rec) as c:
        for name, headers, body in ODD:
            r = c.post(MESSAGES, content=body, headers=headers)
            recorded[name] = (r.status_code, r.content)
    good_request_works(rec)
    rec.stop()  # exits 1: the contract errors in these requests fail the session, as they should
    assert f"recorded {len(ODD) + 1}, not recorded 0, upstream failures 0" in rec.stderr
    assert "Traceback" not in rec.output
    assert len(load_cassette(cassette).interactions) == len(ODD) + 1
    assert [s for s, _ in recorded.values()] == [201] * len(ODD)

    rep = proxy("replay", str(cassette), "--policy", "report")  # serve even what the contract finds wrong
    with client(rep) as c:
        for name, headers, body in reversed(ODD):  # another order: matched by body, not by position
            r = c.post(MESSAGES, content=body, headers=headers)
            assert (r.status_code, r.content) == recorded[name], name
    good_request_works(rep)
    rep.stop()
    assert f"matched {len(ODD) + 1}, unmatched 0" in rep.stderr
    assert "Traceback" not in rep.output


# --------------------------------------------------------------------------- a gzip bomb


def gzip_bomb(megabytes: int) -> bytes:
    co = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1 << 20)
    return b"".join(co.compress(zeros) for _ in range(megabytes)) + co.flush()


BOMB_MB = 200


@pytest.fixture(scope="module")
def bomb() -> bytes:
    data = gzip_bomb(BOMB_MB)
    assert len(data) < 300_000  # 200 MB of zeros in ~200 KB
    return data


def test_a_gzip_bomb_is_refused_in_replay_without_inflating_it(tmp_path, proxy, bomb):
    p = proxy("replay", str(after_cassette(tmp_path / "c.yaml")))
    before = peak_rss_mb(pid_of(p))
    start = time.perf_counter()
    with client(p) as c:
        r = c.post(MESSAGES, content=bomb, headers={**JSON, "Content-Encoding": "gzip"})
    assert time.perf_counter() - start < 10
    assert r.status_code == 413 and r.json()["error"]["code"] == "graphtape.BodyTooLarge", r.text
    assert f"{DEFAULT_MAX_BODY_MB} MB body limit" in r.json()["error"]["message"]
    growth = peak_rss_mb(pid_of(p)) - before
    assert growth < BOMB_MB / 2, f"the proxy grew by {growth:.0f} MB"  # inflating it would take 200+ MB
    good_request_works(p)


def test_a_gzip_bomb_passes_through_record_unrecorded_and_the_session_says_so(tmp_path, proxy, upstream, bomb):
    cassette = tmp_path / "bomb.yaml"
    rec = recorder(proxy, cassette, upstream)
    before = peak_rss_mb(pid_of(rec))
    with client(rec) as c:
        r = c.post(MESSAGES, content=bomb, headers={**JSON, "Content-Encoding": "gzip"})
    assert r.status_code == 201 and r.json()["size"] == len(bomb)  # the upstream got the bytes as sent
    growth = peak_rss_mb(pid_of(rec)) - before
    assert growth < BOMB_MB / 2, f"the proxy grew by {growth:.0f} MB"
    good_request_works(rec)
    assert rec.stop() == 1  # something was not recorded: the session fails
    assert "recorded 1, not recorded 1" in rec.stderr
    assert f"the body, decoded, is over graphtape's {DEFAULT_MAX_BODY_MB} MB body limit" in rec.stderr
    assert [json.loads(i.request.body) for i in load_cassette(cassette).interactions] == [{"subject": "after"}]


# --------------------------------------------------------------------------- big bodies


@pytest.mark.slow
def test_a_5_mb_json_body_is_recorded_and_replayed(tmp_path, proxy, upstream):
    cassette = tmp_path / "big.yaml"
    doc = {"subject": "big", "body": {"contentType": "text", "content": "lorem ipsum " * (5 * 1024 * 1024 // 12)}}
    body = json.dumps(doc).encode()
    assert len(body) > 5 * 1024 * 1024
    rec = recorder(proxy, cassette, upstream, "--quiet")
    with client(rec, timeout=120) as c:
        first = c.post(MESSAGES, content=body, headers=JSON)
    assert first.status_code == 201 and first.json()["size"] == len(body)
    good_request_works(rec)
    rec.stop()
    assert "recorded 2, not recorded 0" in rec.stderr
    assert "contract errors 1" in rec.stderr  # Graph takes at most 4 MB: recorded, and flagged
    rep = proxy("replay", str(cassette), "--quiet", "--policy", "report")  # serve it as recorded
    with client(rep, timeout=120) as c:
        again = c.post(MESSAGES, content=body, headers=JSON)
    assert (again.status_code, again.content) == (first.status_code, first.content)
    rep.stop()
    assert "matched 1, unmatched 0" in rep.stderr


def curl_post_file(p: ProxyProcess, path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", "--proxy", p.url, "--cacert", str(p.ca), "-X", "POST",
         "-H", "Content-Type: application/octet-stream", "-T", str(path), *extra, MESSAGES],
        capture_output=True, text=True, timeout=120)


@pytest.fixture
def body_150mb(tmp_path) -> Path:
    path = tmp_path / "150mb.bin"
    with path.open("wb") as fh:
        fh.truncate(150 * 1024 * 1024)  # sparse
    return path


def test_a_150_mb_body_is_refused_at_once_in_replay(tmp_path, proxy, body_150mb):
    p = proxy("replay", str(after_cassette(tmp_path / "c.yaml")))
    start = time.perf_counter()
    out = curl_post_file(p, body_150mb)
    assert time.perf_counter() - start < 15
    assert out.stdout.rsplit("\n", 1)[-1] == "413", out
    assert "body_size_limit" in out.stdout  # mitmproxy's refusal says which limit
    good_request_works(p)


@pytest.mark.slow
def test_a_150_mb_body_streams_through_record_in_bounded_memory_and_is_not_recorded(tmp_path, proxy, upstream,
                                                                                   body_150mb):
    cassette = tmp_path / "huge.yaml"
    rec = recorder(proxy, cassette, upstream)
    before = peak_rss_mb(pid_of(rec))
    out = curl_post_file(rec, body_150mb)
    body, status = out.stdout.rsplit("\n", 1)
    assert status == "201", out
    assert json.loads(body)["size"] == 150 * 1024 * 1024 == upstream.server.received_bytes
    growth = peak_rss_mb(pid_of(rec)) - before
    assert growth < 100, f"the proxy grew by {growth:.0f} MB"  # streamed, not held
    good_request_works(rec)
    assert rec.stop() == 1
    assert "recorded 1, not recorded 1" in rec.stderr
    assert "streamed through because it is over graphtape's" in rec.stderr
    assert len(load_cassette(cassette).interactions) == 1


# --------------------------------------------------------------------------- framing and protocols


def test_a_chunked_request_body_is_matched_to_its_recording(tmp_path, proxy):
    body = b'{"subject":"chunked","body":{"contentType":"text","content":"' + b"x" * 100_000 + b'"}}'
    recorded = Interaction(HttpRequest("POST", MESSAGES, [("Content-Type", "application/json")], body),
                           HttpResponse(201, "Created", [("Content-Type", "application/json")], b'{"id":"AAMk9"}'))
    p = proxy("replay", str(after_cassette(tmp_path / "c.yaml", recorded)))

    def pieces():
        for i in range(0, len(body), 7000):
            yield body[i:i + 7000]

    with client(p) as c:
        r = c.post(MESSAGES, content=pieces(), headers=JSON)
    assert r.request.headers["transfer-encoding"] == "chunked"
    assert r.status_code == 201 and r.json() == {"id": "AAMk9"}
    good_request_works(p)
    assert p.stop() == 0
    assert "matched 2, unmatched 0" in p.stderr, p.output
    assert "deviation body" not in p.output and "transfer-encoding" not in p.output.lower()  # same body, whole


def test_an_http2_client_is_recorded_and_an_http11_client_replays_it(tmp_path, proxy, upstream):
    cassette = tmp_path / "h2.yaml"
    rec = recorder(proxy, cassette, upstream)
    out = subprocess.run(
        ["curl", "-sS", "--http2", "-w", "\n%{http_version} %{http_code}", "-X", "POST", "-H",
         "Content-Type: application/json", "-d", '{"subject": "h2"}', "--proxy", rec.url, "--cacert", str(rec.ca),
         MESSAGES], capture_output=True, text=True, timeout=30)
    body, status = out.stdout.rsplit("\n", 1)
    assert status == "2 201", out
    rec.stop()
    rep = proxy("replay", str(cassette))
    with client(rep, http2=False) as c:
        r = c.post(MESSAGES, content=b'{"subject": "h2"}', headers=JSON)
    assert r.http_version == "HTTP/1.1" and r.content == body.encode()


@pytest.mark.parametrize("mode", ["record", "replay"])
def test_a_client_that_hangs_up_mid_request_leaves_nothing_behind(tmp_path, proxy, upstream, mode):
    cassette = tmp_path / "c.yaml"
    if mode == "record":
        p = recorder(proxy, cassette, upstream, "--reverse")
    else:
        p = proxy("replay", str(after_cassette(cassette)), "--reverse")
    host, port = p.url.removeprefix("http://").split(":")
    for sent in (b"POST /v1.0/me/messages HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + b"{" * 10,
                 b"POST /v1.0/me/mess", b"POST /v1.0/me/messages HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
                 b"chunked\r\n\r\n10\r\n0123"):
        with socket.create_connection((host, int(port)), timeout=5) as s:
            s.sendall(sent)
        time.sleep(0.1)
    r = httpx.post(f"{p.url}/v1.0/me/messages", json={"subject": "after"}, timeout=30)
    assert r.status_code == 201 and r.json()["subject"] == "after"
    assert p.stop() == 0, p.output
    assert "Traceback" not in p.output
    assert [json.loads(i.request.body) for i in load_cassette(cassette).interactions] == [{"subject": "after"}]
    assert ("recorded 1, not recorded 0" if mode == "record" else "matched 1, unmatched 0") in p.stderr


# --------------------------------------------------------------------------- 16 at once

N_PARALLEL = 16


def _in_parallel(p: ProxyProcess, subjects: list[str]) -> dict[str, httpx.Response]:
    barrier = threading.Barrier(len(subjects))

    def post(subject: str) -> tuple[str, httpx.Response]:
        with client(p) as c:
            barrier.wait(10)
            return subject, c.post(MESSAGES, json={"subject": subject})

    with concurrent.futures.ThreadPoolExecutor(len(subjects)) as pool:
        return dict(pool.map(post, subjects))


def test_16_parallel_clients_record_each_call_once_and_replay_each_answer_to_its_caller(tmp_path, proxy, upstream):
    cassette = tmp_path / "parallel.yaml"
    subjects = [f"m{i:02d}" for i in range(N_PARALLEL)]
    rec = recorder(proxy, cassette, upstream, "--quiet")
    recorded = _in_parallel(rec, subjects)
    assert all(r.status_code == 201 and r.json()["subject"] == s for s, r in recorded.items())
    assert rec.stop() == 0
    items = load_cassette(cassette).interactions
    assert sorted(json.loads(i.request.body)["subject"] for i in items) == subjects  # each once
    for it in items:  # each request with its own response, never another's
        assert json.loads(it.response.body)["subject"] == json.loads(it.request.body)["subject"]
    stamps = [i.recorded_at for i in items]
    assert stamps == sorted(stamps)  # written in the order they completed
    ids = {json.loads(i.request.body)["subject"]: json.loads(i.response.body)["id"] for i in items}

    rep = proxy("replay", str(cassette), "--quiet")
    replayed = _in_parallel(rep, list(reversed(subjects)))
    for subject, r in replayed.items():
        assert r.status_code == 201 and r.json() == {"id": ids[subject], "subject": subject, "size": r.json()["size"]}
    assert rep.stop() == 0
    assert f"matched {N_PARALLEL}, unmatched 0" in rep.stderr and "deviations 0" in rep.stderr


# --------------------------------------------------------------------------- a failing upstream


def test_an_upstream_that_fails_is_recorded_faithfully_or_reported_and_nothing_half_written(tmp_path, proxy,
                                                                                          upstream):
    cassette = tmp_path / "failing.yaml"
    rec = recorder(proxy, cassette, upstream)
    with client(rec, timeout=HANG_SECONDS / 2) as c:
        r503 = c.post(MESSAGES, json={"subject": "throttled"}, headers={"X-Upstream": "503"})
        assert r503.status_code == 503 and r503.headers["retry-after"] == "7"
        reset = c.post(MESSAGES, json={"subject": "reset"}, headers={"X-Upstream": "reset"})
        assert reset.status_code == 502  # mitmproxy's answer when the upstream drops the connection
        with pytest.raises(httpx.ReadTimeout):
            c.post(MESSAGES, json={"subject": "hang"}, headers={"X-Upstream": "hang"})
    good_request_works(rec)
    assert rec.stop() == 1  # an upstream failure fails the session
    assert [b for b, _ in upstream.log] == ["503", "reset", "hang", "echo"]
    items = load_cassette(cassette).interactions
    assert [(json.loads(i.request.body)["subject"], i.response.status) for i in items] == [
        ("throttled", 503), ("after", 201)]
    throttled = items[0].response
    assert ("Retry-After", "7") in throttled.headers
    assert json.loads(throttled.body)["error"]["code"] == "ServiceUnavailable"
    out = rec.output
    assert "recorded 2, not recorded 0, upstream failures 2" in out
    assert "POST /v1.0/me/messages failed upstream" in out and "nothing recorded for it" in out
    assert "Traceback" not in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["failing.yaml"]  # no temp file left

    rep = proxy("replay", str(cassette))
    with client(rep) as c:
        again = c.post(MESSAGES, json={"subject": "throttled"}, headers={"X-Upstream": "503"})
    assert (again.status_code, again.headers["retry-after"], again.content) == (503, "7", r503.content)
