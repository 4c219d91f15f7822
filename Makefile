# Set-up and the two commands. Only Python 3.11+ and make are needed on the machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO   ?= build/demo
SCALE  ?= small
SEED   ?= 1

.PHONY: install demo lint test docs clean

$(STAMP): pyproject.toml Makefile
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@# rfc3987-syntax comes in through jupyter-events' jsonschema[format-nongpl] extra and
	@# builds a grammar at import: `import altair` takes ~3.4 s with it and ~0.6 s without,
	@# and every papermill run pays that. jsonschema treats it as optional; pip check stays clean.
	$(BIN)/python -m pip uninstall --quiet --yes rfc3987-syntax
	@# Notebooks name the kernel "workbench"; pin it to this venv so plain papermill finds it.
	$(BIN)/python -c "from workbench.reportset.kernel import ensure_kernel; ensure_kernel()"
	@touch $(STAMP)

install: $(STAMP)

# A fixed key so the demo's pseudonyms are stable between runs. Real cases set their own,
# random (`openssl rand -hex 32`): a key needs 16 bytes, at least 10 of them different.
DEMO_KEY ?= demo-only-pseudonym-key-not-secret

demo: install
	$(BIN)/workbench generate --scale $(SCALE) --seed $(SEED) --out $(DEMO)/case
	@# DuckDB: notebook 02 takes ~90 s per audience on SQLite and ~7 s on DuckDB.
	$(BIN)/workbench ingest $(DEMO)/case/evidence --case duckdb:///$(DEMO)/case/case.duckdb
	@if [ -z "$$WORKBENCH_PSEUDONYM_KEY" ]; then \
	  echo "WORKBENCH_PSEUDONYM_KEY is not set: using the demo key '$(DEMO_KEY)' for auditor pseudonyms."; fi
	@# One run of each notebook renders all four sets: $(DEMO)/reports/<audience>/, and the public
	@# set in Swedish too (issue 17) as public:sv, in $(DEMO)/reports/public-sv/.
	WORKBENCH_PSEUDONYM_KEY=$${WORKBENCH_PSEUDONYM_KEY:-$(DEMO_KEY)} \
	  $(BIN)/workbench report --case duckdb:///$(DEMO)/case/case.duckdb --audience investigator,auditor,public,public:sv --out $(DEMO)/reports
	@echo
	@echo "Case:     $(DEMO)/case (evidence/, truth/, case.duckdb)"
	@for audience in investigator auditor public public-sv; do echo "Index:    $(DEMO)/reports/$$audience/index.html"; done
	@echo
	@echo "Headline findings:"
	@$(BIN)/workbench findings $(DEMO)/reports/investigator --headlines
	@$(BIN)/workbench verify $(DEMO)/reports/public --case duckdb:///$(DEMO)/case/case.duckdb

# Lint, format check and type-check (settings in pyproject.toml); every check runs even when
# an earlier one fails, and any failing fails the target. `ruff format workbench tests benchmarks`
# fixes the layout.
lint: install
	$(BIN)/ruff check workbench tests benchmarks; lint=$$?; \
	$(BIN)/ruff format --check workbench tests benchmarks || lint=1; \
	$(BIN)/mypy workbench || lint=1; exit $$lint

# Lint first: a lint or type error fails the run before the (long) suite starts.
test: install lint
	bash scripts/test.sh $(BIN)/python $(PYTEST_ARGS)

docs: install
	$(BIN)/workbench docs

clean:
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
