# Set-up is two commands: `make demo` and `make test`. Both create .venv when it is missing.
# CUDA users: `make TORCH="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128" demo`
PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install browser bench

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

DEMO_AUTHORS ?= pushkin,lermontov,tyutchev
define SUPPLY_HELP
No poems to work on: ../shared/corpora is not here and `poetbench corpus fetch` could not download the
demo authors' sources (declared in corpora/sources.toml; it needs network access). Supply poems
yourself: for each author in corpora/authors.toml, point its `path` at a JSONL file (title, text,
optional year, source), a CSV with the same columns, or a folder of .txt files (one poem per file), or
run `poetbench corpus import --author ID PATH`. Authors under copyright, such as Brodsky, are never
downloaded: provide texts you have the right to use. Then run `make demo` again.
endef
export SUPPLY_HELP

# The main job on the embedded default: tiny preset, real corpora (../shared/corpora when present,
# else downloaded by `corpus fetch`), CPU.
demo: $(STAMP)
	@if [ -d ../shared/corpora ]; then \
	  $(BIN)/poetbench corpus import --preset tiny; \
	else \
	  $(BIN)/poetbench corpus fetch --preset tiny --authors $(DEMO_AUTHORS) || { echo "$$SUPPLY_HELP"; exit 1; }; \
	fi
	$(BIN)/poetbench corpus stats --preset tiny
	$(BIN)/poetbench train --preset tiny
	$(BIN)/poetbench eval --preset tiny --models base,lora --samples 2 --themes 20

# The HTML report's test opens it in Debian's headless Chromium; install it when missing (needs
# root and apt; without it that one test is skipped).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 \
	  || echo "chromium could not be installed: the browser test will be skipped"; }

test: $(STAMP) browser
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# CPU benchmarks: each prints a table and updates bench/RESULTS.md and bench/results.json.
# generation.py and eval_tiny.py need trained tiny adapters (run `make demo` first). bench/gpu_seed.py is the GPU
# one: run it by hand on a GPU machine (see its docstring).
bench: $(STAMP)
	$(BIN)/python bench/prosody.py
	$(BIN)/python bench/prosody_accuracy.py
	$(BIN)/python bench/rhyme_cv.py
	$(BIN)/python bench/rhyme_pairs.py
	$(BIN)/python bench/stress_cv.py
	$(BIN)/python bench/stress_peers.py
	$(BIN)/python bench/classifier.py
	$(BIN)/python bench/classifier_choices.py
	$(BIN)/python bench/classifier_models.py
	$(BIN)/python bench/classifier_confirm.py
	$(BIN)/python bench/classifier_speed.py
	$(BIN)/python bench/classifier_curve.py
	$(BIN)/python bench/detectability.py
	$(BIN)/python bench/generation.py
	$(BIN)/python bench/generation_speed.py
	$(BIN)/python bench/eval_tiny.py
	$(BIN)/python bench/train_tiny.py
	$(BIN)/python bench/demo.py
