# Two commands for a fresh machine: `make run` and `make test`. Both build .venv themselves.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint format install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## run: sample data into an empty store, then the Slack app (tokens set) or the console
run: $(STAMP)
	$(BIN)/roasbot run

## test: the whole suite, on SQLite and on PostgreSQL (found or started by tests/postgres.py),
## in JOBS processes (JOBS=0: in this one, e.g. for pdb)
JOBS ?= 2
test: $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache roasbot.db roasbot.db-wal roasbot.db-shm
