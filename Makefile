# graphtape — every target installs what it needs first.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo test lint bench cassettes contract clean

# The first Python >= 3.12 found (pyenv reads .python-version here), for the virtualenv.
PYTHON_FOR_VENV := $(shell for c in python3.12 python3.13 python3.14 python3 python; do \
	command -v $$c >/dev/null 2>&1 && $$c -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null \
	&& { echo $$c; break; }; done)

$(STAMP): pyproject.toml
	@if [ -z "$(PYTHON_FOR_VENV)" ]; then \
		echo "graphtape needs Python >= 3.12 (mitmproxy 12 does); install one (e.g. pyenv install 3.12)"; exit 1; fi
	@[ -x $(PY) ] && $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null \
		|| { rm -rf $(VENV); $(PYTHON_FOR_VENV) -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

install: $(STAMP)

demo: install
	$(PY) -m dev.demo --cassettes cassettes/seeds

test: install
	$(PY) -m pytest -n 2 --dist loadfile -q

lint: install
	$(VENV)/bin/ruff check addon dev tests
	$(VENV)/bin/mypy
	$(VENV)/bin/mypy --allow-untyped-defs tests

cassettes: install
	$(PY) -m dev.demo --build --cassettes cassettes/seeds

# The contract's structural layer (contract/graph-*.json) from Graph's CSDL; commit what it writes.
GRAPH_METADATA ?= ../shared/graph-metadata
contract: install
	$(PY) -m graphtape.contract.generate --metadata $(GRAPH_METADATA)

# graphtape beside mitmproxy (loopback, a few minutes): one table, the same figures as JSON.
bench: install
	$(PY) -m dev.bench --json bench-results.json

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
