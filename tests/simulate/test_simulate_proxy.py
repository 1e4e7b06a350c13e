"""``graphtape simulate`` as a real proxy process, with real TLS interception and real clients, no recording.

The official Python SDK runs a whole mail flow (dev/simflow.py) signing in with azure-identity's
ClientSecretCredential, answered offline; nothing reaches the network; the state answers on the graphtape-only URL
and is dumped at the end; the report and JUnit name each call; a call the simulator does not answer fails the
session under ``--fail-on unmatched``; the contract still refuses what Graph refuses.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from dev.harness import ProxyProcess

from conftest import Listener, sdk_call

CLOCK = "2026-01-05T09:00:00Z"
TENANT = "contoso.onmicrosoft.com"
CLIENT_ID = "5b6f2c1e-8a3d-4e7f-9c0b-1d2e3f4a5b6c"
APP_SECRET = "-".join(["app", "secret", "from", "config"])  # built here: no secret-looking literal in the repo
STATE_URL = "https://graph.microsoft.com/_graphtape/mailboxes"




def http_through(proxy: ProxyProcess) -> httpx.Client:
    return httpx.Client(proxy=proxy.url, verify=str(proxy.ca), timeout=30)


def state_of(proxy: ProxyProcess) -> dict[str, Any]:
    with http_through(proxy) as http:
        r = http.get(STATE_URL)
    assert r.status_code == 200, r.text
    doc: dict[str, Any] = r.json()
    return doc


def sdk_flow_with_secret(proxy: ProxyProcess) -> dict[str, Any]:
    from azure.identity import ClientSecretCredential
    from dev.simflow import mail_flow
    from msgraph import GraphServiceClient

    with proxy.behind():
        client = GraphServiceClient(credentials=ClientSecretCredential(TENANT, CLIENT_ID, APP_SECRET),
                                    scopes=["https://graph.microsoft.com/.default"])
        return asyncio.run(mail_flow(client))


def expected_flow() -> dict[str, Any]:
    from dev.scenario import MIME_CREATE
    from dev.simflow import ATTACHMENT_SIZE, CHUNK, SUBJECT, TO

    mime_subject = next(line for line in MIME_CREATE.splitlines() if line.startswith("Subject: "))[9:]
    return {
        "draft": {"subject": SUBJECT, "is_draft": True, "id_set": True},
        "mime": {"subject": mime_subject, "from": "AlexW@contoso.com"},
        "chunks": [{"status": 200, "next": [f"{CHUNK}"]}, {"status": 201, "next": None}],
        "sent": {"subject": SUBJECT, "is_draft": False, "to": [TO]},
        "attachments": [("figures.bin", ATTACHMENT_SIZE)],
        "delta": {"subjects": sorted([SUBJECT, f"RE: {SUBJECT}", f"FW: {SUBJECT}"]), "delta_link": True},
    }


def test_python_sdk_runs_a_whole_mail_flow_against_simulate_with_no_recording(tmp_path: Path, proxy, listener):
    report, junit, dump = tmp_path / "report.json", tmp_path / "junit.xml", tmp_path / "state.yaml"
    p = proxy("simulate", "--clock", CLOCK, "--report", str(report), "--junit", str(junit), "--dump", str(dump))
    assert sdk_flow_with_secret(p) == expected_flow()
    state = state_of(p)
    assert p.stop() == 0, p.output
    assert listener.connections == 0  # nothing offline reaches any host

    summary = json.loads(report.read_text())["summary"]
    assert summary["unmatched"] == 0 and summary["rejected"] == 0 and summary["contract_errors"] == 0, summary
    assert summary["signed_in_offline"] >= 1 and summary["upstream_connections_refused"] == 0, summary
    assert summary["simulated"] == summary["requests"] - summary["signed_in_offline"], summary
    assert 'failures="0"' in junit.read_text()
    assert "graphtape: simulate session: " in p.stderr and "simulated " in p.stderr

    from graphtape.simulate.fixture import load_seed

    seed = load_seed(dump)  # the dump is a fixture: it loads back
    (me,) = [m for m in seed.mailboxes if m.id == seed.me or m.user_principal_name == seed.me]
    sent = [str(m.resource.get("subject")) for m in me.messages if m.folder.lower() in ("sentitems", "sent items")]
    assert sorted(sent) == expected_flow()["delta"]["subjects"]
    assert json.dumps(state).count("Quarterly report (simulated)") >= 3  # the state URL showed the same


def test_simulate_is_deterministic_with_a_fixed_clock(tmp_path: Path, proxy):
    dumps = []
    for run in ("a", "b"):
        p = proxy("simulate", "--clock", CLOCK, "--dump", str(tmp_path / f"{run}.yaml"))
        sdk_call(p, _draft)
        assert p.stop() == 0, p.output
        dumps.append((tmp_path / f"{run}.yaml").read_text())
    assert dumps[0] == dumps[1] and "Determinism" in dumps[0]


async def _draft(client: Any) -> str:
    from msgraph.generated.models.message import Message

    m = await client.me.messages.post(Message(subject="Determinism"))
    return str(m.id)


def test_a_call_the_simulator_does_not_answer_fails_the_session_as_unmatched(tmp_path: Path, proxy):
    report = tmp_path / "report.json"
    p = proxy("simulate", "--report", str(report))
    with http_through(p) as http:
        r = http.get("https://graph.microsoft.com/v1.0/me/onenote/notebooks", headers={"Authorization": "Bearer t"})
        outside = http.get("https://example.com/anything")
    assert r.status_code == 501 and r.json()["error"]["code"] == "graphtape.NotSimulated", r.text
    assert outside.status_code == 404 and outside.json()["error"]["code"] == "graphtape.UnmatchedRequest"
    assert p.stop() == 1, p.output  # --fail-on unmatched (the default)
    doc = json.loads(report.read_text())
    assert [(q["outcome"], q["status"]) for q in doc["requests"]] == [("unmatched", 501), ("unmatched", 404)]
    assert doc["requests"][0]["note"].startswith("graphtape.NotSimulated: ")
    assert "the session fails: 2 unmatched request(s)" in p.stderr

    q = proxy("simulate", "--fail-on", "violation")
    with http_through(q) as http:
        assert http.get("https://graph.microsoft.com/v1.0/me/onenote/notebooks").status_code == 501
    assert q.stop() == 0, q.output


def test_the_contract_refuses_in_simulate_as_graph_does(proxy):
    p = proxy("simulate")
    with http_through(p) as http:
        r = http.post("https://graph.microsoft.com/v1.0/me/sendMail", content=b"RnJvbTogQWxleA==!!not base64!!",
                      headers={"Content-Type": "text/plain", "Authorization": "Bearer t"})
        assert r.status_code == 400 and r.json()["error"]["code"] == "ErrorMimeContentInvalidBase64String", r.text
        assert state_of(p)  # nothing was sent: the state answers still
    assert p.stop() == 1, p.output  # a contract error fails the session (--fail-on violation)
    assert "rejected by contract 1" in p.stderr, p.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--clock", "yesterday"], "graphtape: simulate --clock 'yesterday' is not an ISO 8601 time"),
    (["--seed", "/nonexistent/mail.yaml"], "graphtape: simulate --seed /nonexistent/mail.yaml: no such file"),
    (["--fail-on", "everything"], "graphtape: --fail-on: unknown everything"),
])
def test_bad_options_fail_at_start_with_a_clear_message(confdir: Path, args: list[str], message: str):
    p = ProxyProcess(["simulate", *args], confdir)
    with pytest.raises(RuntimeError, match="graphtape did not start"):
        p.start()
    assert p.returncode == 2 and message in p.stderr, p.stderr


def test_record_against_simulate_gives_a_cassette_that_replays_identically(tmp_path: Path, proxy):
    from dev.simflow import mail_flow

    from graphtape.cassette.format import load_cassette

    sim = proxy("simulate", "--reverse", "--clock", CLOCK)  # the upstream: plain HTTP, as Graph's stand-in
    cassette = tmp_path / "flow.yaml"
    rec = proxy("record", str(cassette), "--upstream", sim.url, "--upstream-uploads")
    recorded = sdk_call(rec, mail_flow)
    assert recorded == expected_flow()
    assert rec.stop() == 0, rec.output
    assert sim.stop() == 0, sim.output
    assert "simulated 11, not simulated or outside Graph 0, rejected by contract 0" in sim.stderr, sim.stderr
    interactions = load_cassette(cassette).interactions
    assert [i.response.status for i in interactions] == [201, 201, 201, 200, 201, 202, 200, 200, 202, 202, 200]
    assert interactions[3].request.url.startswith("https://outlook.office.com/api/v2.0/Users(")

    rep = proxy("replay", str(cassette))
    assert sdk_call(rep, mail_flow) == recorded
    assert rep.stop() == 0, rep.output
    assert "matched 11, unmatched 0, exhausted 0, rejected by contract 0, unused interactions 0" in rep.stderr
    assert "deviations 0" in rep.stderr, rep.stderr


def test_simulate_never_connects_upstream(proxy, listener: Listener):
    p = proxy("simulate")
    with http_through(p) as http:
        r = http.get(f"https://127.0.0.1:{listener.port}/v1.0/me/messages")
    assert r.status_code == 404 and r.json()["error"]["code"] == "graphtape.UnmatchedRequest"
    p.stop()
    assert listener.connections == 0


def test_a_cassette_as_seed_its_recorded_messages_become_the_mailbox(proxy, seed):
    p = proxy("simulate", "--seed", str(seed("create-draft-json")))
    with http_through(p) as http:
        drafts = http.get("https://graph.microsoft.com/v1.0/me/mailFolders/drafts/messages",
                          headers={"Authorization": "Bearer t"})
        as_yaml = http.get(f"{STATE_URL}.yaml")
    assert drafts.status_code == 200, drafts.text
    assert [m["subject"] for m in drafts.json()["value"]] == ["Did you see last night's game?"]
    assert as_yaml.status_code == 200 and as_yaml.headers["content-type"].startswith("application/yaml")
    assert p.stop() == 0, p.output


def test_the_state_as_yaml_is_a_seed_that_starts_the_same_mailboxes(tmp_path: Path, proxy):
    p = proxy("simulate", "--clock", CLOCK)
    sdk_call(p, _draft)
    with http_through(p) as http:
        text = http.get(f"{STATE_URL}.yaml").text
    p.stop()
    fixture = tmp_path / "state.yaml"
    fixture.write_text(text)
    again = proxy("simulate", "--seed", str(fixture))
    assert [m["subject"] for m in _drafts(again)] == ["Determinism"]
    again.stop()


def _drafts(p: ProxyProcess) -> list[dict[str, Any]]:
    with http_through(p) as http:
        r = http.get("https://graph.microsoft.com/v1.0/me/mailFolders/drafts/messages",
                     headers={"Authorization": "Bearer t"})
    assert r.status_code == 200, r.text
    value: list[dict[str, Any]] = r.json()["value"]
    return value


RUN_CLIENT = """
import httpx
with httpx.Client(timeout=30) as http:
    r = http.post("https://graph.microsoft.com/v1.0/me/sendMail", headers={"Authorization": "Bearer t"}, json={
        "message": {"subject": "From graphtape run", "toRecipients": [{"emailAddress": {"address": "m@contoso.com"}}]}})
    assert r.status_code == 202, r.text
    if "{extra}":
        http.get("https://graph.microsoft.com/v1.0/me/onenote/notebooks")
"""


@pytest.mark.parametrize(("extra", "status"), [("", 0), ("not simulated", 3)])
def test_graphtape_run_simulate_runs_a_command_against_a_simulated_mailbox(tmp_path: Path, confdir: Path,
                                                                           extra: str, status: int):
    import subprocess
    import sys

    script = tmp_path / "client.py"
    script.write_text(RUN_CLIENT.replace("{extra}", extra))
    dump = tmp_path / "state.yaml"
    out = subprocess.run([sys.executable, "-m", "graphtape.cli", "run", "--simulate", "--dump", str(dump),
                          "--confdir", str(confdir), "--quiet", "--", sys.executable, str(script)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == status, out.stderr
    assert "From graphtape run" in dump.read_text()
    if status:
        assert "the command passed, but the session had 1 unmatched request(s)" in out.stderr, out.stderr


def test_a_seed_fixture_with_a_mistake_stops_the_start_naming_its_line(tmp_path: Path, confdir: Path):
    fixture = tmp_path / "mail.yaml"
    fixture.write_text("graphtape_seed: 1\nmailboxes:\n- user_principal_name: alex@contoso.com\n  messages:\n"
                       "  - folder: inbox\n    subjct: Hello\n")
    p = ProxyProcess(["simulate", "--seed", str(fixture)], confdir)
    with pytest.raises(RuntimeError, match="graphtape did not start"):
        p.start()
    assert p.returncode == 2, p.stderr
    assert f"graphtape: seed {fixture}:6:" in p.stderr and "did you mean 'subject'?" in p.stderr, p.stderr


def test_in_reverse_mode_the_state_is_on_the_proxys_own_address(proxy):
    p = proxy("simulate", "--reverse")
    with httpx.Client(timeout=30) as http:  # plain HTTP to the proxy, as a client given it as its Graph base URL
        created = http.post(f"{p.url}/v1.0/me/messages", json={"subject": "Reverse"},
                            headers={"Authorization": "Bearer t"})
        state = http.get(f"{p.url}/_graphtape/mailboxes")
    assert created.status_code == 201 and created.json()["subject"] == "Reverse", created.text
    assert state.status_code == 200 and '"subject": "Reverse"' in state.text
    assert p.stop() == 0, p.output
