# Every target bootstraps .venv itself: a fresh machine needs only python3.11 + pip + make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Installs come from lock files of exact versions: every runtime and dev dependency (pip and
# pip-tools too) in requirements.lock, plus the bench extra in requirements-bench.lock. The
# ranges stay in pyproject.toml. After changing a dependency there, run `make lock` and commit
# pyproject.toml with both locks: it keeps every pin that still fits and resolves only what
# changed (`make lock LOCK_ARGS=--upgrade` moves every pin to the newest allowed release).
# Until then the install stops with "run make lock" (pip check sees the missing dependency).
LOCK := requirements.lock
BENCH_LOCK := requirements-bench.lock
COMPILE := CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile -q --strip-extras \
	--allow-unsafe --no-emit-index-url --no-emit-find-links $(LOCK_ARGS)

.PHONY: run test lint bench soak clean browser lock

$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -r $(LOCK)
	$(BIN)/pip install -q -e . --no-deps
	@$(BIN)/pip check >/dev/null || { $(BIN)/pip check; \
		echo "$(LOCK) does not match pyproject.toml: run make lock"; exit 1; }
	touch $(STAMP)

# Not after $(STAMP): it must run while the lock is out of date. pip-compile is pinned in it.
lock:
	test -x $(BIN)/pip-compile || { $(PYTHON) -m venv $(VENV) && $(BIN)/pip install -q -r $(LOCK); }
	$(COMPILE) --extra dev -o $(LOCK) pyproject.toml
	$(COMPILE) --extra dev --extra bench -c $(LOCK) -o $(BENCH_LOCK) pyproject.toml

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

$(VENV)/.bench-installed: $(STAMP) $(BENCH_LOCK)
	$(BIN)/pip install -q -r $(BENCH_LOCK)
	touch $@

bench: $(VENV)/.bench-installed
	$(BIN)/python -m bench

# three replicas on PostgreSQL under a steady mix for MINUTES (default 30): CSV + SVG in bench/out/
soak: $(STAMP)
	$(BIN)/python -m bench.soak --minutes $(or $(MINUTES),30)

clean:
	rm -rf $(VENV) *.egg-info
