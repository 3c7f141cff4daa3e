# One command for each daily job. `make run` and `make test` set up .venv themselves.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup run test lint bench clean-index

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[st,test,dev]'
	touch $(STAMP)

setup: $(STAMP)

# Build (or update) the index of the shipped corpus and answer a sample query.
run: setup
	$(PY) -m assistant ingest
	$(PY) -m assistant search "Kan kommunestyret opprette utvalg?" --k 5

test: setup
	$(PY) -m pytest -q

lint: setup
	$(VENV)/bin/ruff check assistant tests benchmarks app.py
	$(VENV)/bin/mypy assistant

bench: setup
	$(PY) benchmarks/ingest_bench.py
	$(PY) benchmarks/search_bench.py

clean-index:
	rm -rf index/CURRENT index/PREVIOUS index/INSTANCE index/generations index/cache
