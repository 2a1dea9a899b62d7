# Quickstart:  make run   (set up, index the bundled corpus, chat)
#              make test  (set up what is missing, run all tests)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: setup browser pydocs run chat test test-fast eval lint clean-index

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# torch==2.13.0 first: on these machines it is the local CPU build, and the project's
# "torch>=2.2" is then satisfied, so pip never pulls a multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

setup: $(VENV)/.installed
	$(BIN)/assistant model path >/dev/null

run: setup
	$(BIN)/assistant ui

chat: setup
	$(BIN)/assistant chat

# The browser tests drive Debian's Chromium (Playwright downloads no browser of its own).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  (apt-get update -qq && apt-get install -y -qq chromium) >/dev/null 2>&1 || \
	  echo "warning: could not install chromium (needs root and apt); browser tests will skip"; }

# The real development collection of the pydocs eval: Debian's Python 3.11 documentation.
pydocs:
	@test -d /usr/share/doc/python3.11/html || { \
	  (apt-get update -qq && apt-get install -y -qq python3.11-doc) >/dev/null 2>&1 || \
	  echo "warning: could not install python3.11-doc (needs root and apt); the pydocs eval fails"; }

# Unit tests, end-to-end tests with the real model, the browser tests of the UI, the notebook,
# and the regression evals (tests/test_eval_gate.py runs `assistant eval --set ci`: all of
# golden and every 4th pydocs question; reports in eval-out/). `make eval` asks every question.
test: setup browser pydocs
	$(BIN)/python -m pytest -q --durations=20

eval: setup pydocs
	$(BIN)/assistant eval --out eval-out --baseline evals/baseline.json

test-fast: setup
	$(BIN)/python -m pytest -q -m "not e2e"

lint: setup
	$(BIN)/ruff check assistant tests bench
	$(BIN)/ruff format --check assistant tests bench

clean-index:
	rm -rf index/chroma index/catalog.sqlite3* index/manifest.json
