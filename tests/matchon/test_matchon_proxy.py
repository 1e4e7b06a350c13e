"""match_on end to end, through the real proxy (real TLS interception, httpx as the client): ``--match-on``,
the cassette's ``meta.match_on``, ``[tool.graphtape] match_on``, their precedence, ``headers:NAME``, a typo in each
place, ``graphtape run --match-on``, and a cassette's match_on kept by ``record --append`` / ``--overwrite``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from graphtape.cassette.format import load_cassette

from .cassettes import GRAPH, JSON, PREFER, draft, mime, write

GRAPHTAPE = [sys.executable, "-m", "graphtape.cli"]


def _client(p: Any) -> httpx.Client:
    return httpx.Client(proxy=p.url, verify=str(p.ca), timeout=20)


def _post_draft(p: Any, body: bytes) -> httpx.Response:
    with _client(p) as c:
        return c.post(f"{GRAPH}/me/messages", content=body, headers=dict(JSON))


def _send_mime(p: Any, body: bytes) -> httpx.Response:
    with _client(p) as c:
        return c.post(f"{GRAPH}/me/sendMail", content=body, headers={"Content-Type": "text/plain"})


def _message(resp: httpx.Response) -> str:
    return str(resp.json()["error"]["message"])


def test_body_in_match_on_refuses_a_changed_body_saying_how_it_differs(tmp_path: Path, proxy: Any) -> None:
    cassette = write(tmp_path / "c.yaml")
    p = proxy("replay", str(cassette), "--match-on", "method,url,body")
    changed = _post_draft(p, draft("Report (final)"))
    assert changed.status_code == 404, changed.text
    assert changed.json()["error"]["code"] == "graphtape.UnmatchedRequest"
    message = _message(changed)
    assert "on match_on method, url, body" in message, message
    assert "body differs: body.subject: 'Report' -> 'Report (final)'" in message, message
    assert "exhausted" not in message.lower() and "already served" not in message, message
    other_mime = _send_mime(p, mime("Report (draft 2)"))
    assert other_mime.status_code == 404
    assert "body differs: mime.header.Subject: 'Report' -> 'Report (draft 2)'" in _message(other_mime)
    assert p.stop() == 1, p.output  # unmatched fails the session (--fail-on's default)
    assert "matched 0, unmatched 2" in p.stderr, p.stderr
    assert "nearest #1: body differs: body.subject" in p.stderr, p.stderr


def test_a_body_equal_but_for_an_ignored_field_or_a_mime_date_is_served(tmp_path: Path, proxy: Any) -> None:
    cassette = write(tmp_path / "c.yaml")
    p = proxy("replay", str(cassette), "--match-on", "method,url,body", "--ignore", "body.categories")
    served = _post_draft(p, draft("Report", trace="t-2"))  # only the ignored field changed
    assert served.status_code == 201, served.text
    assert served.json()["id"] == "AAMk-draft"
    sent = _send_mime(p, mime("Report", date="Tue, 01 Dec 2026 22:00:00 +0000"))  # mime.header.Date: volatile
    assert sent.status_code == 202, sent.text
    assert p.stop() == 0, p.output
    assert "matched 2, unmatched 0" in p.stderr, p.stderr


def test_without_match_on_a_changed_body_is_served_as_before(tmp_path: Path, proxy: Any) -> None:
    cassette = write(tmp_path / "c.yaml")
    p = proxy("replay", str(cassette))
    assert _post_draft(p, draft("Report (final)")).status_code == 201  # method and URL: served, a deviation
    assert p.stop() == 0, p.output
    assert "body.subject: 'Report' -> 'Report (final)'" in p.stderr


def test_headers_in_match_on_compare_prefer_as_a_set_and_name_a_missing_one(tmp_path: Path, proxy: Any) -> None:
    cassette = write(tmp_path / "c.yaml")
    p = proxy("replay", str(cassette), "--match-on", "method,url,headers:prefer", "--allow-repeats")
    url = f"{GRAPH}/me/messages/AAMk-1"
    with _client(p) as c:
        reordered = c.get(url, headers={"PREFER": 'IdType="ImmutableId",  outlook.body-content-type="text"'})
        missing = c.get(url)
    assert reordered.status_code == 200, reordered.text  # the same items in another order and spacing
    assert missing.status_code == 404
    message = _message(missing)
    assert f"header prefer differs: {', '.join(sorted(PREFER.split(', ')))!r} -> absent" in message, message
    assert p.stop() == 1


def test_the_cassettes_match_on_applies_and_the_command_line_wins(tmp_path: Path, proxy: Any) -> None:
    cassette = write(tmp_path / "c.yaml", match_on=["method", "url", "body"])
    p = proxy("replay", str(cassette))
    assert _post_draft(p, draft("Report (final)")).status_code == 404
    assert p.stop() == 1
    p = proxy("replay", str(cassette), "--match-on", "method,url")
    assert _post_draft(p, draft("Report (final)")).status_code == 201
    assert p.stop() == 0, p.output


def test_the_projects_match_on_and_ignore_apply_and_the_cassette_wins(tmp_path: Path, proxy: Any,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.graphtape]\nmatch_on = ["method", "url", "body"]\n'
                                             'ignore = ["body.categories"]\n')
    monkeypatch.chdir(tmp_path)
    cassette = write(tmp_path / "c.yaml")
    p = proxy("replay", str(cassette), "--allow-repeats")
    assert _post_draft(p, draft("Report (final)")).status_code == 404
    assert _post_draft(p, draft("Report", trace="t-9")).status_code == 201
    assert p.stop() == 1
    loose = write(tmp_path / "loose.yaml", match_on=["method", "url"])
    p = proxy("replay", str(loose))
    assert _post_draft(p, draft("Report (final)")).status_code == 201
    assert p.stop() == 0, p.output


def _refused(args: list[str], cwd: Path) -> str:
    done = subprocess.run([*GRAPHTAPE, *args], capture_output=True, text=True, timeout=60, cwd=cwd)
    assert done.returncode == 2, (done.returncode, done.stderr)
    return done.stderr


def test_a_typo_is_refused_at_start_wherever_it_is(tmp_path: Path) -> None:
    cassette = write(tmp_path / "c.yaml")
    allowed = "(allowed: method, url, body, headers:NAME)"
    err = _refused(["replay", str(cassette), "--match-on", "method,url,bdy"], tmp_path)
    assert f"graphtape: --match-on: unknown match_on item 'bdy'; did you mean 'body'? {allowed}" in err, err
    typo = write(tmp_path / "typo.yaml")
    typo.write_text(typo.read_text().replace("meta:\n", "meta:\n  match_on: [method, url, header:Prefer]\n", 1))
    err = _refused(["replay", str(typo)], tmp_path)
    assert f"{typo}:5" in err and "unknown match_on item 'header:Prefer'; did you mean 'headers:Prefer'?" in err, err
    err = _refused(["check", str(typo)], tmp_path)  # a cassette with it is refused by every reader
    assert "did you mean 'headers:Prefer'" in err, err
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text('[tool.graphtape]\nmatch_on = ["method", "uri"]\n')
    err = _refused(["replay", str(cassette)], project)
    assert "graphtape: [tool.graphtape] match_on: unknown match_on item 'uri'; did you mean 'url'?" in err, err


def test_run_takes_match_on_and_fails_the_session_on_a_refused_body(tmp_path: Path, confdir: Path) -> None:
    cassette = write(tmp_path / "c.yaml")
    client = ("import httpx, os, sys; c = httpx.Client(verify=os.environ['CURL_CA_BUNDLE']); "
              f"r = c.post('{GRAPH}/me/messages', content={draft('Changed')!r}, "
              "headers={'Content-Type': 'application/json'}); print(r.status_code, r.json()['error']['message'])")
    done = subprocess.run([*GRAPHTAPE, "run", "--confdir", str(confdir), "--cassette", str(cassette),
                           "--match-on", "method,url,body", "--", sys.executable, "-c", client],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, done.stderr
    assert done.stdout.startswith("404 ") and "body differs: body.subject: 'Report' -> 'Changed'" in done.stdout


@pytest.mark.parametrize("how", ["--append", "--overwrite"])
def test_recording_again_keeps_the_cassettes_match_on(tmp_path: Path, proxy: Any, fake_graph: Any, how: str) -> None:
    cassette = write(tmp_path / "c.yaml", match_on=["method", "url", "body"], ignore=["body.categories"])
    rec = proxy("record", str(cassette), how, "--upstream", fake_graph.url, "--upstream-ca", str(fake_graph.cert))
    with _client(rec) as c:
        assert c.get(f"{GRAPH}/me/messages?$top=1").status_code == 200
    assert rec.stop() == 0, rec.output
    loaded = load_cassette(cassette)
    assert loaded.meta["match_on"] == ["method", "url", "body"] and loaded.meta["ignore"] == ["body.categories"]
    assert len(loaded.interactions) == (4 if how == "--append" else 1)
    assert json.loads(loaded.interactions[-1].response.body)["value"] is not None


def test_record_missing_appends_a_body_match_on_refuses(tmp_path: Path, proxy: Any, fake_graph: Any) -> None:
    cassette = write(tmp_path / "c.yaml", match_on=["method", "url", "body"])
    p = proxy("replay", str(cassette), "--record-missing", "--upstream", fake_graph.url,
              "--upstream-ca", str(fake_graph.cert))
    assert _post_draft(p, draft("Report")).json()["id"] == "AAMk-draft"  # replayed: the body is the recorded one
    appended = _post_draft(p, draft("Report (final)"))  # refused by body: sent to the stand-in, and appended
    assert appended.status_code == 201 and appended.json()["subject"] == "Report (final)", appended.text
    assert p.stop() == 0, p.output
    loaded = load_cassette(cassette)
    assert len(loaded.interactions) == 4 and loaded.meta["match_on"] == ["method", "url", "body"]
