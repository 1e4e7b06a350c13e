"""Cassette edges through the real proxy: what is recorded reads back and replays exactly as it came.

- two sendMail calls whose base64 MIME ends in a blank line: recorded, shown, replayed (the file used to end
  its ``|+`` blocks with ``...`` lines that made it unloadable);
- a response whose Content-Encoding does not decode (corrupt gzip, an unknown coding): replayed byte for byte;
- a hand-edited reason phrase outside Latin-1: replayed, not answered with 502;
- a header value with CR LF in it (header injection): refused at load, never served.
"""

from __future__ import annotations

import base64
import gzip
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from graphtape.cassette.format import load_cassette, save_cassette
from graphtape.model import HttpRequest, HttpResponse, Interaction
from graphtape.testing.tls import serve_tls

GRAPH = "https://graph.microsoft.com/v1.0"
MIME = (b"From: Alex Wilber <AlexW@contoso.com>\nTo: Megan Bowen <MeganB@contoso.com>\nSubject: Hello\n"
        b"MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n"
        b"Hello Megan, this line is longer than forty characters for sure.\n\n")
CORRUPT_GZIP = b"\x1f\x8b\x08\x00" + b"not really gzip at all"


def graphtape(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "graphtape.cli", *args], capture_output=True, text=True, timeout=60)


def test_two_sendmail_mime_calls_ending_in_a_blank_line_record_show_and_replay(tmp_path: Path, proxy, fake_graph):
    cassette = tmp_path / "mime.yaml"
    rec = proxy("record", str(cassette), "--upstream", fake_graph.url, "--upstream-ca", str(fake_graph.cert),
                "--quiet")
    bodies = [base64.encodebytes(MIME), base64.b64encode(MIME.replace(b"Megan,", b"Meg,"))]

    def send_all(url: str, ca: Path) -> list[int]:
        with httpx.Client(proxy=url, verify=str(ca)) as c:
            return [c.post(f"{GRAPH}/me/sendMail", content=b, headers={"Content-Type": "text/plain"}).status_code
                    for b in bodies]

    assert send_all(rec.url, rec.ca) == [202, 202]
    rec.stop()
    assert [i.request.body for i in load_cassette(cassette).interactions] == bodies
    shown = graphtape("show", str(cassette))
    assert shown.returncode == 0, shown.stderr
    assert "2 interaction(s)" in shown.stdout and shown.stdout.count("/me/sendMail") == 2
    checked = graphtape("check", str(cassette))
    assert checked.returncode == 0, checked.stderr
    rep = proxy("replay", str(cassette))
    assert send_all(rep.url, rep.ca) == [202, 202]


class _CorruptGzip(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        coding = "x-unknown" if "unknown" in self.path else "gzip"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Encoding", coding)
        self.send_header("Content-Length", str(len(CORRUPT_GZIP)))
        self.end_headers()
        self.wfile.write(CORRUPT_GZIP)


@pytest.fixture
def corrupt_upstream(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CorruptGzip)
    server.daemon_threads = True
    cert = serve_tls(server, tmp_path / "upstream-cert")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{server.server_address[1]}", cert
    server.shutdown()
    server.server_close()


def _raw_get(proxy_url: str, ca: Path, url: str) -> tuple[int, str, bytes]:
    with httpx.Client(proxy=proxy_url, verify=str(ca)) as c, c.stream("GET", url) as r:
        return r.status_code, r.headers.get("content-encoding", ""), b"".join(r.iter_raw())


def test_a_response_whose_encoding_does_not_decode_is_recorded_and_replayed_byte_for_byte(tmp_path, proxy,
                                                                                          corrupt_upstream):
    upstream, cert = corrupt_upstream
    cassette = tmp_path / "corrupt.yaml"
    urls = [f"{GRAPH}/me/messages?gz", f"{GRAPH}/me/messages?unknown"]
    rec = proxy("record", str(cassette), "--upstream", upstream, "--upstream-ca", str(cert), "--quiet")
    recorded = [_raw_get(rec.url, rec.ca, u) for u in urls]
    rec.stop()
    assert recorded == [(200, "gzip", CORRUPT_GZIP), (200, "x-unknown", CORRUPT_GZIP)]
    rep = proxy("replay", str(cassette))
    assert [_raw_get(rep.url, rep.ca, u) for u in urls] == recorded
    assert all(i.response.body_as_sent for i in load_cassette(cassette).interactions)


def test_a_decodable_gzip_answer_is_still_stored_decoded_and_compressed_again(tmp_path, proxy):
    cassette = tmp_path / "gz.yaml"
    save_cassette(cassette, [Interaction(HttpRequest("GET", f"{GRAPH}/me/messages"),
                                         HttpResponse(200, "OK", [("Content-Encoding", "gzip")], b'{"value":[]}'))])
    rep = proxy("replay", str(cassette))
    status, coding, raw = _raw_get(rep.url, rep.ca, f"{GRAPH}/me/messages")
    assert (status, coding, gzip.decompress(raw)) == (200, "gzip", b'{"value":[]}')


def test_a_reason_phrase_outside_latin1_is_replayed_not_answered_with_502(tmp_path, proxy):
    cassette = tmp_path / "reason.yaml"
    save_cassette(cassette, [Interaction(HttpRequest("GET", f"{GRAPH}/me"),
                                         HttpResponse(200, "Готово ✓", [("Content-Type", "application/json")],
                                                      b'{"id":"1"}'))])
    rep = proxy("replay", str(cassette))
    with httpx.Client(proxy=rep.url, verify=str(rep.ca)) as c:
        r = c.get(f"{GRAPH}/me")
    assert r.status_code == 200 and r.json() == {"id": "1"}
    assert r.extensions["reason_phrase"].decode("utf-8") == "Готово ✓"  # as the cassette says, in UTF-8


def test_a_header_value_with_crlf_is_refused_at_load_and_never_served(tmp_path, proxy):
    cassette = tmp_path / "inject.yaml"
    save_cassette(cassette, [Interaction(HttpRequest("GET", f"{GRAPH}/me"),
                                         HttpResponse(200, "OK", [("X-Note", "ok")], b""))])
    text = cassette.read_text(encoding="utf-8").replace("- X-Note: ok", '- X-Note: "ok\\r\\nSet-Cookie: injected=1"')
    cassette.write_text(text, encoding="utf-8")
    for command in (["check", str(cassette)], ["show", str(cassette)]):
        out = graphtape(*command)
        assert out.returncode == 2 and f"{cassette}:" in out.stderr and "CR, LF or NUL" in out.stderr, out.stderr
    replay = graphtape("replay", str(cassette), "--port", "0")
    assert replay.returncode == 2 and "CR, LF or NUL" in replay.stderr, replay.stderr
