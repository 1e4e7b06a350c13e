"""cache: a big cassette's parse result served from JSON, equal to the YAML parse, never fatal, never wrong."""

from __future__ import annotations

import hashlib
import json
import os
import resource
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from dev.bench import workload

from graphtape.cassette import cache
from graphtape.cassette.format import CassetteError, load_cassette, save_cassette
from graphtape.model import HttpRequest, HttpResponse, Interaction

SEEDS = Path(__file__).resolve().parents[2] / "cassettes" / "seeds"


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private cache folder for this test, fresh counters; the threshold as shipped."""
    target = tmp_path / "cache"
    monkeypatch.setenv(cache.DIR_ENV, str(target))
    monkeypatch.setattr(cache, "stats", cache.Stats())
    return target


@pytest.fixture
def no_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "MIN_BYTES", 0)


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bench-workload cassette above the shipped threshold (JSON, MIME and empty bodies)."""
    path = tmp_path_factory.mktemp("big") / "big.yaml"
    workload.write_cassette(path, workload.interactions(200))
    assert path.stat().st_size > cache.MIN_BYTES
    return path


@pytest.fixture(scope="module")
def big_parsed(big: Path) -> Any:
    with pytest.MonkeyPatch.context() as m:
        return parsed(big, m)


def parsed(path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """What the YAML parse alone gives (the cache off), or the CassetteError it raises."""
    with monkeypatch.context() as m:
        m.setenv(cache.DIR_ENV, "off")
        try:
            return load_cassette(path)
        except CassetteError as e:
            return e


def entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.json")) if folder.exists() else []


def counts() -> tuple[int, int, int]:
    return cache.stats.hits, cache.stats.misses, cache.stats.stores


# --------------------------------------------------------------------------- hits equal the parse


@pytest.mark.parametrize("seed", sorted(SEEDS.glob("*.yaml")), ids=lambda p: p.stem)
def test_hit_equals_parse_for_every_seed(seed: Path, folder: Path, no_threshold: None,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    expected = parsed(seed, monkeypatch)
    first = load_cassette(seed)
    assert counts() == (0, 1, 1) and len(entries(folder)) == 1
    second = load_cassette(seed)
    assert counts() == (1, 1, 1)
    assert first == expected and second == expected


def test_bench_cassette_is_cached_at_the_shipped_threshold(big: Path, big_parsed: Any, folder: Path) -> None:
    assert load_cassette(big) == big_parsed
    assert load_cassette(big) == big_parsed
    assert counts() == (1, 1, 1)
    assert oct(folder.stat().st_mode & 0o777) == oct(0o700)


def test_a_hit_has_the_path_asked_for(big: Path, folder: Path, tmp_path: Path) -> None:
    copy = tmp_path / "elsewhere.yaml"
    copy.write_bytes(big.read_bytes())
    load_cassette(big)
    hit = load_cassette(copy)
    assert counts() == (1, 1, 1)
    assert hit.path == copy and hit.interactions == load_cassette(big).interactions


def test_every_body_form_and_odd_text_round_trip(tmp_path: Path, folder: Path, no_threshold: None,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    url = "https://graph.microsoft.com/v1.0/me/messages?$filter=subject eq 'Grüße ☃'"
    items = [
        Interaction(HttpRequest("POST", url, [("Content-Type", "application/json"), ("X-Note", "café\t☃")],
                                '{"subject":"Grüße","n":[1,2.5,null]}'.encode()),
                    HttpResponse(201, "Créé", [("Content-Type", "application/json")], b'{"id": "x"}'),
                    recorded_at="2026-01-01T00:00:00.000Z", duration_ms=12.3),
        Interaction(HttpRequest("POST", url, [("Content-Type", "application/octet-stream")], bytes(range(256))),
                    HttpResponse(200, "", [], b"plain text\r\nwith a BOM-free line\n"), duration_ms=0.0),
        Interaction(HttpRequest("GET", url), HttpResponse(404, "Not Found", [("Empty", "")])),
    ]
    path = tmp_path / "forms.yaml"
    save_cassette(path, items, {"created": "2026-01-01T00:00:00Z", "ignore": ["body.subject", "ü"]})
    expected = parsed(path, monkeypatch)
    assert load_cassette(path) == expected == load_cassette(path)
    assert counts() == (1, 1, 1)


def test_small_cassettes_never_touch_the_cache(folder: Path) -> None:
    for seed in SEEDS.glob("*.yaml"):
        load_cassette(seed)
    assert counts() == (0, 0, 0) and not folder.exists()


def test_a_one_byte_edit_is_a_miss_with_the_new_content(big: Path, tmp_path: Path, folder: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "edited.yaml"
    path.write_bytes(big.read_bytes())
    before = load_cassette(path)
    text = path.read_text(encoding="utf-8")
    assert text.count("reason: Accepted") > 1
    path.write_text(text.replace("reason: Accepted", "reason: Accepten", 1), encoding="utf-8")
    after = load_cassette(path)
    assert counts() == (0, 2, 2) and len(entries(folder)) == 2
    assert after == parsed(path, monkeypatch) != before
    assert "Accepten" in {i.response.reason for i in after.interactions}


def test_off_writes_nothing_anywhere(big: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "xdg"))
    monkeypatch.setenv(cache.DIR_ENV, "OFF")
    monkeypatch.setattr(cache, "stats", cache.Stats())
    load_cassette(big)
    load_cassette(big)
    assert counts() == (0, 0, 0) and not home.exists()


# --------------------------------------------------------------------------- bad entries are misses


def seal(key: str, payload: Any) -> bytes:
    """An entry with a correct header and checksum around ``payload``: only its shape can be wrong."""
    body = json.dumps(payload).encode()
    header = {"graphtape_cache": cache.ENTRY_FORMAT, "key": key, "bytes": len(body),
              "sha256": hashlib.sha256(body).hexdigest()}
    return json.dumps(header).encode() + b"\n" + body


def payload_of(entry: bytes) -> Any:
    return json.loads(entry.partition(b"\n")[2])


def _row_field(index: int, value: Any) -> Callable[[str, bytes], bytes]:
    def corrupt(key: str, good: bytes) -> bytes:
        payload = payload_of(good)
        payload["interactions"][-1][index] = value
        return seal(key, payload)
    return corrupt


CORRUPTIONS: dict[str, Callable[[str, bytes], bytes]] = {
    "garbage": lambda key, good: os.urandom(4096),
    "empty": lambda key, good: b"",
    "truncated": lambda key, good: good[: len(good) // 2],
    "header only": lambda key, good: good.partition(b"\n")[0],
    "one flipped byte": lambda key, good: good[:-100] + bytes([good[-100] ^ 1]) + good[-99:],
    "another key": lambda key, good: seal("0" * 64, payload_of(good)),
    "another format": lambda key, good: good.replace(b'"graphtape_cache": 2', b'"graphtape_cache": 3', 1),
    "not utf-8": lambda key, good: b"\xff\xfe" + good,
    "json of the wrong shape": lambda key, good: seal(key, ["meta", "interactions"]),
    "interactions not a list": lambda key, good: seal(key, {"meta": {}, "interactions": {"0": []}}),
    "meta not a mapping": lambda key, good: seal(key, {"meta": [], "interactions": []}),
    "a short interaction": lambda key, good: seal(key, {"meta": {}, "interactions": [["GET", "https://x"]]}),
    "an interaction as a string": lambda key, good: seal(key, {"meta": {}, "interactions": ["0123456789"]}),
    "body not base64": _row_field(3, "not base64!"),
    "body as a list": _row_field(7, [1, 2]),
    "status as a string": _row_field(4, "202"),
    "status as a bool": _row_field(4, True),
    "duration as an int": _row_field(9, 5),
    "url as null": _row_field(1, None),
    "headers as a mapping": _row_field(2, {"Host": "graph.microsoft.com"}),
    "a header of three": _row_field(6, [["a", "b", "c"]]),
    "a header as a string": _row_field(6, ["ab"]),
    "a header value as a number": _row_field(2, [["Content-Length", 0]]),
}


@pytest.mark.parametrize("corrupt", CORRUPTIONS.values(), ids=CORRUPTIONS.keys())
def test_a_bad_entry_is_a_silent_miss_then_replaced(corrupt: Callable[[str, bytes], bytes], big: Path,
                                                    big_parsed: Any, folder: Path) -> None:
    entry = cache.store(big.read_bytes(), big_parsed)
    assert entry is not None and cache.lookup(big.read_bytes()) == (big_parsed.interactions, big_parsed.meta)
    entry.write_bytes(corrupt(entry.stem, entry.read_bytes()))
    assert cache.lookup(big.read_bytes()) is None
    assert load_cassette(big) == big_parsed  # the YAML parse again, which stores a good entry
    assert load_cassette(big) == big_parsed
    assert counts() == (2, 2, 2)


def test_an_entry_that_is_a_folder_is_a_miss(big: Path, big_parsed: Any, folder: Path) -> None:
    load_cassette(big)
    (entry,) = entries(folder)
    entry.unlink()
    entry.mkdir()
    assert load_cassette(big) == big_parsed
    assert counts() == (0, 2, 1)  # the folder stays in the way: stored nothing, raised nothing


# --------------------------------------------------------------------------- the folder


def test_a_cache_path_that_cannot_be_a_folder_does_not_break_loading(big: Path, big_parsed: Any, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(cache.DIR_ENV, str(blocker / "cache"))
    monkeypatch.setattr(cache, "stats", cache.Stats())
    assert load_cassette(big) == load_cassette(big) == big_parsed
    assert counts() == (0, 2, 0)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes to a read-only folder")
def test_a_read_only_folder_does_not_break_loading(big: Path, big_parsed: Any, folder: Path) -> None:
    folder.mkdir(mode=0o500)
    try:
        assert load_cassette(big) == load_cassette(big) == big_parsed
    finally:
        folder.chmod(0o700)
    assert counts() == (0, 2, 0) and list(folder.iterdir()) == []


def test_a_full_disk_does_not_break_loading_and_leaves_no_temp_file(big: Path, big_parsed: Any,
                                                                     folder: Path) -> None:
    folder.mkdir(mode=0o700)
    # A real failed write (EFBIG past RLIMIT_FSIZE, like ENOSPC) that root cannot bypass either.
    limits = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, limits[1]))
    try:
        loaded = [load_cassette(big), load_cassette(big)]
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, limits)
        signal.signal(signal.SIGXFSZ, handler)
    assert loaded == [big_parsed, big_parsed]
    assert counts() == (0, 2, 0) and list(folder.iterdir()) == []


def test_a_folder_others_can_write_is_not_used(big: Path, folder: Path) -> None:
    folder.mkdir()
    folder.chmod(0o777)
    load_cassette(big)
    load_cassette(big)
    assert counts() == (0, 2, 0) and entries(folder) == []


def test_an_unquoted_date_in_meta_is_its_text_and_is_cached(big: Path, tmp_path: Path, folder: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    text = big.read_text(encoding="utf-8").replace("created: '2026-01-01T00:00:00Z'", "created: 2026-01-01", 1)
    path = tmp_path / "dated.yaml"
    path.write_text(text, encoding="utf-8")
    loaded = load_cassette(path)
    assert loaded.meta["created"] == "2026-01-01"  # as written, not a date JSON could not hold
    assert loaded == load_cassette(path) == parsed(path, monkeypatch)
    assert len(entries(folder)) == 1


@pytest.mark.parametrize("cut", [0.8, 0.999])
def test_a_malformed_big_cassette_raises_as_before_and_is_not_stored(
        cut: float, big: Path, tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "broken.yaml"
    data = big.read_bytes()
    path.write_bytes(data[: int(len(data) * cut)])
    assert path.stat().st_size >= cache.MIN_BYTES
    expected = parsed(path, monkeypatch)
    assert isinstance(expected, CassetteError) and expected.line
    for _ in range(2):
        with pytest.raises(CassetteError) as raised:
            load_cassette(path)
        assert str(raised.value) == str(expected) and raised.value.line == expected.line
    assert counts() == (0, 2, 0) and entries(folder) == []


def test_a_bad_status_in_a_big_cassette_keeps_its_line(big: Path, tmp_path: Path, folder: Path) -> None:
    text = big.read_text(encoding="utf-8")
    at = text.index("status: 202")
    path = tmp_path / "bad-status.yaml"
    path.write_text(text[:at] + "status: 2O2" + text[at + len("status: 202"):], encoding="utf-8")
    with pytest.raises(CassetteError, match="status must be an HTTP status code") as raised:
        load_cassette(path)
    assert raised.value.line == text.count("\n", 0, at) + 1
    assert entries(folder) == []


def test_writers_racing_on_one_entry_leave_one_good_entry(big: Path, big_parsed: Any, folder: Path) -> None:
    content = big.read_bytes()
    start = threading.Barrier(6)
    written: list[Path | None] = []

    def write() -> None:
        start.wait()
        for _ in range(3):
            written.append(cache.store(content, big_parsed))

    threads = [threading.Thread(target=write) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(written) == 18 and set(written) == set(entries(folder)) and len(entries(folder)) == 1
    assert [p.suffix for p in folder.iterdir()] == [".json"]  # no temp file left
    assert load_cassette(big) == big_parsed and cache.stats.hits == 1


# --------------------------------------------------------------------------- pruning


def test_loading_prunes_least_recently_used_first(tmp_path: Path, folder: Path, no_threshold: None,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "MAX_ENTRIES", 2)
    names = ["send-draft", "create-draft-json", "sendmail-mime"]
    paths = {name: (SEEDS / f"{name}.yaml") for name in names}
    keys = {name: cache.entry_key(p.read_bytes(), cache.fingerprint() or b"") for name, p in paths.items()}
    load_cassette(paths["send-draft"])
    load_cassette(paths["create-draft-json"])
    old = time.time() - 60
    for p in entries(folder):
        os.utime(p, (old, old))
    load_cassette(paths["send-draft"])  # a hit: now the most recently used
    load_cassette(paths["sendmail-mime"])
    assert {p.stem for p in entries(folder)} == {keys["send-draft"], keys["sendmail-mime"]}
    assert counts() == (1, 3, 3)
