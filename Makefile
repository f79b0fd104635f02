# 工会助手 — developer tasks. `make` alone lists them.
# CI runs `bash .ci/run`, which is `make test` on a clean clone.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules --no-builtin-variables

# The interpreter that creates .venv: python3.11 when there is one, else python3.
PYTHON ?= $(shell command -v python3.11 >/dev/null 2>&1 && echo python3.11 || echo python3)
VENV := .venv
BIN := $(VENV)/bin
# Touched after a successful install; older than pyproject.toml means reinstall.
STAMP := $(VENV)/.installed

ROLE ?= member
PYTEST_ARGS ?=

LOCALES := zh_CN zh_TW en
# Keep in step with KEYWORDS in tests/test_locales.py.
KEYWORDS := -k _ -k t -k N_ -k ngettext:1,2
VERSION = $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' pyproject.toml)
POT_HEADER := \# Translations template for 工会助手 (unionbot).\n\# This file is distributed under the same license as the unionbot project.\n\#

# Local services the tests use when they answer (tests/conftest.py reads these).
TEST_DATABASE_URL := postgresql://postgres@127.0.0.1:5432/test
TEST_REDIS_URL := redis://127.0.0.1:6379/15
# Exit 0 when something accepts a TCP connection on host port within a second.
PROBE := $(BIN)/python -c 'import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1).close()'

# soak: how long, and where the figures go (bench/RESULTS.md, "Soak", says how to read them).
SOAK_MINUTES ?= 30
SOAK_OUT ?= /tmp/unionbot-soak.json

# bench-check: PostgreSQL when it answers here (a throwaway schema, dropped after), else SQLite.
BENCH_POSTGRES_URL ?= $(TEST_DATABASE_URL)
BENCH_CHECK_ARGS ?=

.PHONY: help install demo test bench bench-check soak messages compile clean

help: ## List the targets
	@echo "Targets (variables: ROLE=member|cadre|admin, PYTEST_ARGS, PYTHON, BENCH_CHECK_ARGS, BENCH_POSTGRES_URL):"
	@awk 'BEGIN { FS = ":.*## " } /^[a-z-]+:.*## / { printf "  make %-11s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

install: $(STAMP) ## Create .venv and install the project with its dev tools

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -e '.[dev]'
	touch $@

demo: $(STAMP) ## Chat with the bot in this terminal on demo data in ./data (ROLE=member|cadre|admin)
	$(BIN)/python -m bot demo --role $(ROLE)

test: $(STAMP) ## Lint, type-check, check import rules, run the tests (on PostgreSQL/Redis too when they answer)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	@if [[ -n "$${UNIONBOT_TEST_DATABASE_URL:-}" ]]; then \
	    echo "Database: SQLite + PostgreSQL (UNIONBOT_TEST_DATABASE_URL from the environment)"; \
	elif $(PROBE) 127.0.0.1 5432 2>/dev/null; then \
	    export UNIONBOT_TEST_DATABASE_URL='$(TEST_DATABASE_URL)'; \
	    echo "Database: SQLite + PostgreSQL ($(TEST_DATABASE_URL))"; \
	else \
	    echo "Database: SQLite only (nothing answers on 127.0.0.1:5432)"; \
	fi; \
	if [[ -n "$${UNIONBOT_TEST_REDIS_URL:-}" ]]; then \
	    echo "Store:    memory + Redis (UNIONBOT_TEST_REDIS_URL from the environment)"; \
	elif $(PROBE) 127.0.0.1 6379 2>/dev/null; then \
	    export UNIONBOT_TEST_REDIS_URL='$(TEST_REDIS_URL)'; \
	    echo "Store:    memory + Redis ($(TEST_REDIS_URL))"; \
	else \
	    echo "Store:    memory only (nothing answers on 127.0.0.1:6379)"; \
	fi; \
	$(BIN)/pytest $(PYTEST_ARGS)

bench: $(STAMP) ## Run every bench/bench_*.py
	@shopt -s nullglob; benches=(bench/bench_*.py); \
	if (( $${#benches[@]} == 0 )); then echo "No bench/bench_*.py to run."; exit 0; fi; \
	for bench in "$${benches[@]}"; do echo "== $$bench"; $(BIN)/python "$$bench"; done

bench-check: $(STAMP) ## Brief benchmarks against bench/baseline.json (bench/RESULTS.md); not part of test
	$(BIN)/python bench/check.py --postgres-url '$(BENCH_POSTGRES_URL)' $(BENCH_CHECK_ARGS)

soak: $(STAMP) ## kill -9 tests at 10,000 recipients, then SOAK_MINUTES (30) of two bots under load
	@export UNIONBOT_TEST_DATABASE_URL="$${UNIONBOT_TEST_DATABASE_URL:-$(TEST_DATABASE_URL)}"; \
	export UNIONBOT_TEST_REDIS_URL="$${UNIONBOT_TEST_REDIS_URL:-$(TEST_REDIS_URL)}"; \
	echo "Soak: $(SOAK_MINUTES) min on $$UNIONBOT_TEST_DATABASE_URL and $$UNIONBOT_TEST_REDIS_URL; load now: $$(cut -d' ' -f1-3 /proc/loadavg)"; \
	UNIONBOT_KILL_RECIPIENTS=10000 $(BIN)/pytest -q tests/reliability/test_kill.py; \
	PYTHONPATH=. $(BIN)/python bench/soak.py --minutes $(SOAK_MINUTES) --out $(SOAK_OUT)

messages: $(STAMP) ## Extract the strings into locales/messages.pot and update each locale's messages.po
	$(BIN)/pybabel extract -F babel.cfg --no-default-keywords $(KEYWORDS) --add-comments=TRANSLATORS: \
	    --sort-output --no-wrap --project=unionbot --version='$(VERSION)' \
	    --header-comment=$$'$(POT_HEADER)' -o locales/messages.pot .
	@# The creation date would change the template on every run; the .po files keep theirs.
	sed -i '/^"POT-Creation-Date: /d' locales/messages.pot
	for locale in $(LOCALES); do \
	    $(BIN)/pybabel update -i locales/messages.pot -d locales -D messages -l "$$locale" --init-missing \
	        --no-fuzzy-matching --ignore-obsolete --ignore-pot-creation-date --no-wrap; \
	done

compile: $(STAMP) ## Compile locales/*/LC_MESSAGES/messages.po to .mo (the Dockerfile does the same)
	$(BIN)/pybabel compile -d locales -D messages --statistics

clean: ## Remove .venv, caches and build artefacts (never ./data)
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache .pytest_cache .import_linter_cache .coverage htmlcov ./*.egg-info
	find . \( -path ./data -o -path ./.git \) -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
	find locales -name '*.mo' -delete
