"""The cassette reader over mutated seed cassettes: it loads, or it raises CassetteError naming the file and the
line; never another exception, never a hang. Whatever it loads, the writer writes back loadable and equal.

Seeded and bounded (a few thousand mutations, a few seconds), so a failure names its seed and repeats.
"""

from __future__ import annotations

import random
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import SEEDS
from graphtape.cassette.format import (
    CassetteError,
    assemble,
    interaction_chunk,
    interaction_to_data,
    load_cassette,
    parse_cassette,
    render_head,
)

SEED_FILES = sorted(SEEDS.glob("*.yaml"))
ROUNDS = 300  # per seed file: 7 seeds, ~2,100 inputs
PER_INPUT_S = 2.0


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True) or [b""]


def flip_byte(rng: random.Random, data: bytes) -> bytes:
    i = rng.randrange(len(data))
    return data[:i] + bytes([data[i] ^ (1 << rng.randrange(8))]) + data[i + 1:]


def insert_byte(rng: random.Random, data: bytes) -> bytes:
    i = rng.randrange(len(data) + 1)
    return data[:i] + bytes([rng.choice([0, 9, 10, 13, 32, 35, 39, 34, 45, 58, 0x7F, 0xC3, 0xFF])]) + data[i:]


def delete_line(rng: random.Random, data: bytes) -> bytes:
    lines = _lines(data)
    del lines[rng.randrange(len(lines))]
    return b"".join(lines)


def duplicate_line(rng: random.Random, data: bytes) -> bytes:
    lines = _lines(data)
    i = rng.randrange(len(lines))
    return b"".join([*lines[:i + 1], lines[i], *lines[i + 1:]])


def swap_lines(rng: random.Random, data: bytes) -> bytes:
    lines = _lines(data)
    i = rng.randrange(len(lines))
    j = min(len(lines) - 1, i + rng.choice([1, 1, 2, 5]))
    lines[i], lines[j] = lines[j], lines[i]
    return b"".join(lines)


def truncate(rng: random.Random, data: bytes) -> bytes:
    return data[:rng.randrange(len(data))]


def reindent(rng: random.Random, data: bytes) -> bytes:
    lines = _lines(data)
    i = rng.randrange(len(lines))
    lines[i] = lines[i][rng.choice([1, 2]):] if rng.random() < 0.5 else b" " * rng.choice([1, 2, 4]) + lines[i]
    return b"".join(lines)


def insert_tab_or_cr(rng: random.Random, data: bytes) -> bytes:
    lines = _lines(data)
    i = rng.randrange(len(lines))
    where = rng.choice(["start", "end", "inside"])
    char = rng.choice([b"\t", b"\r", b"\r\n"])
    line = lines[i]
    if where == "start":
        lines[i] = char + line
    elif where == "end":
        lines[i] = line.rstrip(b"\n") + char + (b"\n" if line.endswith(b"\n") else b"")
    else:
        k = rng.randrange(len(line) + 1)
        lines[i] = line[:k] + char + line[k:]
    return b"".join(lines)


MUTATIONS: list[Callable[[random.Random, bytes], bytes]] = [
    flip_byte, insert_byte, delete_line, duplicate_line, swap_lines, truncate, reindent, insert_tab_or_cr,
]


def mutants(seed_file: Path) -> Iterator[tuple[str, bytes]]:
    original = seed_file.read_bytes()
    rng = random.Random(f"graphtape-fuzz {seed_file.name}")
    for n in range(ROUNDS):
        data = original
        names = []
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            mutation = rng.choice(MUTATIONS)
            names.append(mutation.__name__)
            data = mutation(rng, data) if data else data
        yield f"{seed_file.name} #{n} ({'+'.join(names)})", data


class InputTimeout(Exception):
    pass


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    def expired(signum: int, frame: object) -> None:
        raise InputTimeout

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _written_back(path: Path) -> None:
    """What the reader accepted, the writer writes back as a file that loads equal."""
    loaded = load_cassette(path)
    chunks = [interaction_chunk(interaction_to_data(i)).encode() for i in loaded.interactions]
    again = parse_cassette(path, b"".join(assemble(render_head(loaded.meta), chunks)).decode())
    assert (again.interactions, again.meta) == (loaded.interactions, loaded.meta)


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs SIGALRM for the per-input timeout")
@pytest.mark.parametrize("seed_file", SEED_FILES, ids=[p.stem for p in SEED_FILES])
def test_mutated_seed_cassettes_load_or_raise_cassette_error_with_file_and_line(tmp_path, seed_file):
    path = tmp_path / "mutant.yaml"
    outcomes = {"loaded": 0, "refused": 0}
    for name, data in mutants(seed_file):
        path.write_bytes(data)
        try:
            with deadline(PER_INPUT_S):
                _written_back(path)
            outcomes["loaded"] += 1
        except CassetteError as e:
            assert e.path == str(path), name
            # only an empty file has no line to name: every other refusal points at one
            assert e.line is not None or not data.strip(), f"{name}: {e}"
            outcomes["refused"] += 1
        except InputTimeout:
            pytest.fail(f"{name}: took over {PER_INPUT_S} s")
        except Exception as e:  # the point of the test: nothing else may escape
            pytest.fail(f"{name}: {type(e).__name__}: {e}\n{data!r}")
    assert outcomes["loaded"] and outcomes["refused"]  # the mutations reach both sides
