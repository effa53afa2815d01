# Policy Tracker: `make run` serves on 127.0.0.1:$(PORT) with an embedded SQLite database;
# `make test` runs the lint gate and the whole suite on SQLite and on PostgreSQL.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
export DATABASE_URL ?= sqlite:///$(CURDIR)/var/policy_tracker.db
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
SQLITE_TEST_URL := sqlite:///$(CURDIR)/var/test.db
PYTEST_ARGS ?=

.PHONY: help install install-dev system-tools run migrate seed test lint test-sqlite test-postgres bench openapi clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-15s %s\n", $$1, $$2}'

$(BIN)/activate:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/activate pyproject.toml
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed  ## Create .venv and install the service

install-dev: $(VENV)/.installed-dev  ## Also install the test and lint tools

# The contract tests drive /docs in Debian's Chromium and run openapi-generator on Java;
# tests/deployment runs nginx in front of two instances, as docker-compose.yml does. nginx
# is in /usr/sbin, which a non-root PATH may lack: hence the second check.
APT_GET := $(if $(filter 0,$(shell id -u)),,sudo) env DEBIAN_FRONTEND=noninteractive apt-get
system-tools:  ## Install Chromium, a Java runtime, nginx and Node.js from Debian's packages when missing
	@command -v chromium >/dev/null 2>&1 || { echo "installing chromium"; $(APT_GET) update -qq && $(APT_GET) install -y -qq chromium >/dev/null; }
	@command -v java >/dev/null 2>&1 || { echo "installing a Java runtime"; $(APT_GET) update -qq && $(APT_GET) install -y -qq default-jre-headless >/dev/null; }
	@command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || { echo "installing nginx"; $(APT_GET) update -qq && $(APT_GET) install -y -qq nginx >/dev/null; }
	@command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || { echo "installing Node.js and npm"; $(APT_GET) update -qq && $(APT_GET) install -y -qq nodejs npm >/dev/null; }

# The TypeScript compiler and Node's types, which the README's TypeScript story is compiled
# with (tests/contract/test_typescript_sdk.py), at the versions of their lock file.
TS_TOOLS := openapi/typescript/node_modules/.installed
$(TS_TOOLS): openapi/typescript/package-lock.json | system-tools
	cd openapi/typescript && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# playwright-core (driving Debian's Chromium: it downloads no browser) and axe-core, which the
# dashboard's browser tests use (tests/contract/test_dashboard_overview.py).
BROWSER_TOOLS := tests/browser/node_modules/.installed
$(BROWSER_TOOLS): tests/browser/package-lock.json | system-tools
	cd tests/browser && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

var:
	mkdir -p var

migrate: install var  ## Bring the database schema up to date
	$(BIN)/flask --app service migrate

seed: migrate  ## Load the India-France seed data into a database never seeded (later: writes nothing)
	$(BIN)/flask --app service seed

# The worker (background jobs, webhook deliveries) runs beside gunicorn and stops with it;
# they share a metrics directory, so /metrics counts the worker's jobs too.
run: seed  ## Set up, migrate, seed and serve with gunicorn on 127.0.0.1:$(PORT), and a worker
	metrics=$$(mktemp -d); export PROMETHEUS_MULTIPROC_DIR=$$metrics; \
	$(BIN)/flask --app service worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker; rm -rf $$metrics' EXIT; trap 'exit 130' INT TERM; \
	PORT=$(PORT) $(BIN)/gunicorn --config service/gunicorn.conf.py service.wsgi:app

lint: install-dev  ## ruff (lint and format), mypy over service/, bench/ and tests/, and the imports' direction
	$(BIN)/ruff check service tests bench openapi/python
	$(BIN)/ruff format --check service tests bench openapi/python
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

# Each run measures the lines of service/ it runs and fails under the floor of
# [tool.coverage.report] in pyproject.toml (what gunicorn runs in the contract tests, a
# process of its own, is not counted). The floor is the whole suite's: a run narrowed by
# PYTEST_ARGS measures nothing.
COVERAGE := $(if $(PYTEST_ARGS),,--cov=service --cov-report=)

# The SQLite run is of the plain service (SPEEDUPS=off: service/speedups left out), the
# PostgreSQL run of the service with its speed-ups, as production runs it.
test-sqlite: install-dev system-tools var  ## The suite on SQLite, speed-ups off
	SPEEDUPS=off TEST_DATABASE_URL=$(SQLITE_TEST_URL) $(BIN)/pytest -m "not postgres_only" $(COVERAGE) $(PYTEST_ARGS)

test-postgres: install-dev system-tools $(TS_TOOLS) $(BROWSER_TOOLS) var  ## The suite on PostgreSQL ($$TEST_DATABASE_URL, default the local server), speed-ups on
	SPEEDUPS=on TEST_DATABASE_URL=$${TEST_DATABASE_URL:-$(PG_TEST_URL)} $(BIN)/pytest $(COVERAGE) $(PYTEST_ARGS)

test: lint test-sqlite test-postgres  ## Lint, then the whole suite on SQLite and on PostgreSQL

bench: install-dev  ## The benchmark (docs/benchmarks.md): data on PostgreSQL, wrk, the report
	$(BIN)/python -m bench run

openapi: install  ## Write the OpenAPI spec the code generates to openapi/openapi.json
	$(BIN)/flask --app service write-openapi openapi/openapi.json

clean:  ## Remove the virtualenv and local data
	rm -rf $(VENV) var
