"""The simulate mode's settings and its inspection points: options read and checked, the state URL, the dump.

``graphtape_simulate_seed`` names a fixture YAML or a cassette (told apart by the cassette's version key); a bad
file, clock or dump path raises ValueError with what to do, so the mode is refused at start (setup.open_mode).

The state of the simulated mailboxes is answered on a graphtape-only path of every Graph host::

    GET https://graph.microsoft.com/_graphtape/mailboxes        -> Simulator.dump() as JSON
    GET https://graph.microsoft.com/_graphtape/mailboxes.yaml   -> the same as a fixture YAML (a seed file)

(in reverse mode: ``http://HOST:PORT/_graphtape/mailboxes``). No Graph URL starts with ``/_graphtape``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from graphtape.cassette.atomicfile import atomic_write, check_writable
from graphtape.cassette.read import VERSION_KEY
from graphtape.graph import error_response, is_graph_host
from graphtape.model import HttpResponse

if TYPE_CHECKING:
    from graphtape.simulate import Simulator
    from graphtape.simulate.fixture import SeedData

NOT_SIMULATED = "graphtape.NotSimulated"  # the simulator's code for an endpoint it does not answer
STATE_PATH = "/_graphtape/mailboxes"
_CASSETTE = re.compile(rf"^{VERSION_KEY}\s*:", re.MULTILINE)


def parse_clock(text: str) -> dt.datetime | None:
    """``2026-01-05T09:00:00Z`` -> an aware datetime (a time without a zone is UTC); "" -> None (the wall clock)."""
    if not text.strip():
        return None
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"graphtape: simulate --clock {text!r} is not an ISO 8601 time; give one such as "
                         "2026-01-05T09:00:00Z") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def is_cassette_text(text: str) -> bool:
    """A graphtape cassette (its version key at the top level), not a fixture."""
    return _CASSETTE.search(text) is not None


def load_seed_file(path: Path) -> SeedData:
    """The seed in ``path``: a fixture YAML (``load_seed``) or a cassette (``seed_from_cassette``)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError(f"graphtape: simulate --seed {path}: no such file (give a fixture YAML or a "
                         "cassette)") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"graphtape: simulate --seed {path}: cannot read it: {e}") from None
    from graphtape.cassette.format import CassetteError
    from graphtape.simulate.fixture import SeedError, load_seed, seed_from_cassette

    try:
        return seed_from_cassette(path) if is_cassette_text(text) else load_seed(path)
    except (SeedError, CassetteError) as e:
        message = str(e)
        raise ValueError(message if message.startswith("graphtape") else f"graphtape: simulate seed: {message}") \
            from None


@dataclass(frozen=True)
class SimSettings:
    """The simulate options, checked."""

    seed_path: str = ""
    seed: SeedData | None = None
    clock: dt.datetime | None = None
    id_seed: int = 0
    dump: Path | None = None
    fresh: bool = True
    key: tuple[object, ...] = field(default=(), compare=False)  # what a kept simulator must have been opened with

    @classmethod
    def from_options(cls, opts: Any) -> SimSettings:
        seed_path = opts.graphtape_simulate_seed
        clock = parse_clock(opts.graphtape_simulate_clock)
        seed = load_seed_file(Path(seed_path).expanduser()) if seed_path else None
        dump = Path(opts.graphtape_simulate_dump).expanduser() if opts.graphtape_simulate_dump else None
        if dump is not None:
            try:
                check_writable(dump)
            except OSError as e:
                raise ValueError(f"graphtape: simulate --dump {dump}: cannot write there: {e.strerror or e}") \
                    from None
        key = (seed_path, opts.graphtape_simulate_clock, opts.graphtape_simulate_id_seed)
        return cls(seed_path, seed, clock, opts.graphtape_simulate_id_seed, dump, opts.graphtape_simulate_fresh, key)

    def new_simulator(self) -> Simulator:
        from graphtape.simulate import Simulator

        return Simulator(seed=self.seed, id_seed=self.id_seed, clock=self.clock)


def is_state_url(url: str) -> bool:
    """``https://graph.microsoft.com/_graphtape/mailboxes`` (or ``.yaml``) on any Graph host."""
    parts = urlsplit(url)
    return is_graph_host(parts.hostname or "") and parts.path.rstrip("/") in (STATE_PATH, f"{STATE_PATH}.yaml")


def state_response(method: str, url: str, state: dict[str, Any]) -> HttpResponse:
    """The state as JSON (or, for ``.yaml``, as a fixture file); only GET."""
    if method.upper() not in ("GET", "HEAD"):
        return error_response(405, "graphtape.MethodNotAllowed",
                              f"graphtape: {STATE_PATH} answers GET only (the simulated mailboxes' state)")
    if urlsplit(url).path.rstrip("/").endswith(".yaml"):
        from graphtape.simulate.fixture import dump_yaml

        return HttpResponse(200, "OK", [("Content-Type", "application/yaml; charset=utf-8")],
                            dump_yaml(state).encode())
    body = json.dumps(state, indent=2, ensure_ascii=False, default=str).encode()
    return HttpResponse(200, "OK", [("Content-Type", "application/json; charset=utf-8")], body)


def write_dump(path: Path, state: dict[str, Any]) -> None:
    """The state as a fixture YAML (``load_seed`` reads it back), written atomically."""
    from graphtape.simulate.fixture import dump_yaml

    atomic_write(path, dump_yaml(state))
