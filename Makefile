# Every target bootstraps .venv itself: a fresh machine needs only python3.11 + pip + make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/crane serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# headless Chromium for the playground test: Debian's package, only when missing (~290 MB)
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq chromium) || echo "warning: could not install Debian chromium;" \
		"the playground browser test will be skipped"

# PostgreSQL tests: CRANE_TEST_PG when it answers, else a private throwaway cluster
test: lint browser
	PYTHON=$(BIN)/python scripts/with-postgres $(BIN)/pytest

$(VENV)/.bench-installed: $(STAMP)
	$(BIN)/pip install -q -e '.[dev,bench]'
	touch $@

bench: $(VENV)/.bench-installed
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) *.egg-info
