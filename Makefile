# Set-up is two commands: `make demo` and `make test`. Both create .venv when it is missing.
# CUDA users: `make TORCH="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128" demo`
PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install clean-cache

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# The main job on the embedded default: tiny preset, real shared corpora, CPU.
demo: $(STAMP)
	$(BIN)/poetbench corpus import --preset tiny
	$(BIN)/poetbench corpus stats --preset tiny
	$(BIN)/poetbench train --preset tiny

test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)
