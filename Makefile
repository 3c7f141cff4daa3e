# One command for each daily job. `make run` and `make test` set up .venv themselves.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
.PHONY: setup setup-dev run test lint bench clean-index

$(VENV)/.base: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

# Tests also need the sentence-transformers extra (CPU torch pinned), fpdf2, ruff and mypy.
$(VENV)/.dev: $(VENV)/.base
	$(PY) -m pip install --quiet -e '.[st,test,dev]'
	touch $@

setup: $(VENV)/.base
setup-dev: $(VENV)/.dev

# Build (or update) the index of the shipped corpus and answer a sample query.
run: setup
	$(PY) -m assistant ingest
	$(PY) -m assistant search "Kan kommunestyret opprette utvalg?" --k 5

test: setup-dev
	$(PY) -m pytest -q

lint: setup-dev
	$(VENV)/bin/ruff check assistant tests benchmarks app.py
	$(VENV)/bin/mypy assistant

bench: setup-dev
	$(PY) benchmarks/ingest_bench.py
	$(PY) benchmarks/search_bench.py

clean-index:
	rm -rf index/CURRENT index/PREVIOUS index/INSTANCE index/generations index/cache
