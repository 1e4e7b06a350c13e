"""Loaded by a graphtape child process whose PYTHONPATH starts with this folder (see test_record_failures.py):
``GRAPHTAPE_TEST_FAULT=recorder-add`` makes ``Recorder.add`` raise an unexpected error, as a bug would."""

import os

if os.environ.get("GRAPHTAPE_TEST_FAULT") == "recorder-add":
    from graphtape.cassette import recorder

    def _broken_add(self, interaction):
        raise RuntimeError("injected fault: a bug in Recorder.add")

    recorder.Recorder.add = _broken_add  # type: ignore[method-assign]
