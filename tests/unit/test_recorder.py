"""recorder: each interaction lands on disk at once; nothing secret, nothing half-written, nothing clobbered."""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import TOKEN
from graphtape.cassette.format import CassetteError, load_cassette, save_cassette
from graphtape.cassette.journal import journal_path
from graphtape.cassette.lock import CassetteLocked, _command
from graphtape.cassette.recorder import Recorder, RecorderClosed, RecordMode, RecordRefused
from graphtape.model import HttpRequest, HttpResponse, Interaction
from graphtape.privacy.redaction import Redactor

GRAPH = "https://graph.microsoft.com/v1.0"
JWT = TOKEN  # JWT-shaped, built at run time so no token-looking literal is committed


def call(subject: str, resp_body: bytes = b'{"id":"AAMk="}') -> Interaction:
    return Interaction(
        HttpRequest("POST", f"{GRAPH}/me/messages",
                    [("Content-Type", "application/json"), ("Authorization", f"Bearer {JWT}")],
                    json.dumps({"subject": subject}, separators=(",", ":")).encode()),
        HttpResponse(201, "Created", [("Content-Type", "application/json")], resp_body),
        recorded_at="2026-11-22T00:00:00.000Z", duration_ms=12.0,
    )


def snapshot(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


def subjects(path: Path) -> list[str]:
    return [json.loads(i.request.body)["subject"] for i in load_cassette(path).interactions]


@pytest.fixture
def existing(tmp_path: Path) -> Path:
    path = tmp_path / "c.yaml"
    rec = Recorder(path, RecordMode.NEW, Redactor())
    rec.add(call("old"))
    rec.close()
    return path


def test_new_cassette_is_written_at_start(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "c.yaml"
    rec = Recorder(path, RecordMode.NEW, Redactor())
    assert len(rec) == 0
    loaded = load_cassette(path)
    assert loaded.interactions == []
    assert loaded.meta["created"]


def test_each_add_is_on_disk_at_once(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    rec = Recorder(path, RecordMode.NEW, Redactor())
    assert rec.add(call("one")) == 0
    assert subjects(path) == ["one"]
    assert rec.add(call("two")) == 1
    assert subjects(path) == ["one", "two"]
    assert len(rec) == 2


def test_new_refuses_an_existing_cassette(existing: Path) -> None:
    before = snapshot(existing)
    with pytest.raises(CassetteError) as info:
        Recorder(existing, RecordMode.NEW, Redactor())
    assert "--append" in str(info.value) and "--overwrite" in str(info.value)
    assert str(existing) in str(info.value)
    assert snapshot(existing) == before


def test_new_refuses_even_an_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes(b"\x00\xffnot yaml")
    with pytest.raises(CassetteError):
        Recorder(path, RecordMode.NEW, Redactor())
    assert path.read_bytes() == b"\x00\xffnot yaml"


def test_append_keeps_and_adds(existing: Path) -> None:
    created = load_cassette(existing).meta["created"]
    rec = Recorder(existing, RecordMode.APPEND, Redactor())
    assert len(rec) == 1
    assert subjects(existing) == ["old"]
    assert rec.add(call("new")) == 1
    assert subjects(existing) == ["old", "new"]
    meta = load_cassette(existing).meta
    assert meta["created"] == created
    assert "appended" in meta


def test_append_keeps_bodies_byte_for_byte(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    odd = Interaction(HttpRequest("POST", f"{GRAPH}/me/sendMail", [("Content-Type", "text/plain")],
                                  b"RnJvbTogYUBiLmMKCmhp\r\n"),
                      HttpResponse(202, "Accepted", [("X", "1"), ("x", "2")], b"\x00\x01"))
    save_cassette(path, [odd])
    Recorder(path, RecordMode.APPEND, Redactor()).add(call("new"))
    first = load_cassette(path).interactions[0]
    assert first.request == odd.request
    assert first.response == odd.response


def test_append_creates_a_missing_cassette(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    Recorder(path, RecordMode.APPEND, Redactor()).add(call("x"))
    assert subjects(path) == ["x"]


@pytest.mark.parametrize(
    "content",
    [b"graphtape_cassette: 1\ninteractions: [\n", b"graphtape_cassette: 7\n", b"", b"\xff\xfe",
     b"interactions: []\n"],
)
def test_append_onto_a_malformed_cassette_refuses_and_leaves_it(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes(content)
    before = snapshot(path)
    with pytest.raises(CassetteError):
        Recorder(path, RecordMode.APPEND, Redactor())
    assert snapshot(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]


def test_append_onto_a_truncated_cassette_refuses(existing: Path) -> None:
    data = existing.read_bytes()
    existing.write_bytes(data[: len(data) * 2 // 3])
    before = snapshot(existing)
    with pytest.raises(CassetteError):
        Recorder(existing, RecordMode.APPEND, Redactor())
    assert snapshot(existing) == before


def test_overwrite_starts_anew_at_the_first_call_not_before(existing: Path) -> None:
    before = snapshot(existing)
    rec = Recorder(existing, RecordMode.OVERWRITE, Redactor())
    assert len(rec) == 0 and rec.untouched
    assert snapshot(existing) == before  # nothing recorded yet: the old cassette is still all there
    rec.add(call("fresh"))
    assert subjects(existing) == ["fresh"] and not rec.untouched
    rec.close()


@pytest.mark.parametrize("mode", [RecordMode.OVERWRITE, RecordMode.APPEND])
def test_a_session_that_records_nothing_leaves_an_existing_cassette_byte_for_byte(existing: Path,
                                                                                  mode: RecordMode) -> None:
    before = snapshot(existing)
    Recorder(existing, mode, Redactor()).close()
    assert snapshot(existing) == before


def test_overwrite_replaces_a_malformed_file_once_a_call_is_recorded(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("garbage: [")
    rec = Recorder(path, RecordMode.OVERWRITE, Redactor())
    assert path.read_text() == "garbage: ["
    rec.add(call("x"))
    assert subjects(path) == ["x"]


def test_overwrite_into_a_folder_that_cannot_be_written_fails_at_start(existing: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot(existing)
    real_open = os.open

    def refuse(path: str, flags: int, mode: int = 0o777, **kw: object) -> int:
        if str(path).endswith(".tmp"):
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, flags, mode)

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(PermissionError):
        Recorder(existing, RecordMode.OVERWRITE, Redactor())
    monkeypatch.undo()
    assert snapshot(existing) == before
    Recorder(existing, RecordMode.APPEND, Redactor()).close()  # and its lock was given back


def test_a_second_recorder_of_one_cassette_is_refused_and_told_who_holds_it(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    first = Recorder(path, RecordMode.NEW, Redactor())
    for mode in RecordMode:
        with pytest.raises(CassetteLocked) as info:
            Recorder(path, mode, Redactor())
        assert f"pid {os.getpid()} on " in str(info.value) and "since 20" in str(info.value)
    first.add(call("one"))
    first.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]  # the lock file went with the lock
    second = Recorder(path, RecordMode.APPEND, Redactor())
    second.add(call("two"))
    assert subjects(path) == ["one", "two"]
    second.close()


def test_a_recorder_dropped_without_close_gives_its_lock_back(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    Recorder(path, RecordMode.NEW, Redactor()).add(call("one"))
    Recorder(path, RecordMode.APPEND, Redactor()).close()


def test_add_after_close_is_refused_and_writes_nothing(existing: Path) -> None:
    rec = Recorder(existing, RecordMode.APPEND, Redactor())
    rec.add(call("two"))
    rec.close()
    before = snapshot(existing)
    with pytest.raises(RecorderClosed):
        rec.add(call("three"))
    assert snapshot(existing) == before and len(rec) == 2


def test_the_lock_file_names_the_command_without_its_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["/x/graphtape/cli.py", "record", "c.yaml", "--proxyauth", "u:hunter2",
                                      "--proxyauth=u:hunter3"])
    text = _command()
    assert text == "graphtape record c.yaml --proxyauth <redacted> --proxyauth=<redacted>"


def test_authorization_is_redacted_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    rec = Recorder(path, RecordMode.NEW, Redactor())
    rec.add(call("x"))  # the session's first call rewrites the file; the next goes to the journal
    rec.add(call("y"))
    journalled = journal_path(path).read_text()  # redacted before it is appended to the journal, too
    assert JWT not in journalled and "Authorization: <redacted>" in journalled
    rec.close()
    text = path.read_text()
    assert JWT not in text
    assert "Authorization: <redacted>" in text
    assert load_cassette(path).interactions[0].request.headers[1] == ("Authorization", "<redacted>")


def test_extra_redacted_header(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    i = Interaction(HttpRequest("GET", f"{GRAPH}/me", [("X-Tenant-Key", "abc")]), HttpResponse(200))
    Recorder(path, RecordMode.NEW, Redactor.with_extra(headers=["x-tenant-key"])).add(i)
    assert load_cassette(path).interactions[0].request.headers == [("X-Tenant-Key", "<redacted>")]


def test_jwt_in_response_body_is_refused_and_file_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    rec = Recorder(path, RecordMode.NEW, Redactor())
    rec.add(call("ok"))
    before = snapshot(path)
    leaky = call("leaky", resp_body=json.dumps({"id": "x", "note": JWT}).encode())
    with pytest.raises(RecordRefused) as info:
        rec.add(leaky)
    message = str(info.value)
    assert "response.body.json.note" in message
    assert "JWT" in message
    assert JWT not in message
    assert "--redact-header" in message
    assert str(path) in message
    assert snapshot(path) == before
    assert len(rec) == 1
    assert rec.add(call("after")) == 1
    assert subjects(path) == ["ok", "after"]


def test_bearer_in_unknown_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    rec = Recorder(path, RecordMode.NEW, Redactor())
    i = Interaction(HttpRequest("GET", f"{GRAPH}/me", [("X-Auth", "Bearer abcdefghijklmnopqrstuvwxyz0123")]),
                    HttpResponse(200))
    with pytest.raises(RecordRefused, match=r"request\.headers\[0\]\.X-Auth"):
        rec.add(i)
    assert load_cassette(path).interactions == []


@pytest.fixture
def unwritable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder new files cannot be put in: chmod where that stops writes; a failing rename for root."""
    folder = tmp_path / "ro"
    folder.mkdir()
    yield folder
    folder.chmod(stat.S_IRWXU)


def _block_writes(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    probe = folder / ".probe"
    try:
        probe.write_text("x")
    except OSError:
        return  # chmod works here
    probe.unlink()

    def refuse(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        raise PermissionError(13, "Permission denied", str(dst))

    monkeypatch.setattr(os, "replace", refuse)  # running as root: chmod does not stop writes


def test_failed_write_keeps_previous_file_and_state(unwritable: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = unwritable / "c.yaml"
    save_cassette(path, [call("one")])
    rec = Recorder(path, RecordMode.APPEND, Redactor())
    before = snapshot(path)
    _block_writes(unwritable, monkeypatch)
    with pytest.raises(OSError):
        rec.add(call("two"))  # the session's first call rewrites the file (aside, then rename): refused
    assert len(rec) == 1
    monkeypatch.undo()
    unwritable.chmod(stat.S_IRWXU)
    assert snapshot(path) == before
    assert sorted(p.name for p in unwritable.iterdir()) == [".c.yaml.lock", "c.yaml"]  # no temp file left
    assert rec.add(call("three")) == 1
    assert subjects(path) == ["one", "three"]


def _fail_writes(monkeypatch: pytest.MonkeyPatch, *, truncate_fails: bool = False) -> None:
    """The disk fills up under the journal: its next append writes part of the entry, then fails."""
    real_write, real_truncate = os.write, os.ftruncate

    def short(fd: int, data: bytes) -> int:
        real_write(fd, bytes(data)[:10])
        raise OSError(28, "No space left on device")

    def truncate(fd: int, size: int) -> None:
        if truncate_fails:
            raise OSError(5, "Input/output error")
        real_truncate(fd, size)

    monkeypatch.setattr(os, "write", short)
    monkeypatch.setattr(os, "ftruncate", truncate)


def test_a_failed_journal_append_leaves_the_journal_and_the_file_as_they_were(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.yaml"
    rec = Recorder(path, RecordMode.NEW, Redactor())
    rec.add(call("one"))
    before, journal_before = snapshot(path), journal_path(path).read_bytes()
    _fail_writes(monkeypatch)
    with pytest.raises(OSError, match="No space left"):
        rec.add(call("two"))
    monkeypatch.undo()
    assert len(rec) == 1 and snapshot(path) == before
    assert journal_path(path).read_bytes() == journal_before  # not half an entry
    assert rec.add(call("three")) == 1
    assert subjects(path) == ["one", "three"]


def test_an_append_that_cannot_be_undone_makes_the_next_call_rewrite_the_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.yaml"
    rec = Recorder(path, RecordMode.NEW, Redactor())
    rec.add(call("one"))
    _fail_writes(monkeypatch, truncate_fails=True)
    with pytest.raises(OSError, match="No space left"):
        rec.add(call("two"))
    monkeypatch.undo()
    assert subjects(path) == ["one"]  # the torn entry is the last one: dropped
    assert rec.add(call("three")) == 1  # no entry after a torn one: the file is rewritten, the journal anew
    assert subjects(path) == ["one", "three"]
    rec.add(call("four"))
    rec.close()
    assert subjects(path) == ["one", "three", "four"] and not journal_path(path).exists()


def test_failed_first_write_raises_oserror(unwritable: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _block_writes(unwritable, monkeypatch)
    with pytest.raises(OSError):
        Recorder(unwritable / "c.yaml", RecordMode.NEW, Redactor())
    assert not (unwritable / "c.yaml").exists()


def _count_fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts fsync calls (and still makes them): the policy under test is when graphtape forces the disk."""
    calls: list[int] = []
    real = os.fsync

    def counting(fd: int) -> None:
        calls.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", counting)
    return calls


def test_by_default_writes_are_not_fsynced_until_close(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fsyncs = _count_fsyncs(monkeypatch)
    path = tmp_path / "c.yaml"
    rec = Recorder(path, RecordMode.NEW, Redactor())
    rec.add(call("one"))
    rec.add(call("two"))
    assert fsyncs == []
    assert subjects(path) == ["one", "two"]  # on disk (renamed into place) all the same
    rec.close()
    assert len(fsyncs) == 2  # the file, and the folder that names it
    rec.close()
    assert len(fsyncs) == 2  # nothing new to force


def test_with_fsync_every_write_is_forced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fsyncs = _count_fsyncs(monkeypatch)
    rec = Recorder(tmp_path / "c.yaml", RecordMode.NEW, Redactor(), fsync=True)
    rec.add(call("one"))
    rec.add(call("two"))
    assert len(fsyncs) == 5  # the empty cassette, the journal (its file and folder), then each call
    rec.close()
    assert len(fsyncs) == 7  # the journal folded into the cassette: the file and its folder
    assert not journal_path(rec.path).exists()


def test_a_cassette_over_the_size_limit_is_not_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRAPHTAPE_MAX_CASSETTE_MB", "0.002")  # ~2 KB
    path = tmp_path / "c.yaml"
    rec = Recorder(path, RecordMode.NEW, Redactor())
    rec.add(call("small"))
    before = snapshot(path)
    with pytest.raises(OSError, match=r"over the .* MB limit for a cassette"):
        rec.add(call("big", resp_body=json.dumps({"id": "x" * 4000}).encode()))
    assert snapshot(path) == before and len(rec) == 1
    assert subjects(path) == ["small"]  # not in the journal either
    assert sorted(p.name for p in tmp_path.iterdir()) == [".c.yaml.lock", "c.yaml", "c.yaml.journal"]  # no temp file


def test_append_refuses_to_start_when_the_rewrite_would_change_what_the_cassette_holds(
        existing: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import graphtape.cassette.recorder as recorder_module

    real = recorder_module.interaction_chunk

    def lossy(data: dict) -> str:  # a writer bug: the request's subject comes back different
        return real(data).replace("subject: old", "subject: changed")

    before = snapshot(existing)
    monkeypatch.setattr(recorder_module, "interaction_chunk", lossy)
    with pytest.raises(CassetteError, match=r"cannot rewrite it faithfully .*interaction 1 would change"):
        Recorder(existing, RecordMode.APPEND, Redactor())
    assert snapshot(existing) == before
    monkeypatch.undo()
    Recorder(existing, RecordMode.APPEND, Redactor()).close()  # the refusal gave the lock back
