# qunyun — two commands on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DB ?= sqlite:///qunyun.db
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test lint typecheck unit bench serve services browser docs clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## make demo: install, build the demo community on SQLite, create an admin login, serve the dashboard
demo: $(STAMP)
	QUNYUN_WEB__HOST=$(HOST) QUNYUN_WEB__PORT=$(PORT) \
	  $(BIN)/qunyun --db $(DEMO_DB) demo --password "$${QUNYUN_DEMO_PASSWORD:-qunyun-demo}"
	@echo "(Ctrl-C stops the dashboard)"
	$(BIN)/qunyun --db $(DEMO_DB) serve --host $(HOST) --port $(PORT)

## make test: everything the suite needs (venv, chromium, PostgreSQL), then ruff, mypy, pytest
test: $(STAMP) browser services
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	bash scripts/run-pytest.sh

unit: $(STAMP)
	bash scripts/run-pytest.sh -m "not browser"

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench || true

typecheck: $(STAMP)
	$(BIN)/mypy

## Debian's chromium for the Playwright test, and a CJK font so zh-CN screenshots show text
browser:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "wenquanyi\|wqy"; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null; \
	fi

services:
	bash scripts/services.sh

## make bench: speed figures as JSON on stdout (not part of the test suite)
bench: $(STAMP) services
	@for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

docs: $(STAMP)
	$(BIN)/typer qunyun.cli.main utils docs --name qunyun --output docs/cli.md

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
