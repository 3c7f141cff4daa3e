# One command for each daily job. `make run` and `make test` set up .venv themselves.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
.PHONY: setup setup-dev run demo test test-fast lint bench eval vectors clean-index

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

# Start the app on the shipped corpus (builds the index on first start): http://127.0.0.1:7860
run: setup
	$(PY) app.py

# The same on the command line: build or update the index and answer a sample question.
demo: setup
	$(PY) -m assistant ingest
	$(PY) -m assistant ask "Kan kommunestyret opprette utvalg?" --role jurist

# The suite, then the public and held-out question sets side by side (reported, not gated).
test: setup-dev
	$(PY) -m pytest -q
	$(PY) -m assistant.eval_sets

# The inner loop: everything but the tests marked slow (shipped-corpus index, servers, browser).
test-fast: setup-dev
	$(PY) -m pytest -q -m "not slow"

lint: setup-dev
	$(VENV)/bin/ruff check assistant tests benchmarks app.py
	$(VENV)/bin/mypy assistant

# Benchmarks (not tests): run them on a quiet machine; results go to benchmarks/results/.
bench: setup-dev
	$(PY) benchmarks/ingest_bench.py
	$(PY) benchmarks/search_bench.py
	$(PY) benchmarks/latency_bench.py
	$(PY) benchmarks/embed_contention.py
	$(PY) benchmarks/scale_bench.py
	$(PY) benchmarks/load.py
	$(PY) benchmarks/retrieval_quality.py --ablate

eval: setup
	$(PY) -m assistant eval --json evals/reports/eval.json --thresholds evals/thresholds.yaml

# After a change to the corpus or the chunker: re-embed what changed and rewrite assistant/data/vectors-*.npz.
vectors: setup
	$(PY) -m assistant ship-vectors

clean-index:
	rm -rf index/CURRENT index/PREVIOUS index/INSTANCE index/generations index/cache
