"""journal: later calls are appended, not rewritten; every reader sees them; torn, folded, locked, killed."""

from __future__ import annotations

import json
import logging
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphtape.cassette import cache
from graphtape.cassette.format import (
    CassetteError,
    assemble,
    extend,
    interaction_chunk,
    interaction_to_data,
    load_cassette,
    render_head,
)
from graphtape.cassette.journal import entry, journal_path, parse
from graphtape.cassette.lock import CassetteLocked
from graphtape.cassette.recorder import Recorder, RecordMode
from graphtape.model import HttpRequest, HttpResponse, Interaction
from graphtape.privacy.redaction import Redactor

GRAPH = "https://graph.microsoft.com/v1.0"
HEAD = render_head({"created": "2026-01-01T00:00:00Z"})


def call(subject: str, size: int = 0) -> Interaction:
    return Interaction(
        HttpRequest("POST", f"{GRAPH}/me/messages", [("Content-Type", "application/json")],
                    json.dumps({"subject": subject, "pad": "x" * size}).encode()),
        HttpResponse(201, "Created", [("Content-Type", "application/json")], b'{"id":"AAMk="}'),
        recorded_at="2026-11-22T00:00:00.000Z",
    )


def subjects(path: Path) -> list[str]:
    return [json.loads(i.request.body)["subject"] for i in load_cassette(path).interactions]


def chunk(subject: str) -> bytes:
    return interaction_chunk(interaction_to_data(call(subject))).encode()


def test_later_calls_are_appended_to_the_journal_and_the_file_is_not_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    rec = Recorder(path, RecordMode.NEW, Redactor())
    rec.add(call("first"))
    inode, size = path.stat().st_ino, path.stat().st_size
    journal = journal_path(path)
    grown = []
    for i in range(20):
        before = journal.stat().st_size
        rec.add(call(f"c{i}"))
        grown.append(journal.stat().st_size - before)
    assert (path.stat().st_ino, path.stat().st_size) == (inode, size)  # the cassette itself: not written again
    assert max(grown) < 1000  # one entry each, whatever the number before it
    assert subjects(path) == ["first"] + [f"c{i}" for i in range(20)]  # a reader sees them all
    rec.close()
    assert not journal.exists() and path.stat().st_ino != inode
    assert subjects(path) == ["first"] + [f"c{i}" for i in range(20)]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=30), max_size=6), st.integers(min_value=0, max_value=6))
def test_extend_renders_what_assemble_would_have(names: list[str], cut: int) -> None:
    chunks = [chunk(n) for n in names]
    cut = min(cut, len(chunks))
    base = b"".join(assemble(HEAD, chunks[:cut]))
    assert extend(base, chunks[cut:]) == b"".join(assemble(HEAD, chunks))


def _journal_of(path: Path, base: bytes, chunks: list[bytes]) -> bytes:
    import hashlib

    data = b"graphtape journal 1 %s\n" % hashlib.sha256(base).hexdigest().encode() + b"".join(map(entry, chunks))
    journal_path(path).write_bytes(data)
    return data


@pytest.mark.parametrize("cut", [1, 5, 60, -1], ids=["in-the-marker", "in-its-line", "in-the-chunk", "last-byte"])
def test_a_torn_last_entry_is_dropped_with_a_warning_never_the_earlier_ones(
        tmp_path: Path, cut: int, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "c.yaml"
    base = b"".join(assemble(HEAD, [chunk("a")]))
    path.write_bytes(base)
    whole = _journal_of(path, base, [chunk("b"), chunk("c"), chunk("torn")])
    last = entry(chunk("torn"))
    journal_path(path).write_bytes(whole[:len(whole) - len(last) + (cut if cut > 0 else len(last) + cut)])
    with caplog.at_level(logging.WARNING):
        assert subjects(path) == ["a", "b", "c"]
    assert "dropped its last entry" in caplog.text and "never got its answer" in caplog.text
    assert not journal_path(path).exists()  # folded (no recorder holds it)
    assert path.read_bytes() == b"".join(assemble(HEAD, [chunk(s) for s in "abc"]))


def test_a_damaged_entry_with_entries_after_it_is_refused_and_both_files_kept(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    base = b"".join(assemble(HEAD, [chunk("a")]))
    path.write_bytes(base)
    data = _journal_of(path, base, [chunk("b"), chunk("c")])
    broken = data.replace(b"subject: b", b"subject: B")
    journal_path(path).write_bytes(broken)
    with pytest.raises(CassetteError, match=r"entry 1 .* is damaged, and entries follow it"):
        load_cassette(path)
    assert path.read_bytes() == base and journal_path(path).read_bytes() == broken


def test_a_journal_of_another_cassette_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    base = b"".join(assemble(HEAD, [chunk("a")]))
    path.write_bytes(base)
    _journal_of(path, base, [chunk("b")])
    path.write_bytes(b"".join(assemble(HEAD, [chunk("edited by hand")])))
    with pytest.raises(CassetteError, match=r"does not continue c\.yaml as it is now"):
        load_cassette(path)
    assert journal_path(path).exists()


def test_a_journal_folded_already_is_only_removed(tmp_path: Path) -> None:
    """A fold that stopped after the rename, before the journal's removal."""
    path = tmp_path / "c.yaml"
    base = b"".join(assemble(HEAD, [chunk("a")]))
    _journal_of(path, base, [chunk("b"), chunk("c")])
    folded = b"".join(assemble(HEAD, [chunk(s) for s in "abc"]))
    path.write_bytes(folded)
    assert subjects(path) == ["a", "b", "c"]
    assert not journal_path(path).exists() and path.read_bytes() == folded


def test_not_a_journal_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CassetteError, match="is not a graphtape journal"):
        parse(tmp_path / "x.journal", b"- request: {}\n")


def test_a_killed_recorders_journal_is_folded_by_the_next_load(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    rec = Recorder(path, RecordMode.NEW, Redactor())
    for s in "abc":
        rec.add(call(s))
    rec._lock.release()  # as a kill -9 leaves it: the kernel gives the lock back, nothing else happens
    assert journal_path(path).exists()
    assert subjects(path) == ["a", "b", "c"]
    assert not journal_path(path).exists()
    assert path.read_text().rstrip().endswith("# end of graphtape cassette: 3 interactions")


def test_while_a_recorder_holds_the_cassette_readers_see_the_journal_and_leave_it(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    rec = Recorder(path, RecordMode.NEW, Redactor())
    rec.add(call("a"))
    rec.add(call("b"))
    before = path.read_bytes(), journal_path(path).read_bytes()
    assert subjects(path) == ["a", "b"]
    assert (path.read_bytes(), journal_path(path).read_bytes()) == before  # not folded under a live recorder
    with pytest.raises(CassetteLocked):
        Recorder(path, RecordMode.APPEND, Redactor())  # the lock refuses a second recorder, as ever
    assert (path.read_bytes(), journal_path(path).read_bytes()) == before
    rec.add(call("c"))
    rec.close()
    assert subjects(path) == ["a", "b", "c"] and not journal_path(path).exists()


def test_append_onto_a_cassette_with_a_journal_keeps_every_call(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    rec = Recorder(path, RecordMode.NEW, Redactor())
    rec.add(call("a"))
    rec.add(call("b"))
    rec._lock.release()  # killed
    again = Recorder(path, RecordMode.APPEND, Redactor())  # folds it first, under its lock
    assert not journal_path(path).exists() and len(again) == 2
    again.add(call("c"))
    again.add(call("d"))
    again.close()
    assert subjects(path) == ["a", "b", "c", "d"]


def test_the_parse_cache_serves_the_cassette_with_its_journal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "MIN_BYTES", 1)
    monkeypatch.setenv(cache.DIR_ENV, str(tmp_path / "cache"))
    path = tmp_path / "c.yaml"
    rec = Recorder(path, RecordMode.NEW, Redactor())
    rec.add(call("a"))
    rec.add(call("b"))
    assert subjects(path) == ["a", "b"]
    hits = cache.stats.hits
    assert subjects(path) == ["a", "b"] and cache.stats.hits == hits + 1  # the same bytes: from the cache
    rec.add(call("c"))
    assert subjects(path) == ["a", "b", "c"]  # another journal: other bytes, no stale hit
    rec.close()


CHILD = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from graphtape.cassette.recorder import Recorder, RecordMode
    from graphtape.model import HttpRequest, HttpResponse, Interaction
    from graphtape.privacy.redaction import Redactor
    rec = Recorder(Path(sys.argv[1]), RecordMode.NEW, Redactor(), fsync=sys.argv[2] == "1")
    for i in range(100000):
        body = json.dumps({"subject": f"s{i}", "pad": "x" * (i * 7919 % 300000)}).encode()
        rec.add(Interaction(HttpRequest("POST", "https://graph.microsoft.com/v1.0/me/messages",
                                        [("Content-Type", "application/json")], body),
                            HttpResponse(201, "Created", [], b""), "2026-11-22T00:00:00.000Z"))
        print(i, flush=True)  # answered: the add returned
""")


@pytest.mark.parametrize("fsync", [False, True])
def test_sigkill_at_random_moments_during_appends_loses_no_answered_call(tmp_path: Path, fsync: bool) -> None:
    rng = random.Random(1717 + fsync)
    partial = 0
    for round_ in range(10):
        path = tmp_path / f"k{round_}.yaml"
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(int(fsync))], stdout=subprocess.PIPE,
                                 env=os.environ.copy())
        assert child.stdout is not None
        child.stdout.readline()  # the first call is in: the journal is being appended to from now on
        time.sleep(rng.uniform(0.0, 0.3))
        child.send_signal(signal.SIGKILL)
        answered = len(child.stdout.read().splitlines()) + 1
        child.wait(10)
        held = subjects(path)
        assert held == [f"s{i}" for i in range(len(held))]  # a prefix, in order, no gaps
        assert len(held) >= answered, (held[-3:], answered)
        partial += answered > 1
        assert not journal_path(path).exists()  # folded by the load
    assert partial >= 6  # the kills landed while calls were being appended


def test_a_reader_racing_a_recorder_that_stops_sees_every_call(tmp_path: Path) -> None:
    from graphtape.cassette.format import rendered_count
    from graphtape.cassette.journal import with_journal
    from graphtape.cassette.read import read_bytes

    path = tmp_path / "c.yaml"
    rec = Recorder(path, RecordMode.NEW, Redactor())
    rec.add(call("a"))
    rec.add(call("b"))
    reads: list[Path] = []

    def read(p: Path) -> bytes:  # the reader has the journal in hand when the recorder records one more and stops
        if not reads:
            rec.add(call("c"))
            rec.close()
        reads.append(p)
        return read_bytes(p)

    assert rendered_count(with_journal(path, read)) == 3
    assert len(reads) == 2 and not journal_path(path).exists()


def test_a_session_of_one_call_is_not_rewritten_at_close(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    rec = Recorder(path, RecordMode.NEW, Redactor())
    rec.add(call("only"))
    inode = path.stat().st_ino
    rec.close()
    assert path.stat().st_ino == inode and not journal_path(path).exists()  # nothing journalled: nothing to fold
    assert subjects(path) == ["only"]


def _graphtape(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "graphtape.cli", *args], capture_output=True, text=True, timeout=120)


def test_show_and_diff_see_the_journal_while_recording_and_fold_it_after_a_kill(tmp_path: Path) -> None:
    path, other = tmp_path / "c.yaml", tmp_path / "d.yaml"
    rec = Recorder(path, RecordMode.NEW, Redactor())
    for s in "abc":
        rec.add(call(s))
    shown = _graphtape("show", str(path))
    assert shown.returncode == 0 and f"{path}: 3 interaction(s)" in shown.stdout, shown.stderr
    assert journal_path(path).exists()  # the recorder holds it: not folded under it
    rec._lock.release()  # killed
    save = Recorder(other, RecordMode.NEW, Redactor())
    for s in "abc":
        save.add(call(s))
    save.close()
    drift = _graphtape("diff", str(other), str(path))  # folds c.yaml's journal on the way
    assert drift.returncode == 0 and "3 vs 3 interactions, 0 difference(s)" in drift.stderr, drift.stdout + drift.stderr
    assert not journal_path(path).exists()
