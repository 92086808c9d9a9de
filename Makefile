# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DATA ?= ../shared/data
RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP := $(VENV)/.dev-installed

.PHONY: run test lint bench eval train install install-dev clean

$(RUNTIME_STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(DEV_STAMP): $(RUNTIME_STAMP) requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(RUNTIME_STAMP)
install-dev: $(DEV_STAMP)

run: $(RUNTIME_STAMP)
	$(PY) -m streamlit run Home.py

lint: $(DEV_STAMP)
	$(PY) -m ruff check .

test: $(DEV_STAMP)
	$(PY) -m ruff check .
	$(PY) -m pytest

bench: $(DEV_STAMP)
	$(PY) benchmarks/bench_scoring.py $(CLIPS)

eval: $(RUNTIME_STAMP)
	@if [ -f "$(DATA)/manifest.csv" ]; then \
		$(PY) -m pipeline evaluate $(DATA)/manifest.csv --split val; \
	else echo "skipped: $(DATA)/manifest.csv not found"; fi

train: $(RUNTIME_STAMP)
	@if [ -f "$(DATA)/manifest.csv" ]; then \
		$(PY) -m pipeline train $(DATA)/manifest.csv; \
	else echo "skipped: $(DATA)/manifest.csv not found"; fi

clean:
	rm -rf $(VENV) cache .pytest_cache .ruff_cache
