"""The parse cache through the real proxy: a big cassette replayed twice, the second time loaded from the cache."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
from dev.bench import workload
from dev.harness import ProxyProcess

from graphtape.cassette.cache import DIR_ENV, MIN_BYTES

PICKS = (0, 1, 2, 199)  # a draft, a sendMail, a send, and the last interaction


def _replay(path: Path, confdir: Path, cache: Path, items: list) -> list[tuple[int, bytes]]:
    """Start ``graphtape replay`` on ``path`` and send the picked requests through it."""
    answers = []
    with ProxyProcess(["replay", str(path), "--quiet"], confdir, extra_env={DIR_ENV: str(cache)}) as p, \
            httpx.Client(proxy=p.url, verify=str(p.ca)) as client:
        for i in PICKS:
            req = items[i].request
            headers = [(k, v) for k, v in req.headers if k.lower() not in ("host", "content-length", "connection")]
            r = client.request(req.method, req.url, headers=headers, content=req.body)
            answers.append((r.status_code, r.content))
    return answers


def test_a_big_cassette_replays_the_same_when_loaded_from_the_cache(tmp_path: Path, confdir: Path) -> None:
    items = workload.interactions(200)
    path = workload.write_cassette(tmp_path / "big.yaml", items)
    assert path.stat().st_size > MIN_BYTES
    cache = tmp_path / "cache"
    expected = [(items[i].response.status, items[i].response.body) for i in PICKS]

    assert _replay(path, confdir, cache, items) == expected
    (entry,) = cache.glob("*.json")  # the first proxy parsed the YAML and stored the result
    long_ago = 1_000_000_000
    os.utime(entry, (long_ago, long_ago))
    inode = entry.stat().st_ino

    assert _replay(path, confdir, cache, items) == expected
    # Served from the entry: a hit marks it used (mtime) and leaves the file in place (a store would replace it).
    assert entry.stat().st_ino == inode and entry.stat().st_mtime > long_ago
