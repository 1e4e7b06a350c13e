"""``graphtape check`` on a batch: an item's error is expected when the recording shows Graph refusing that item."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graphtape.cassette.format import save_cassette
from graphtape.cli import main
from graphtape.model import HttpResponse, Interaction

from .batches import JSON_TYPE, batch_request, draft, send_mime


def _cassette(tmp_path: Path, item_status: int) -> Path:
    req = batch_request(send_mime("ok"), draft("bad", subjct="typo"))
    answer = {"responses": [{"id": "ok", "status": 202}, {"id": "BAD", "status": item_status}]}  # ids: any case
    path = tmp_path / "batch.yaml"
    save_cassette(path, [Interaction(req, HttpResponse(200, "OK", JSON_TYPE, json.dumps(answer).encode()))])
    return path


@pytest.mark.parametrize(("item_status", "exit_status", "words"), [
    (400, 0, "0 error(s), 0 warning(s), 1 error(s) the recording shows Graph refusing"),
    (201, 1, "1 error(s), 0 warning(s), 0 error(s) the recording shows Graph refusing"),
])
def test_an_item_error_is_expected_only_where_graph_refused_that_item(tmp_path, capsys, item_status, exit_status,
                                                                      words) -> None:
    assert main(["check", str(_cassette(tmp_path, item_status))]) == exit_status
    captured = capsys.readouterr()
    assert words in captured.err
    if exit_status:
        assert "property.undeclared: error:" in captured.out and "at batch[1].body.subjct" in captured.out
