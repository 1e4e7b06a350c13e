"""The graphtape command line, run as a user runs it: exit statuses, refusals, errors, listings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from dev.harness import ProxyProcess
from mitmproxy.certs import CertStore

import tls_clients
from conftest import REPO, SEEDS
from tls_clients import clients, localhost_leaf, serve_https

GRAPHTAPE = [sys.executable, "-m", "graphtape.cli"]
SENDMAIL = {"message": {"subject": "Hi", "toRecipients": [{"emailAddress": {"address": "megan@contoso.com"}}]}}
SEND_DRAFT = "https://graph.microsoft.com/beta/me/messages/AAMkAGRWAAAFSmKXAAA=/send"


def graphtape(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GRAPHTAPE, *args], capture_output=True, text=True, timeout=timeout, cwd=cwd)


def _client_script(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "client.py"
    script.write_text("import os, sys, requests\n" + body)
    return script


def _run(tmp_path: Path, confdir: Path, cassette: Path, code: str, *extra: str) -> subprocess.CompletedProcess[str]:
    script = _client_script(tmp_path, code)
    return graphtape("run", "--cassette", str(cassette), "--port", "0", "--confdir", str(confdir), "--quiet",
                     *extra, "--", sys.executable, str(script))


def test_run_exits_zero_when_the_command_passes_and_all_requests_match(tmp_path, confdir, seed):
    code = f"r = requests.post({SEND_DRAFT!r}, timeout=10)\nsys.exit(0 if r.status_code == 202 else 1)\n"
    out = _run(tmp_path, confdir, seed("send-draft"), code)
    assert out.returncode == 0, out.stderr
    assert "matched 1, unmatched 0" in out.stderr


def test_run_exits_with_the_commands_status(tmp_path, confdir, seed):
    code = f"requests.post({SEND_DRAFT!r}, timeout=10)\nsys.exit(7)\n"
    assert _run(tmp_path, confdir, seed("send-draft"), code).returncode == 7


def test_run_fails_when_the_command_passes_but_a_request_was_unmatched(tmp_path, confdir, seed):
    code = "r = requests.get('https://graph.microsoft.com/v1.0/me/mailFolders', timeout=10)\n" \
           "print(r.status_code, r.json()['error']['code'])\n"
    out = _run(tmp_path, confdir, seed("send-draft"), code)
    assert out.returncode == 3
    assert "404 graphtape.UnmatchedRequest" in out.stdout
    assert "1 unmatched request(s)" in out.stderr


def test_run_sets_the_documented_environment(tmp_path, confdir, seed):
    names = ["HTTPS_PROXY", "HTTP_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
             "NODE_EXTRA_CA_CERTS"]
    code = f"import json\nprint(json.dumps({{n: os.environ.get(n) for n in {names!r}}}))\n"
    out = _run(tmp_path, confdir, seed("send-draft"), code, "--allow-repeats")
    env = json.loads(out.stdout.strip().splitlines()[-1])
    assert env["HTTPS_PROXY"].startswith("http://127.0.0.1:") and env["HTTP_PROXY"] == env["HTTPS_PROXY"]
    assert env["NODE_EXTRA_CA_CERTS"] == str(confdir / "mitmproxy-ca-cert.pem")
    ca = (confdir / "mitmproxy-ca-cert.pem").read_text()
    assert env["SSL_CERT_FILE"] == ""  # set, and empty: no file parsed whole at every TLS context
    folder = Path(env["SSL_CERT_DIR"])  # OpenSSL's hashed directory: read one issuer at a time
    assert env["REQUESTS_CA_BUNDLE"] == str(folder) and folder.parent == confdir
    assert sum(p.read_text() == ca for p in folder.iterdir()) == 1 and len(list(folder.iterdir())) > 100
    bundle = Path(env["CURL_CA_BUNDLE"])  # curl wants a file
    assert ca in bundle.read_text() and bundle.read_text().count("BEGIN CERTIFICATE") > 100


def test_run_clients_verify_the_proxy_and_a_direct_server_with_the_trust_it_sets(tmp_path, confdir, seed):
    """Each Python client (and curl) behind `graphtape run` verifies the proxy's certificate; a direct call (NO_PROXY)
    to a local server whose leaf chains to a CA of the directory (the proxy's own: it holds the key) verifies too."""
    CertStore.from_store(confdir, "mitmproxy", 2048)  # the confdir's CA, as the proxy will load it
    pem = (confdir / "mitmproxy-ca.pem").read_bytes()
    leaf = localhost_leaf(x509.load_pem_x509_certificate(pem), load_pem_private_key(pem, None), tmp_path / "leaf")
    names = " ".join(clients())
    script = tmp_path / "clients.sh"
    script.write_text(f'NO_PROXY=127.0.0.1 "{sys.executable}" "{tls_clients.__file__}" GET "$1" {names}\n'
                      f'"{sys.executable}" "{tls_clients.__file__}" POST "{SEND_DRAFT}" {names}\n'
                      f'curl -sS -w "%{{http_code}}" -X POST -H "Content-Length: 0" "{SEND_DRAFT}"\n')
    with serve_https(*leaf) as url:
        out = graphtape("run", "--cassette", str(seed("send-draft")), "--port", "0", "--confdir", str(confdir),
                        "--quiet", "--allow-repeats", "--", "sh", str(script), url)
    assert out.returncode == 0, out.stderr
    direct, proxied, curl = out.stdout.strip().splitlines()
    assert json.loads(direct) == dict.fromkeys(clients(), "200 hello")
    assert json.loads(proxied) == dict.fromkeys(clients(), "202 ")
    assert curl == "202"


def test_run_curl_subprocess_is_captured(tmp_path, confdir, seed):
    out = graphtape("run", "--cassette", str(seed("send-draft")), "--port", "0", "--confdir", str(confdir), "--",
                    "curl", "-sS", "-f", "-X", "POST", "-H", "Content-Length: 0", SEND_DRAFT)
    assert out.returncode == 0, out.stderr
    assert "matched 1" in out.stderr


def test_run_record_mode_writes_the_cassette(tmp_path, confdir, fake_graph):
    cassette = tmp_path / "new.yaml"
    code = f"r = requests.post('https://graph.microsoft.com/v1.0/me/sendMail', json={SENDMAIL!r}, timeout=10)\n" \
           "sys.exit(0 if r.status_code == 202 else 1)\n"
    out = _run(tmp_path, confdir, cassette, code, "--record", "--upstream", fake_graph.url,
               "--upstream-ca", str(fake_graph.cert))
    assert out.returncode == 0, out.stderr
    assert "recorded 1" in out.stderr
    assert "url: https://graph.microsoft.com/v1.0/me/sendMail" in cassette.read_text()


def test_run_without_a_command_is_a_usage_error(tmp_path, seed):
    out = graphtape("run", "--cassette", str(seed("send-draft")))
    assert out.returncode == 2 and "give the command after --" in out.stderr


def test_record_refuses_an_existing_cassette_and_leaves_it_alone(tmp_path, confdir, seed):
    cassette = seed("send-draft")
    before = cassette.read_bytes()
    out = graphtape("record", str(cassette), "--port", "0", "--confdir", str(confdir))
    assert out.returncode == 2
    assert "already exists" in out.stderr and "--append" in out.stderr and "--overwrite" in out.stderr
    assert cassette.read_bytes() == before


def test_record_append_keeps_what_was_recorded(tmp_path, confdir, seed, fake_graph):
    cassette = seed("send-draft")
    args = ["record", str(cassette), "--append", "--upstream", fake_graph.url, "--upstream-ca", str(fake_graph.cert)]
    with ProxyProcess(args, confdir) as p, httpx.Client(proxy=p.url, verify=str(p.ca)) as c:
        assert c.post("https://graph.microsoft.com/v1.0/me/sendMail", json=SENDMAIL).status_code == 202
    from graphtape.cassette.format import load_cassette

    urls = [i.request.url for i in load_cassette(cassette).interactions]
    assert urls == [SEND_DRAFT.replace("=", "%3D"), "https://graph.microsoft.com/v1.0/me/sendMail"]


@pytest.mark.parametrize("fsync", [[], ["--fsync"]], ids=["default", "fsync-every-call"])
def test_record_writes_every_call_and_leaves_only_the_cassette(tmp_path, confdir, fake_graph, fsync):
    cassette = tmp_path / "tapes" / "c.yaml"
    args = ["record", str(cassette), *fsync, "--upstream", fake_graph.url, "--upstream-ca", str(fake_graph.cert)]
    from graphtape.cassette.format import load_cassette

    with ProxyProcess(args, confdir) as p, httpx.Client(proxy=p.url, verify=str(p.ca)) as c:
        for n in range(1, 4):
            assert c.post("https://graph.microsoft.com/v1.0/me/sendMail", json=SENDMAIL).status_code == 202
            assert len(load_cassette(cassette).interactions) == n  # on disk before the client had its answer
    assert [f.name for f in cassette.parent.iterdir()] == ["c.yaml"]
    assert len(load_cassette(cassette).interactions) == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("graphtape_cassette: 1\ninteractions:\n- request:\n    method: POST\n    url: https://gr",
                     ":3: interaction 1 has no 'response'", id="truncated"),
        pytest.param("graphtape_cassette: 9\ninteractions: []\n", "unknown cassette format version 9", id="version"),
        pytest.param("interactions: []\n", "not a graphtape cassette", id="not-a-cassette"),
        pytest.param("graphtape_cassette: 1\ninteractions:\n- request: {method: GET, url: 'https://graph.microsoft"
                     ".com/v1.0/me'}\n  response: {status: ok}\n", ":4: interaction 1.response.status", id="mistyped"),
        pytest.param("graphtape_cassette: 1\ninteractions: [\n", "invalid YAML", id="invalid-yaml"),
    ],
)
def test_replay_of_a_malformed_cassette_says_where_and_leaves_it_alone(tmp_path, confdir, text, expected):
    cassette = tmp_path / "bad.yaml"
    cassette.write_text(text)
    before = (cassette.read_bytes(), os.stat(cassette).st_mtime_ns)
    out = graphtape("replay", str(cassette), "--port", "0", "--confdir", str(confdir))
    assert out.returncode == 2
    assert str(cassette) in out.stderr and expected in out.stderr
    assert (cassette.read_bytes(), os.stat(cassette).st_mtime_ns) == before
    assert graphtape("show", str(cassette)).returncode == 2


def test_truncated_recording_cut_anywhere_is_refused_clearly(tmp_path):
    text = (SEEDS / "create-draft-json.yaml").read_text()
    for cut in (len(text) // 3, len(text) // 2, len(text) - 7):
        cassette = tmp_path / f"cut{cut}.yaml"
        cassette.write_text(text[:cut])
        out = graphtape("show", str(cassette))
        assert out.returncode == 2 and f"{cassette}:" in out.stderr, out.stderr


def test_show_lists_one_line_per_interaction():
    out = graphtape("show", str(SEEDS / "sendmail-mime.yaml"), str(SEEDS / "create-draft-json.yaml"))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert any("POST   /v1.0/me/sendMail  202  'Internal Resume Submission: Sales Associate' -> "
               "MeganB@M365x765140.OnMicrosoft.com" in line for line in lines), lines
    assert any("/beta/me/messages  201  \"Did you see last night's game?\" -> AdeleV@contoso.com" in line
               for line in lines), lines


def test_mitmdump_script_usage(tmp_path, confdir, seed):
    cassette = seed("send-draft")
    mitmdump = Path(sys.executable).parent / "mitmdump"
    proc = subprocess.Popen(
        [str(mitmdump), "-q", "-s", str(REPO / "addon" / "graphtape" / "entry.py"), "--listen-host", "127.0.0.1",
         "--listen-port", "0", "--set", f"confdir={confdir}", "--set", "graphtape_mode=replay",
         "--set", f"graphtape_cassette={cassette}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()  # graphtape's lines are on stderr
        assert line.startswith("graphtape: replay on http://127.0.0.1:"), line
        url = line.split(" on ")[1].split(",")[0]
        with httpx.Client(proxy=url, verify=str(confdir / "mitmproxy-ca-cert.pem")) as c:
            assert c.post(SEND_DRAFT).status_code == 202
            assert c.post(SEND_DRAFT).status_code == 410
    finally:
        proc.terminate()
        proc.wait(20)


def test_inspect_prints_each_graph_call_decoded(tmp_path, confdir, fake_graph):
    from dev.scenario import MIME_SEND, mime_b64

    args = ["inspect", "--upstream", fake_graph.url, "--upstream-ca", str(fake_graph.cert)]
    with ProxyProcess(args, confdir) as p, httpx.Client(proxy=p.url, verify=str(p.ca)) as c:
        r = c.post("https://graph.microsoft.com/v1.0/me/sendMail", content=mime_b64(MIME_SEND),
                   headers={"Content-Type": "text/plain", "Authorization": "Bearer secret-value-1234567890"})
        assert r.status_code == 202
        deadline = time.time() + 10
        while "parts:" not in p.output and time.time() < deadline:
            time.sleep(0.05)
    out = p.output
    assert "POST /v1.0/me/sendMail -> 202" in out
    assert "Subject: Internal Resume Submission: Sales Associate" in out
    assert "To: Megan Bowen <MeganB@M365x765140.OnMicrosoft.com>" in out
    assert "parts: text/plain (" in out
    assert "secret-value-1234567890" not in out


def test_unknown_command_line_option_is_a_usage_error():
    out = graphtape("replay")
    assert out.returncode == 2 and "cassette" in out.stderr


def test_bad_upstream_is_explained(tmp_path, confdir):
    out = graphtape("record", str(tmp_path / "x.yaml"), "--upstream", "ftp://nowhere", "--port", "0",
                    "--confdir", str(confdir))
    assert out.returncode == 2 and "--upstream must be an http(s) base URL" in out.stderr


@pytest.mark.parametrize("command", ["replay", "run"])
def test_a_port_in_use_is_explained_and_exits_2(tmp_path, confdir, seed, command):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        args = (["replay", str(seed("send-draft"))] if command == "replay"
                else ["run", "--cassette", str(seed("send-draft"))])
        out = graphtape(*args, "--port", port, "--confdir", str(confdir), *(["--", "true"] * (command == "run")))
    assert out.returncode == 2
    said = [line for line in out.stderr.splitlines()
            if line.startswith(f"graphtape: port {port} on 127.0.0.1 is in use")]
    assert len(said) == 1 and "--port 0 picks a free one" in said[0], out.stderr
    assert "--mode regular@" not in out.stderr, out.stderr  # mitmproxy's advice: not an option of graphtape
