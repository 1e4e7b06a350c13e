# graphtape — every target installs what it needs first.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install client-deps demo test lint bench cassettes contract clean

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

# The Node.js client tests' packages (tests/clients/node), from package-lock.json; they skip without npm.
NODE_DIR   := tests/clients/node
NODE_STAMP := $(NODE_DIR)/node_modules/.graphtape-installed

$(NODE_STAMP): $(NODE_DIR)/package-lock.json $(NODE_DIR)/package.json
	npm ci --prefix $(NODE_DIR) --no-audit --no-fund --loglevel=error
	@touch $(NODE_STAMP)

client-deps:
	@if command -v npm >/dev/null 2>&1; then $(MAKE) -s --no-print-directory $(NODE_STAMP) \
		|| echo "graphtape: npm ci in $(NODE_DIR) failed (above): the Node.js client tests will skip"; \
	else echo "graphtape: npm not found: the Node.js client tests will skip (install Node.js 18.17+ with npm)"; fi

test: install client-deps
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

# graphtape beside mitmproxy (loopback, a few minutes): one table, the same figures as JSON. The bench extra
# (pytest-recording, vcrpy, py-spy) is for its "suite" section, graphtape's plugin beside VCR.py.
BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e ".[test,bench]"
	@touch $(BENCH_STAMP)

bench: install $(BENCH_STAMP)
	$(PY) -m dev.bench --json bench-results.json

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
