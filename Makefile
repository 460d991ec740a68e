# The two commands: `make run` (the app at http://localhost:3000) and `make test` (every test).
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
TOOLS := .tools
BUN_VERSION := 1.4.5
export PATH := $(CURDIR)/$(TOOLS)/node_modules/.bin:$(CURDIR)/$(BIN):$(PATH)
export REFLEX_TELEMETRY_ENABLED := false
export REFLEX_CHECK_LATEST_VERSION := 0

.PHONY: run test install install-dev bun axe chromium nginx compose migrate lint clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed bun
install-dev: $(VENV)/.installed-dev bun axe chromium nginx compose

# Reflex's own bun installer downloads from outside; the npm registry has the real binary.
bun:
	@command -v bun >/dev/null 2>&1 || npm install --silent --no-audit --no-fund --prefix $(TOOLS) bun@$(BUN_VERSION)

# axe-core, which the browser tests inject into pages to check their accessibility.
AXE_VERSION := 4.14.1
axe:
	@[ -f $(TOOLS)/node_modules/axe-core/axe.min.js ] || npm install --silent --no-audit --no-fund --prefix $(TOOLS) axe-core@$(AXE_VERSION)

# Debian's Chromium for the browser tests (CHROMIUM_PATH names another browser instead).
chromium:
	@if [ -n "$$CHROMIUM_PATH" ] && [ -x "$$CHROMIUM_PATH" ]; then exit 0; fi; \
	if command -v chromium >/dev/null 2>&1; then exit 0; fi; \
	if command -v apt-get >/dev/null 2>&1; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	else echo "Install Chromium, or set CHROMIUM_PATH to a Chromium binary." >&2; exit 1; fi

# Debian's nginx, for the browser test through a real load balancer (deploy/nginx.conf).
nginx:
	@if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then exit 0; fi; \
	if command -v apt-get >/dev/null 2>&1; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nginx >/dev/null; \
	else echo "Install nginx for the load-balancer test." >&2; exit 1; fi

# Debian's docker-compose, to validate compose.yaml (`docker-compose config`; no engine needed).
compose:
	@if command -v docker-compose >/dev/null 2>&1; then exit 0; fi; \
	if command -v apt-get >/dev/null 2>&1; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq docker-compose >/dev/null; \
	else echo "Install docker-compose to check compose.yaml." >&2; exit 1; fi

migrate: $(VENV)/.installed
	$(BIN)/python -m chat_app.migrations

# With REDIS_URL set, the app runs one worker per core (GRANIAN_WORKERS overrides); without it, one process.
run: install migrate
	@if [ -n "$$REDIS_URL$$REFLEX_REDIS_URL" ]; then \
		export GRANIAN_WORKERS=$${GRANIAN_WORKERS:-$$(nproc)}; \
		echo "Redis at $${REDIS_URL:-$$REFLEX_REDIS_URL}: $$GRANIAN_WORKERS workers (set GRANIAN_WORKERS to change)"; \
		exec $(BIN)/reflex run --env prod; \
	else \
		echo "One process (set REDIS_URL to run several workers)"; \
		exec $(BIN)/reflex run --env prod; \
	fi

# The tests without a browser run in this many processes (each test has its own database schema,
# Redis keys and files); the browser tests, bound by their timing, run in one, after them. A browser
# test that fails runs once more (its failure is still reported, as "rerun"): a few depend on a
# shared machine's timing (see the README).
TEST_PROCESSES ?= 2

test: install-dev
	$(BIN)/lint-imports
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/basedpyright --project pyproject.toml
	$(BIN)/python -m pytest -m "not e2e" -n $(TEST_PROCESSES)
	$(BIN)/python -m pytest -m e2e --reruns 1 --reruns-delay 2

lint: install-dev
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/lint-imports && $(BIN)/basedpyright --project pyproject.toml

clean:
	rm -rf .web .states $(TOOLS)
