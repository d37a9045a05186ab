# Two commands: `make demo` and `make test`. Both build .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export ZHILI_TEST_DATABASE_URL_PG := $(or $(ZHILI_TEST_DATABASE_URL),$(PG_TEST_URL))

.PHONY: demo test test-sqlite test-pg install dev lint serve clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Zhili needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
dev: $(VENV)/.dev-installed

demo: install
	$(BIN)/zhili demo

serve: install
	$(BIN)/zhili serve

test: dev
	@echo "== tests on SQLite =="
	ZHILI_TEST_DATABASE_URL= $(BIN)/python -m pytest
	@echo "== tests on PostgreSQL ($(ZHILI_TEST_DATABASE_URL_PG)) =="
	ZHILI_TEST_DATABASE_URL=$(ZHILI_TEST_DATABASE_URL_PG) $(BIN)/python -m pytest

lint: dev
	$(BIN)/ruff check src tests
	$(BIN)/mypy src

clean:
	rm -rf $(VENV) var/zhili.db* var/demo-accounts.json
