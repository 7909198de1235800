# telcodesk: everything goes through this file. `make demo` and `make test` are all a
# fresh machine needs; every target bootstraps .venv from the pinned requirements first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: messages-extract setup demo serve test test-fast e2e lint typecheck fmt migrations-check schema schema-check messages browser bench bench-load bench-ingest bench-pacing clean

setup: $(STAMP) messages

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

# Compiled catalogs are build products: made from the committed .po files with Babel.
messages: $(STAMP)
	@$(BIN)/python -m telcodesk.core.i18n_compile

# Refresh the catalogs from the source (needs GNU gettext's xgettext, a developer tool).
messages-extract: $(STAMP)
	cd src/telcodesk && ../../$(BIN)/telcodesk makemessages -l es -l pt_BR --no-obsolete --ignore "migrations/*"

# Debian's Chromium for the browser tests; installed when missing and we may (root + apt).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium missing and cannot be installed here: browser tests will be skipped"; fi; \
	fi

demo: setup
	$(BIN)/telcodesk demo --serve

serve: setup
	$(BIN)/telcodesk serve

test: setup browser
	$(BIN)/pytest -p no:cacheprovider $(PYTEST_ARGS)

test-fast: setup
	$(BIN)/pytest -p no:cacheprovider -m "not e2e" $(PYTEST_ARGS)

e2e: setup browser
	$(BIN)/pytest -p no:cacheprovider e2e $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check src tests e2e bench
	$(BIN)/ruff format --check src tests e2e bench

fmt: setup
	$(BIN)/ruff check --fix src tests e2e bench
	$(BIN)/ruff format src tests e2e bench

typecheck: setup
	$(BIN)/mypy

migrations-check: setup
	$(BIN)/telcodesk manage makemigrations --check --dry-run

schema: setup
	$(BIN)/telcodesk openapi > docs/openapi.json

schema-check: setup
	$(BIN)/telcodesk openapi | diff -u docs/openapi.json - && echo "openapi schema up to date"

bench: setup
	$(BIN)/python bench/search.py $(BENCH_ARGS)

bench-load: setup
	$(BIN)/python bench/load.py $(BENCH_ARGS)

bench-ingest: setup
	$(BIN)/python bench/webhook_ingest.py $(BENCH_ARGS)

bench-pacing: setup
	$(BIN)/python bench/pacing.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var/*.sqlite3 var/e2e
