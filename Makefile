# The two set-up commands of the README:
#   make demo   install everything and run the demo end to end on DuckDB
#   make test   install everything and run every test (DuckDB and PostgreSQL)

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

# dbt sends nothing anywhere; profiles.yml of this repo is the one in use.
export DO_NOT_TRACK := 1
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DBT_PROFILES_DIR := $(CURDIR)

.PHONY: install demo test lint unit clean bench bench-quick

install: $(INSTALLED)

$(INSTALLED): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is needed (found $$($(PYTHON) --version))."; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	@touch $@

demo: install
	@bash scripts/demo.sh

lint: install
	$(BIN)/sqlfluff lint --disable-progress-bar macros demo/models demo/snapshots integration_tests/models
	$(BIN)/ruff check --select F --no-cache python bench

# Tests run in parallel, one worker per core; a module's tests stay on one worker
# (they share its warehouse fixture). TEST_WORKERS=0 runs them in this process.
TEST_WORKERS ?= auto

test: install lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadscope $(PYTEST_ARGS)

unit: install
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

# Benchmarks (issue 8; bench/): not tests, never run in CI. Both need the PostgreSQL
# server of the tests and install the bench extras (pandas, reladiff) first.
#   make bench        full sizes, about 30 minutes on a quiet 2-core machine, ~12 GB of
#                     free memory (pandas holds two 10-million-row tables): rewrites
#                     BENCHMARKS.md and the headline lines of the README
#   make bench-quick  tiny sizes, a few minutes: bench/results/BENCHMARKS-quick.md
# BENCH_ARGS passes options through, e.g. BENCH_ARGS='--warehouses postgres --scenarios 4'.
BENCH_INSTALL = $(BIN)/python -c 'import pandas, reladiff' 2>/dev/null || \
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev,bench]"

bench: install
	@$(BENCH_INSTALL)
	$(BIN)/python -m bench --preset full --require-all --output BENCHMARKS.md --readme README.md $(BENCH_ARGS)

bench-quick: install
	@$(BENCH_INSTALL)
	$(BIN)/python -m bench --preset quick --output bench/results/BENCHMARKS-quick.md $(BENCH_ARGS)

clean:
	rm -rf $(VENV) target dbt_packages logs *.duckdb integration_tests/target integration_tests/dbt_packages \
		demo/target demo/dbt_packages demo/logs demo/*.duckdb demo/gaps.html
