"""cassette: strict, line-precise loading; lossless, atomic saving."""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from graphtape.cassette import yamldump
from graphtape.cassette.format import (
    FORMAT_VERSION,
    Cassette,
    CassetteError,
    dump_yaml,
    load_cassette,
    parse_cassette,
    save_cassette,
)
from graphtape.model import HttpRequest, HttpResponse, Interaction

GRAPH = "https://graph.microsoft.com/v1.0"
MIME = b"From: a@contoso.com\r\nTo: b@contoso.com\r\nSubject: Hello\r\n\r\nHi there.\r\n"


def sample_interactions() -> list[Interaction]:
    return [
        Interaction(
            HttpRequest("POST", f"{GRAPH}/me/messages",
                        [("Content-Type", "application/json"), ("Authorization", "<redacted>")],
                        b'{"subject":"Did you see last night\'s game?","importance":"Low"}'),
            HttpResponse(201, "Created", [("Content-Type", "application/json"), ("request-id", "r1")],
                         b'{"id":"AAMkAGI1AAAoZCfHAAA=","subject":"Did you see last night\'s game?"}'),
            recorded_at="2026-11-22T00:35:26.263Z", duration_ms=53.25,
        ),
        Interaction(
            HttpRequest("POST", f"{GRAPH}/me/sendMail", [("Content-Type", "text/plain")],
                        base64.encodebytes(MIME)),
            HttpResponse(202, "Accepted", [], b""),
        ),
        Interaction(
            HttpRequest("POST", f"{GRAPH}/me/messages/AAMkAGI1AAAoZCfHAAA%3D/send", [("Content-Length", "0")]),
            HttpResponse(202, "Accepted"),
        ),
    ]


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    path = tmp_path / "real.yaml"
    save_cassette(path, sample_interactions())
    return path


def snapshot(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


def refused(path: Path) -> CassetteError:
    """Load ``path`` expecting a CassetteError; check the file is untouched and the message names it."""
    before = snapshot(path) if path.is_file() else None
    with pytest.raises(CassetteError) as info:
        load_cassette(path)
    if before is not None:
        assert snapshot(path) == before
    assert str(path) in str(info.value)
    return info.value


def write(tmp_path: Path, text: str | bytes, name: str = "c.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


HEAD = "graphtape_cassette: 1\ninteractions:\n"


def one(request: str = "    method: GET\n    url: https://graph.microsoft.com/v1.0/me/messages\n",
        response: str = "    status: 200\n") -> str:
    return HEAD + "- request:\n" + request + "  response:\n" + response


# --------------------------------------------------------------------------- round trip


def test_save_then_load_gives_the_same_interactions(saved: Path) -> None:
    loaded = load_cassette(saved)
    original = sample_interactions()
    assert [i.request for i in loaded.interactions] == [i.request for i in original]
    assert [i.response for i in loaded.interactions] == [i.response for i in original]
    assert loaded.interactions[0].recorded_at == "2026-11-22T00:35:26.263Z"
    assert loaded.interactions[0].duration_ms == pytest.approx(53.2)  # kept to 0.1 ms
    assert loaded.interactions[1].duration_ms is None
    assert loaded.meta["graphtape_version"]
    assert loaded.path == saved


def test_saved_file_is_readable_yaml_with_decoded_bodies(saved: Path) -> None:
    text = saved.read_text()
    assert f"graphtape_cassette: {FORMAT_VERSION}" in text
    assert "Subject: Hello" in text  # MIME stored decoded
    assert "importance: Low" in text  # JSON stored as YAML
    assert "&" not in text.replace("&amp", "") and "*id" not in text  # no anchors/aliases


def test_save_load_save_is_stable(saved: Path, tmp_path: Path) -> None:
    loaded = load_cassette(saved)
    again = tmp_path / "again.yaml"
    save_cassette(again, loaded.interactions, loaded.meta)
    assert again.read_bytes() == saved.read_bytes()


def test_header_order_case_and_repeats_survive(tmp_path: Path) -> None:
    headers = [("Set-Cookie", "a=1; Path=/"), ("X-B", "1"), ("set-cookie", "b=2"), ("x-a", "2"),
               ("SET-COOKIE", "c=3"), ("Empty", ""), ("Num", "0042"), ("Yes", "true"), ("Colon", "a: b")]
    interaction = Interaction(HttpRequest("GET", f"{GRAPH}/me", headers), HttpResponse(200, "OK", headers))
    save_cassette(tmp_path / "h.yaml", [interaction])
    loaded = load_cassette(tmp_path / "h.yaml").interactions[0]
    assert loaded.request.headers == headers
    assert loaded.response.headers == headers


def test_empty_interactions_list_loads_as_empty(tmp_path: Path) -> None:
    assert load_cassette(write(tmp_path, HEAD.replace("interactions:\n", "interactions: []\n"))).interactions == []
    save_cassette(tmp_path / "e.yaml", [])
    assert load_cassette(tmp_path / "e.yaml").interactions == []


def test_method_is_upper_cased_and_header_numbers_become_strings(tmp_path: Path) -> None:
    text = one(request="    method: post\n    url: https://graph.microsoft.com/v1.0/me\n    headers:\n"
                       "    - Content-Length: 0\n    - X-Null:\n")
    loaded = load_cassette(write(tmp_path, text)).interactions[0]
    assert loaded.request.method == "POST"
    assert loaded.request.headers == [("Content-Length", "0"), ("X-Null", "")]


@settings(max_examples=200, deadline=None, database=None)
@given(st.text(alphabet=st.sampled_from(list("ab :#'\"-\t\n\r\x85\u2028\u2029\ufeff\x00é|>")), max_size=60))
def test_property_any_string_survives_the_yaml_dumper(value: str) -> None:
    # Header values, URLs, JSON strings and MIME text all go through the same string representer.
    for text in (value, value * 3):
        expected: dict[str, object] = {"k": text, text: [text]}
        out = dump_yaml({"json": expected})
        loaded = parse_cassette(Path("p.yaml"), "graphtape_cassette: 1\ninteractions:\n- request:\n"
                                "    method: GET\n    url: https://graph.microsoft.com/v1.0/me\n"
                                "  response:\n    status: 200\n    body:\n" + _indent(_indent(_indent(out))))
        assert json.loads(loaded.interactions[0].response.body) == expected


@settings(max_examples=200, deadline=None, database=None)
@given(st.recursive(st.text(alphabet=st.sampled_from(list("ab :#'\"-\t\t\n\n\r\x85\u2028\ufeff\xa0é|>\x00\ue009"
                                                        "\U0001f600")), max_size=90)
                    | st.integers() | st.floats(allow_nan=False) | st.booleans() | st.none(),
                    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=8), kids, max_size=3),
                    max_leaves=12))
def test_property_libyaml_and_pyyaml_emitters_write_the_same_data(data: object) -> None:
    # Recording emits with libyaml (fast) and falls back to PyYAML's emitter for tab-indented blocks.
    by_python = yaml.dump({"k": data}, Dumper=yamldump._Dumper, sort_keys=False, allow_unicode=True, width=100,
                          default_flow_style=False)
    assert yaml.load(by_python, Loader=yaml.SafeLoader) == {"k": data}
    assert yaml.load(dump_yaml({"k": data}), Loader=yaml.SafeLoader) == {"k": data}
    if yaml.__with_libyaml__:  # the cassette reader's loader, stricter than PyYAML's about tabs
        assert yaml.load(dump_yaml({"k": data}), Loader=yaml.CSafeLoader) == {"k": data}


@pytest.mark.parametrize("text", ["\tlead tab\n" + "x" * 40, "\tlead\n\tfolded" + "y" * 40, "\t\n" + "z" * 41,
                                  " \tspace then tab\n" + "x" * 40, "\n\tafter a blank line\n" + "x" * 40])
def test_text_whose_first_line_starts_with_a_tab_is_written_so_that_libyaml_reads_it(text: str) -> None:
    # libyaml refuses a tab where a | block's indentation is looked for: a mail text starting with one was written
    # into a cassette that could not be read back.
    out = dump_yaml({"k": text, "list": [text]})
    assert yaml.load(out, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) == {"k": text, "list": [text]}
    loaded = parse_cassette(Path("p.yaml"), "graphtape_cassette: 1\ninteractions:\n- request:\n"
                            "    method: GET\n    url: https://graph.microsoft.com/v1.0/me\n"
                            "  response:\n    status: 200\n    body:\n" + _indent(_indent(_indent(dump_yaml(
                                {"json": {"k": text}})))))
    assert json.loads(loaded.interactions[0].response.body) == {"k": text}


def test_folded_mime_headers_stay_a_readable_block() -> None:
    mime = "Subject: a subject long enough to fold\nThread-Topic: one\n\ttwo\n\nHello.\n"
    out = dump_yaml({"mime": mime})
    assert out.startswith("mime: |\n") and "\n  \ttwo\n" in out
    assert yaml.safe_load(out) == {"mime": mime}
    plain = dump_yaml({"mime": mime.replace("\t", " ")})
    assert plain.startswith("mime: |\n")
    with_stand_in = mime + "\ue009 (the private-use character the fast emitter stands tabs in with)\n"
    out = dump_yaml({"mime": with_stand_in})  # left to PyYAML's emitter
    assert out.startswith("mime: |\n") and yaml.safe_load(out) == {"mime": with_stand_in}


def _indent(text: str) -> str:
    return "".join("  " + line for line in text.splitlines(keepends=True))


# --------------------------------------------------------------------------- refusals with file and line


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("graphtape_cassette: 1\ninteractions: [\n", 3, "invalid YAML"),
        ("graphtape_cassette: 1\n  bad: indent\n", 2, "invalid YAML"),
        ("graphtape_cassette: 2\ninteractions: []\n", 1, "unknown cassette format version 2"),
        ("graphtape_cassette: '1'\ninteractions: []\n", 1, "unknown cassette format version '1'"),
        ("interactions: []\n", 1, "no 'graphtape_cassette' version key"),
        ("- request: {}\n", 1, "top level is not a mapping"),
        ("graphtape_cassette: 1\ngraphtape_cassette: 1\n", 2, "duplicate key 'graphtape_cassette'"),
        ("graphtape_cassette: 1\nmeta: [1]\ninteractions: []\n", 2, "meta must be a mapping"),
        ("graphtape_cassette: 1\ninteractions: {}\n", 2, "interactions must be a list"),
        (HEAD + "- just a string\n", 3, "interaction 1 must be a mapping"),
        (HEAD + "- response:\n    status: 200\n", 3, "interaction 1 has no 'request'"),
        (HEAD + "- request:\n    method: GET\n    url: https://graph.microsoft.com/v1.0/me\n", 3,
         "interaction 1 has no 'response'"),
        (one(request="    method: GET\n"), 4, "interaction 1.request has no 'url'"),
        (one(request="    url: https://graph.microsoft.com/v1.0/me\n"), 4, "interaction 1.request has no 'method'"),
        (one(request="    method: GET\n    url: /v1.0/me\n"), 5, "is not an absolute http(s) URL"),
        (one(request="    method: GET\n    url: 42\n"), 5, "interaction 1.request.url must be a string"),
        (one(response="    reason: OK\n"), 7, "interaction 1.response has no 'status'"),
        (one(response="    status: '200'\n"), 7,
         "interaction 1.response.status must be an HTTP status code, got '200'"),
        (one(response="    status: 200.0\n"), 7, "status must be an HTTP status code"),
        (one(response="    status: true\n"), 7, "status must be an HTTP status code, got True"),
        (one(response="    status: 999\n"), 7, "status must be an HTTP status code, got 999"),
        (one(response="    status: 200\n    headers: {Content-Type: text/plain}\n"), 8,
         "interaction 1.response.headers must be a list of 'Name: value' entries"),
        (one(response="    status: 200\n    headers: text/plain\n"), 8, "must be a list"),
        (one(response="    status: 200\n    headers:\n    - {Content-Type: text/plain, X-Other: a}\n"), 9,
         "interaction 1.response.headers entry must have exactly one 'Name: value'"),
        (one(response="    status: 200\n    headers:\n    - Content-Type\n"), 9, "headers entry must be a mapping"),
        (one(response="    status: 200\n    headers:\n    - X-List: [a, b]\n"), 9, "'X-List' must be a string"),
        (one(response="    status: 200\n    body:\n      yaml: {a: 1}\n"), 9,
         "interaction 1.response.body: unknown key 'yaml'"),
        (one(response="    status: 200\n    body:\n      base64: '%%%'\n"), 9, "not valid base64"),
        (one(response="    status: 200\n    body: just text\n"), 8, "body must be a mapping"),
        (one(response="    status: 200\n  duration_ms: fast\n"), 8, "duration_ms must be a number"),
        (one(response="    status: !!python/object/apply:os.system ['echo owned']\n"), 7, "YAML tag !!python/object"),
        (one(response="    status: !!int abc\n"), 7, "cannot read this value"),
    ],
)
def test_malformed_cassette_is_refused_with_line(tmp_path: Path, text: str, line: int, words: str) -> None:
    err = refused(write(tmp_path, text))
    assert words in str(err)
    assert err.line == line, str(err)
    assert f"c.yaml:{line}:" in str(err)


def test_second_interaction_is_named(tmp_path: Path) -> None:
    text = one() + "- request:\n    method: GET\n  response:\n    status: 200\n"
    err = refused(write(tmp_path, text))
    assert "interaction 2.request has no 'url'" in str(err)
    assert err.line == 9


def test_unknown_version_hint_says_what_to_do(tmp_path: Path) -> None:
    err = refused(write(tmp_path, "graphtape_cassette: 99\n"))
    assert "re-record" in err.hint and "upgrade" in err.hint


def test_vcr_cassette_is_not_a_graphtape_cassette(tmp_path: Path) -> None:
    err = refused(write(tmp_path, "interactions:\n- request: {method: GET, uri: 'https://x'}\nversion: 1\n"))
    assert "not a graphtape cassette" in str(err)
    assert "VCR" in err.hint


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("graphtape_cassette: 1\nmeta: &m {a: 1}\ninteractions: []\n", "anchors are not allowed"),
        ("graphtape_cassette: 1\nmeta: {a: 1}\nother: *m\n", "alias"),
    ],
)
def test_anchors_and_aliases_are_refused(tmp_path: Path, text: str, words: str) -> None:
    err = refused(write(tmp_path, text))
    assert words in str(err)
    assert err.line in (2, 3)


def test_billion_laughs_is_refused_fast(tmp_path: Path) -> None:
    lines = ["graphtape_cassette: 1", 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    prev = "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
        prev = name
    lines.append("interactions: *i")
    path = write(tmp_path, "\n".join(lines) + "\n")
    start = time.perf_counter()
    err = refused(path)
    assert time.perf_counter() - start < 2.0
    assert "anchors are not allowed" in str(err)
    assert err.line == 2


def test_deeply_nested_yaml_is_refused_not_crashing(tmp_path: Path) -> None:
    text = "graphtape_cassette: 1\nmeta: " + "[" * 5000 + "]" * 5000 + "\ninteractions: []\n"
    err = refused(write(tmp_path, text))
    assert "invalid YAML" in str(err) or "cannot read" in str(err)


def test_non_utf8_bytes_report_their_line(tmp_path: Path) -> None:
    path = write(tmp_path, b"graphtape_cassette: 1\nmeta:\n  note: caf\xe9\ninteractions: []\n")
    err = refused(path)
    assert err.line == 3
    assert "not UTF-8" in str(err) and "0xe9" in str(err)


def test_empty_file_is_refused(tmp_path: Path) -> None:
    for content in ("", "\n\n", "# just a comment\n"):
        err = refused(write(tmp_path, content))
        assert "empty" in str(err)


def test_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "dir.yaml"
    folder.mkdir()
    assert "folder" in str(refused(folder))


def test_missing_file_is_refused(tmp_path: Path) -> None:
    err = refused(tmp_path / "nope.yaml")
    assert "no such cassette" in str(err)
    assert "record" in err.hint
    assert not (tmp_path / "nope.yaml").exists()


# --------------------------------------------------------------------------- truncation


@pytest.mark.parametrize("fraction", [0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.95, 0.999])
def test_truncated_cassette_is_refused(saved: Path, fraction: float) -> None:
    data = saved.read_bytes()
    path = saved.with_name("cut.yaml")
    path.write_bytes(data[: int(len(data) * fraction)])
    err = refused(path)
    assert err.line is not None or "empty" in str(err)


def test_every_cut_at_a_line_end_is_refused(saved: Path) -> None:
    data = saved.read_bytes()
    path = saved.with_name("cut.yaml")
    ends = [i + 1 for i, b in enumerate(data) if b == ord("\n")][:-1]
    assert len(ends) > 20
    for end in ends:
        path.write_bytes(data[:end])
        with pytest.raises(CassetteError):
            load_cassette(path)


def test_any_cut_raises_only_cassette_error(saved: Path) -> None:
    data = saved.read_bytes()
    path = saved.with_name("cut.yaml")
    for end in range(1, len(data) - 1, 7):
        path.write_bytes(data[:end])
        with pytest.raises(CassetteError):
            load_cassette(path)


def test_whole_file_loads(saved: Path) -> None:
    assert isinstance(load_cassette(saved), Cassette)
    assert len(load_cassette(saved).interactions) == 3


def test_safe_loader_never_runs_python_tags(tmp_path: Path) -> None:
    marker = tmp_path / "owned"
    text = f"graphtape_cassette: 1\nmeta: !!python/object/apply:os.system ['touch {marker}']\ninteractions: []\n"
    refused(write(tmp_path, text))
    assert not marker.exists()


# --------------------------------------------------------------------------- writing


def test_save_is_atomic_and_leaves_no_temp_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.yaml"
    save_cassette(path, sample_interactions()[:1])
    before = snapshot(path)

    def boom(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        save_cassette(path, sample_interactions())
    monkeypatch.undo()
    assert snapshot(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]
    assert len(load_cassette(path).interactions) == 1


def test_save_creates_parent_folders(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "c.yaml"
    save_cassette(path, [])
    assert load_cassette(path).interactions == []


def test_dumped_yaml_loads_with_plain_safe_loader(saved: Path) -> None:
    data = yaml.safe_load(saved.read_text())
    assert data["graphtape_cassette"] == FORMAT_VERSION
    assert data["interactions"][1]["request"]["body"]["mime"].startswith("From: a@contoso.com")


def test_save_cassette_refuses_one_over_the_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """save_cassette writes through the recorder's size check: graphtape never writes a cassette it cannot read."""
    monkeypatch.setenv("GRAPHTAPE_MAX_CASSETTE_MB", "0.002")  # ~2 KB
    small = tmp_path / "small.yaml"
    save_cassette(small, sample_interactions()[:1])
    assert len(load_cassette(small).interactions) == 1
    big = Interaction(HttpRequest("POST", "https://graph.microsoft.com/v1.0/me/messages",
                                  [("Content-Type", "application/json")], json.dumps({"x": "y" * 4000}).encode()),
                      HttpResponse(201))
    with pytest.raises(OSError, match=r"over the .* MB limit for a cassette"):
        save_cassette(tmp_path / "big.yaml", [big])
    assert not (tmp_path / "big.yaml").exists()
