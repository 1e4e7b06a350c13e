"""Hand-edited and odd cassette files, through every command that reads one, as a user runs them.

What a person obviously meant is accepted (an unquoted timestamp, CRLF line endings, a byte order mark);
anything else is one ``CassetteError`` naming the file, the line and what to do, exit status 2, no
traceback, for show, check, diff, replay, record --append and run alike.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import SEEDS
from graphtape.cassette.format import CassetteError, load_cassette
from graphtape.cli import main

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:ldap3.*")
JSON_SEED = (SEEDS / "create-draft-json.yaml").read_text(encoding="utf-8")
GOOD = SEEDS / "send-draft.yaml"


def edit(old: str, new: str, base: str = JSON_SEED) -> str:
    assert old in base, old
    return base.replace(old, new, 1)


def _two_of(text: str) -> str:
    """The seed with its interaction twice (and the end line saying so)."""
    head, _, rest = text.partition("interactions:\n")
    item = rest.rsplit("# end of", 1)[0]
    return f"{head}interactions:\n{item}{item}# end of graphtape cassette: 2 interactions\n"


# (id, content, words the error must hold, its line)
REFUSED = [
    ("binary-tag", edit("      style: compact\n", "      style: !!binary aGVsbG8=\n"), "!!binary is not allowed", 73),
    ("set-tag", edit("        categories: []\n", "        categories: !!set {a: null}\n"), "!!set is not allowed", 55),
    ("misspelled-body", edit("    body:\n      json:\n        '@odata.type'",
                             "    bdy:\n      json:\n        '@odata.type'"), "did you mean 'body'?", 25),
    ("misspelled-request", edit("- request:\n", "- reqest:\n"), "did you mean 'request'?", 9),
    ("misspelled-status", edit("    status: 201\n", "    staus: 201\n"), "did you mean 'status'?", 38),
    ("misspelled-body-form", edit("      style: spaced\n", "      stlye: spaced\n"), "did you mean 'style'?", 36),
    ("misspelled-meta", edit("  mitmproxy_version:", "  mitmproxy_verison:"), "did you mean 'mitmproxy_version'?", 7),
    ("duplicate-in-json-body", edit("        importance: low\n        isRead", "        importance: low\n"
                                    "        importance: high\n        isRead"), "duplicate key 'importance'", 59),
    ("duplicate-in-meta", edit("  graphtape_version: 0.1.0\n", "  graphtape_version: 0.1.0\n  graphtape_version: 2\n"),
     "duplicate key 'graphtape_version'", 7),
    ("duplicate-in-request", edit("    method: POST\n", "    method: POST\n    method: GET\n"),
     "duplicate key 'method'", 11),
    ("crlf-in-header-value", edit("    - request-id: 00000000-0000-0000-0000-000000000000\n",
                                  '    - request-id: "x\\r\\nSet-Cookie: injected=1"\n'), "CR, LF or NUL", 43),
    ("lf-in-header-value", edit("    - Server: BaseHTTP/0.6 Python/3.12.1\n", '    - Server: "a\\nb"\n'),
     "CR, LF or NUL", 41),
    ("nul-in-header-value", edit("    - Server: BaseHTTP/0.6 Python/3.12.1\n", '    - Server: "a\\0b"\n'),
     "CR, LF or NUL", 41),
    ("cr-in-reason", edit("    reason: Created\n", '    reason: "Created\\r\\nX-Evil: 1"\n'), "CR, LF or NUL", 39),
    ("space-in-header-name", edit("    - Server: BaseHTTP", "    - Bad Name: BaseHTTP"), "not a valid header name", 41),
    ("colon-in-header-name", edit("    - Server: BaseHTTP", "    - 'Bad:Name': BaseHTTP"), "not a valid header", 41),
    ("broken-ipv6-url", edit("    url: https://graph.microsoft.com/beta/me/messages\n",
                             "    url: https://[::1/v1.0/me\n"), "not a valid URL", 11),
    ("meta-ignore-not-a-list", edit("  mitmproxy_version: 12.2.3\n", "  mitmproxy_version: 12.2.3\n  ignore: body.x\n"),
     "meta.ignore must be a list", 8),
    ("meta-ignore-not-strings", edit("  mitmproxy_version: 12.2.3\n",
                                     "  mitmproxy_version: 12.2.3\n  ignore: [body.x, {a: b}]\n"),
     "meta.ignore must be a list", 8),
    ("bad-pseudonymized-salt", edit("  mitmproxy_version: 12.2.3\n",
                                    "  mitmproxy_version: 12.2.3\n  pseudonymized: {salt: not-hex}\n"),
     "salt must be hex digits", 8),
    ("end-line-count-mismatch", edit("1 interaction\n", "2 interactions\n"),
     "the end line says 2 interactions, the file holds 1", 76),
    ("nan-in-json-body", edit("        isRead: true\n", "        isRead: .nan\n"), "NaN", 48),
]


def run_command(command: str, path: Path, confdir: Path, capsys: pytest.CaptureFixture[str]):
    args = {"diff-old": ["diff", str(path), str(GOOD)], "diff-new": ["diff", str(GOOD), str(path)],
            "replay": ["replay", str(path), "--port", "0", "--confdir", str(confdir)]}.get(command,
                                                                                          [command, str(path)])
    capsys.readouterr()
    rc = main(args)
    out = capsys.readouterr()
    return subprocess.CompletedProcess(args, rc, out.out, out.err)


@pytest.mark.parametrize("command", ["replay", "check", "show", "diff-old", "diff-new"])
@pytest.mark.parametrize(("content", "words", "line"), [pytest.param(c, w, n, id=i) for i, c, w, n in REFUSED])
def test_a_hand_edit_that_cannot_be_meant_is_refused_with_file_line_and_status_2(tmp_path, confdir, capsys, command,
                                                                                 content, words, line):
    path = tmp_path / "edited.yaml"
    path.write_text(content, encoding="utf-8")
    out = run_command(command, path, confdir, capsys)
    assert out.returncode == 2, out
    assert "Traceback" not in out.stderr
    errors = [ln for ln in out.stderr.splitlines() if str(path) in ln]
    assert len(errors) == 1, out.stderr
    assert f"{path}:{line}: " in errors[0] and words in errors[0], errors[0]


@pytest.mark.parametrize("case", ["binary-tag", "crlf-in-header-value", "end-line-count-mismatch"])
def test_record_append_and_run_refuse_a_bad_cassette_with_status_2(tmp_path, confdir, case):
    content = next(c for i, c, _, _ in REFUSED if i == case)
    path = tmp_path / "edited.yaml"
    path.write_text(content, encoding="utf-8")
    commands = [["record", str(path), "--append", "--port", "0", "--confdir", str(confdir)],
                ["run", "--cassette", str(path), "--port", "0", "--confdir", str(confdir), "--", sys.executable,
                 "-c", "pass"]]
    for args in commands:
        out = subprocess.run([sys.executable, "-m", "graphtape.cli", *args], capture_output=True, text=True,
                             timeout=60)
        assert out.returncode == 2 and "Traceback" not in out.stderr, (args, out.stderr)
        assert f"{path}:" in out.stderr, out.stderr
    assert path.read_text(encoding="utf-8") == content  # record --append left it alone


def test_an_unquoted_timestamp_is_the_text_written(tmp_path):
    text = edit("        createdDateTime: '2017-12-23T07:29:57Z'\n", "        createdDateTime: 2017-12-23T07:29:57Z\n")
    text = edit("  recorded_at: '2026-11-22T00:39:14.005Z'\n", "  recorded_at: 2026-11-22T00:39:14.005Z\n", text)
    text = edit("  created: '2026-11-22T00:39:13Z'\n", "  created: 2026-11-22 00:39:13\n", text)
    path = tmp_path / "dates.yaml"
    path.write_text(text, encoding="utf-8")
    cassette = load_cassette(path)
    body = json.loads(cassette.interactions[0].response.body)
    assert body["createdDateTime"] == "2017-12-23T07:29:57Z"
    assert cassette.interactions[0].recorded_at == "2026-11-22T00:39:14.005Z"
    assert cassette.meta["created"] == "2026-11-22 00:39:13"
    assert main(["show", str(path)]) == 0 and main(["check", str(path)]) == 0


def test_crlf_line_endings_load_as_the_lf_file_does(tmp_path):
    for seed in sorted(SEEDS.glob("*.yaml")):
        path = tmp_path / seed.name
        path.write_bytes(seed.read_bytes().replace(b"\n", b"\r\n"))
        assert load_cassette(path).interactions == load_cassette(seed).interactions, seed.name


def test_a_byte_order_mark_is_accepted_and_still_checks_for_truncation(tmp_path):
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + JSON_SEED.encode())
    assert load_cassette(path).interactions == load_cassette(SEEDS / "create-draft-json.yaml").interactions
    cut = JSON_SEED.rsplit("# end of", 1)[0]
    path.write_bytes(b"\xef\xbb\xbf" + cut.encode())
    with pytest.raises(CassetteError, match="cut short"):
        load_cassette(path)


def test_a_hand_deleted_interaction_is_named_as_such_not_as_truncation(tmp_path):
    two = _two_of(JSON_SEED)
    path = tmp_path / "two.yaml"
    path.write_text(two, encoding="utf-8")
    assert len(load_cassette(path).interactions) == 2
    path.write_text(two.replace("# end of graphtape cassette: 2 interactions", "# end of graphtape cassette: "
                                "3 interactions"), encoding="utf-8")
    with pytest.raises(CassetteError) as err:
        load_cassette(path)
    assert "the end line says 3 interactions, the file holds 2" in str(err.value)
    assert "cut short" not in str(err.value) and err.value.line == two.count("\n")


def _refused_quickly(path: Path, words: str) -> None:
    started = time.monotonic()
    for command in (["show", str(path)], ["check", str(path)]):
        out = subprocess.run([sys.executable, "-m", "graphtape.cli", *command], capture_output=True, text=True,
                             timeout=30)
        assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
        assert str(path) in out.stderr and words in out.stderr, out.stderr
    assert time.monotonic() - started < 25


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_at_once_not_waited_on(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    _refused_quickly(fifo, "not a regular file")


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")
def test_dev_zero_is_refused_at_once():
    _refused_quickly(Path("/dev/zero"), "not a regular file")


def test_a_symlink_loop_is_a_cassette_error(tmp_path):
    loop = tmp_path / "loop.yaml"
    loop.symlink_to(tmp_path / "loop.yaml")
    _refused_quickly(loop, "symbolic link loop")
