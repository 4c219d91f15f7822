# Set-up and the two commands. Only Python 3.11+ and make are needed on the machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO   ?= build/demo
SCALE  ?= small
SEED   ?= 1

.PHONY: install demo test docs clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/workbench generate --scale $(SCALE) --seed $(SEED) --out $(DEMO)
	@echo
	@echo "Demo case written to $(DEMO): evidence in $(DEMO)/evidence, ground truth in $(DEMO)/truth."

test: install
	$(BIN)/python -m pytest

docs: install
	$(BIN)/workbench docs

clean:
	rm -rf build .pytest_cache
