# e-KTP back office.
#
#   make run    the embedded demo: SQLite + filesystem Celery broker under var/, no services, no env vars
#   make test   ruff, lint-imports, migrations check and three pytest runs (scripts/test.sh): the whole suite
#               on a throwaway PostgreSQL 15 + Redis, again with the clock 400 days ahead, and the card,
#               appointment, counter and printing tests on SQLite (the embedded default)
#   make lint   ruff check + format check + lint-imports (the app layers)   make fmt   ruff format + fix
#   make clean  remove var/ (SQLite database, Celery folders)
#
# `install` (run by run and test) is idempotent: uv sync --frozen, npm ci only when package-lock.json
# changed, compilemessages only when a .po file changed.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
# uv on PATH, else the module pip installed (works even when pip's script dir is not on PATH).
UV = $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
VENV := .venv/bin

NODE_STAMP := node_modules/.installed
PO_FILES := $(shell find . \( -path ./.venv -o -path ./node_modules -o -path ./.git -o -path ./var \) -prune \
	-o -name '*.po' -print 2>/dev/null)
MO_FILES := $(PO_FILES:.po=.mo)

.PHONY: help install python-deps node-deps messages run test lint fmt clean

help:
	@echo "make run    start the demo (runserver on 127.0.0.1:8000 + Celery worker with beat)"
	@echo "make test   lint, layers, migrations check; pytest on PostgreSQL, with the clock +400 days, and on SQLite"
	@echo "make lint   ruff check + ruff format --check + lint-imports"
	@echo "make fmt    ruff format + ruff check --fix"
	@echo "make clean  remove var/ (SQLite database, Celery broker folders)"

install: python-deps node-deps messages

python-deps:
	@if ! command -v uv >/dev/null 2>&1 && ! $(PYTHON) -m uv --version >/dev/null 2>&1; then \
		echo "uv not found: installing it with pip" >&2; \
		if ! $(PYTHON) -m pip --version >/dev/null 2>&1; then scripts/ensure-system-packages.sh pip; fi; \
		$(PYTHON) -m pip install --quiet uv 2>/dev/null \
			|| $(PYTHON) -m pip install --quiet --break-system-packages uv; \
	fi
	@$(UV) sync --frozen --quiet

node-deps: $(NODE_STAMP)

$(NODE_STAMP): package.json $(wildcard package-lock.json)
	@command -v npm >/dev/null 2>&1 || scripts/ensure-system-packages.sh npm
	@if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
	@touch $@

messages: $(MO_FILES)

ifneq ($(strip $(PO_FILES)),)
$(MO_FILES) &: $(PO_FILES) | python-deps
	@scripts/ensure-system-packages.sh gettext
	$(VENV)/python manage.py compilemessages --ignore=.venv --ignore=node_modules
	@touch $(MO_FILES)
endif

run: install
	@if [ -d locale ]; then scripts/ensure-system-packages.sh gettext pango; else scripts/ensure-system-packages.sh pango; fi
	@scripts/run.sh

test: install
	@scripts/ensure-system-packages.sh postgres redis chromium gettext pango
	@scripts/test.sh

lint: python-deps
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .
	$(VENV)/lint-imports --no-logo --no-cache

fmt: python-deps
	$(VENV)/ruff format .
	$(VENV)/ruff check --fix .

clean:
	rm -rf var
