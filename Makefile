# Two commands do all the set-up on a fresh machine with Python 3.11+:
#   make run   - install into .venv and start the demo catalogue (SQLite + embedded search)
#   make test  - install the test dependencies and run the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint bench install native lock docs axe

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/activate
	$(BIN)/pip install --quiet -c constraints.txt -e ".[test]"
	touch $@

# The compiled mapping (catalog/native): built where cargo and Debian's Rust crates are installed
# (apt-get install cargo librust-pyo3-dev librust-unicode-normalization-dev); elsewhere the
# catalogue maps records in Python alone.
NATIVE_SOURCES := catalog/native/Cargo.toml $(wildcard catalog/native/src/*.rs)
$(VENV)/.native: $(NATIVE_SOURCES) | $(VENV)/.installed
	$(BIN)/python -m catalog.native.build --if-possible
	touch $@

native: $(VENV)/.native

install: $(VENV)/.installed $(VENV)/.native

# axe-core for the browser tests' accessibility check, from npm into build/axe (not committed; the
# tests install it themselves when npm is there); its version is tests/api/axe.py's AXE_VERSION
axe: $(VENV)/.installed
	$(BIN)/python -c "from tests.api.axe import axe_script; axe_script()"

run: install
	$(BIN)/unioncat demo --host $(HOST) --port $(PORT)

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) --no-print-directory docs
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

# The documentation (docs/, Sphinx with MyST Markdown) into build/docs; warnings fail the build, so
# a broken link does too.
$(VENV)/.docs: pyproject.toml constraints.txt | $(VENV)/.installed
	$(BIN)/pip install --quiet -c constraints.txt -e ".[test,docs]"
	touch $@

docs: $(VENV)/.docs
	$(BIN)/sphinx-build -W --keep-going -q -b html docs build/docs

bench: install
	$(BIN)/python -m bench.ingest --keep --rounds 3
	$(BIN)/python -m bench.dedup_quality
	$(BIN)/python -m bench.search --http

lock: install $(VENV)/.docs
	{ echo "# Exact versions of every dependency (runtime and test), used by make, CI and the Dockerfile alike."; \
	  echo "# Refresh with 'make lock' after changing pyproject.toml."; \
	  $(BIN)/pip freeze --exclude-editable | grep -v '^unioncat'; } > constraints.txt
