"""Bad cassettes through every command that reads one (replay, check, show, diff), run as a user runs them.

Each gets one clear error naming the file (and the line, where a line means something), a non-zero exit
status, no traceback, and the file is left exactly as it was, with nothing written beside it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, SEEDS
from graphtape.cassette.format import DEFAULT_MAX_CASSETTE_MB, MAX_CASSETTE_ENV, CassetteError, load_cassette
from graphtape.cli import main

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:ldap3.*")  # mitmproxy imports it in-process
GRAPHTAPE = [sys.executable, "-m", "graphtape.cli"]
GOOD = SEEDS / "send-draft.yaml"
HEAD = "graphtape_cassette: 1\ninteractions:\n"
REQ = "- request: {method: GET, url: 'https://graph.microsoft.com/v1.0/me/messages'}\n"


def _alias_bomb() -> bytes:
    lines = ["graphtape_cassette: 1", 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    return ("\n".join([*lines, "interactions: *i"]) + "\n").encode()


def _truncated() -> bytes:
    data = (SEEDS / "create-draft-json.yaml").read_bytes()
    return data[: len(data) * 2 // 3]


# (id, content, expected words, the line the error must name)
CASES = [
    ("invalid-yaml", b"graphtape_cassette: 1\ninteractions:\n- request: {method: GET\n", "invalid YAML", 4),
    ("unknown-version", b"graphtape_cassette: 2\ninteractions: []\n", "unknown cassette format version 2", 1),
    ("missing-field", (HEAD + REQ).encode(), "interaction 1 has no 'response'", 3),
    ("mistyped-field", (HEAD + REQ + "  response: {status: '200'}\n").encode(), "status must be an HTTP status", 4),
    ("mistyped-headers", (HEAD + REQ.replace("}", ", headers: {Accept: x}}") + "  response: {status: 200}\n")
     .encode(), "headers must be a list", 3),
    ("truncated", _truncated(), "", None),  # the line depends on where the cut fell; checked below
    ("not-a-cassette", b'{"log": {"version": "1.2", "entries": []}}\n', "not a graphtape cassette", 1),
    ("alias-bomb", _alias_bomb(), "anchors are not allowed", 2),
    ("non-utf8", HEAD.encode() + b"- request: {method: GET, url: 'https://graph.microsoft.com/v1.0/\xff\xfe'}\n",
     "not UTF-8", 3),
    ("binary", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "not UTF-8", 1),
    ("python-tag", (HEAD + REQ + "  response: {status: !!python/object/apply:os.system ['touch pwned']}\n")
     .encode(), "is not allowed in a cassette", 4),
    ("nul-bytes", HEAD.encode() + b"- request:\x00\x00\n", "character U+0000 is not allowed", 3),
]
COMMANDS = ["replay", "check", "show", "diff-old", "diff-new"]


def graphtape(*args: str, env: dict[str, str] | None = None,
              cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GRAPHTAPE, *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})}, cwd=cwd)


def run_command(command: str, path: Path, confdir: Path, capsys: pytest.CaptureFixture[str]):
    """In-process through cli.main (the child-process path is covered by the tests further down)."""
    args = {"diff-old": ["diff", str(path), str(GOOD)], "diff-new": ["diff", str(GOOD), str(path)],
            "replay": ["replay", str(path), "--port", "0", "--confdir", str(confdir)]}.get(command,
                                                                                          [command, str(path)])
    capsys.readouterr()
    rc = main(args)
    out = capsys.readouterr()
    return subprocess.CompletedProcess(args, rc, out.out, out.err)


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(("content", "words", "line"), [pytest.param(c, w, n, id=i) for i, c, w, n in CASES])
def test_a_bad_cassette_gets_one_clear_error_and_is_left_alone(tmp_path, confdir, capsys, command, content, words,
                                                               line):
    folder = tmp_path / "cassettes"
    folder.mkdir()
    path = folder / "bad.yaml"
    path.write_bytes(content)
    before = snapshot(folder)
    out = run_command(command, path, confdir, capsys)
    assert out.returncode == 2, out
    assert "Traceback" not in out.stderr, out.stderr
    errors = [ln for ln in out.stderr.splitlines() if str(path) in ln]
    assert len(errors) == 1, out.stderr  # one error, not one per attempt or a cascade
    expected_line = line if line is not None else load_line(path)
    assert f"{path}:{expected_line}: " in errors[0], errors[0]
    assert words in errors[0]
    assert out.stdout.strip() == "" or command == "check", out.stdout
    assert snapshot(folder) == before  # not modified, nothing written beside it
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()


def load_line(path: Path) -> int:
    with pytest.raises(CassetteError) as err:
        load_cassette(path)
    assert err.value.line is not None
    return err.value.line


@pytest.mark.parametrize("case", ["alias-bomb", "nul-bytes", "truncated"])
def test_replay_as_a_child_process_refuses_a_bad_cassette_with_status_2(tmp_path, confdir, case):
    content = next(c for i, c, _, _ in CASES if i == case)
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    before = snapshot(tmp_path)
    out = graphtape("replay", str(path), "--port", "0", "--confdir", str(confdir))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.startswith(f"graphtape: {path}:{load_line(path)}: "), out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert snapshot(tmp_path) == before


def test_check_reports_every_broken_file_in_a_folder_and_still_checks_the_good_ones(tmp_path):
    for case_id, content, _, _ in CASES:
        (tmp_path / f"{case_id}.yaml").write_bytes(content)
    (tmp_path / "good.yaml").write_bytes(GOOD.read_bytes())
    before = snapshot(tmp_path)
    out = graphtape("check", str(tmp_path))
    assert out.returncode == 2 and "Traceback" not in out.stderr  # unreadable cassettes: 2, as for every command
    for case_id, *_ in CASES:
        assert len(re.findall(re.escape(str(tmp_path / f"{case_id}.yaml")) + r":\d+: ", out.stderr)) == 1, case_id
    assert f"{len(CASES) + 1} cassette(s)" in out.stderr and f"{len(CASES)} unreadable" in out.stderr
    assert snapshot(tmp_path) == before


# --------------------------------------------------------------------------- size


@pytest.mark.parametrize("command", COMMANDS)
def test_a_200_mb_cassette_is_refused_at_once_without_reading_it(tmp_path, confdir, capsys, command):
    path = tmp_path / "huge.yaml"
    with path.open("wb") as fh:  # sparse: 200 MB on paper, nothing on disk
        fh.write(GOOD.read_bytes())
        fh.truncate(200 * 1024 * 1024)
    before = snapshot(tmp_path)
    start = time.perf_counter()
    out = run_command(command, path, confdir, capsys)
    elapsed = time.perf_counter() - start
    assert elapsed < 3, elapsed  # reading 200 MB of YAML would take minutes
    assert out.returncode != 0
    assert f"{path}: the file is 200.0 MB, over the {DEFAULT_MAX_CASSETTE_MB} MB limit" in out.stderr, out.stderr
    assert MAX_CASSETTE_ENV in out.stderr  # says how to raise it
    assert snapshot(tmp_path) == before


def test_the_cassette_size_limit_is_configurable(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_bytes(GOOD.read_bytes())
    small = graphtape("show", str(path), env={MAX_CASSETTE_ENV: "0.001"})
    assert small.returncode == 2 and "over the 0.000999451 MB limit" in small.stderr
    assert graphtape("show", str(path), env={MAX_CASSETTE_ENV: "1"}).returncode == 0
    bad = graphtape("show", str(path), env={MAX_CASSETTE_ENV: "lots"})
    assert bad.returncode == 2 and f"{MAX_CASSETTE_ENV}='lots' is not a positive number of megabytes" in bad.stderr


def test_a_sparse_file_under_the_limit_is_read_and_refused_as_not_utf8_or_invalid(tmp_path):
    path = tmp_path / "holes.yaml"
    with path.open("wb") as fh:
        fh.write(GOOD.read_bytes())
        fh.truncate(GOOD.stat().st_size + 1024 * 1024)  # a megabyte of NUL bytes after a good cassette
    with pytest.raises(CassetteError) as err:
        load_cassette(path)
    assert err.value.line is not None


# --------------------------------------------------------------------------- the loader


UNSAFE = re.compile(r"yaml\.load\(|yaml\.load_all\(|Loader\s*=\s*yaml\.(Unsafe)?Loader\b|unsafe_load|FullLoader"
                    r"|yaml\.Loader\b|yaml\.UnsafeLoader")


def test_only_a_safe_yaml_loader_is_used_anywhere_in_the_package():
    package = REPO / "addon" / "graphtape"
    sources = sorted(package.rglob("*.py"))
    assert len(sources) > 20
    hits = [f"{p.relative_to(REPO)}:{n}: {line.strip()}" for p in sources
            for n, line in enumerate(p.read_text().splitlines(), 1) if UNSAFE.search(line)]
    assert hits == []
    assert UNSAFE.search("data = yaml.load(text, Loader=yaml.Loader)")  # the pattern itself works
    assert UNSAFE.search("yaml.unsafe_load(x)") and UNSAFE.search("Loader=yaml.FullLoader")
