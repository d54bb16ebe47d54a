# Station Portal: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint i18n clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## run: install, migrate the embedded SQLite database, seed the demo city if empty, serve on
## :8050 with the scheduler beside it (SLA watch, visits, snapshots, briefings, demo simulation)
run: $(STAMP)
	$(BIN)/station-portal db upgrade
	$(BIN)/station-portal seed-demo --if-empty
	$(BIN)/station-portal serve --with-scheduler

## test: lint, then every test (unit, integration, browser; PostgreSQL too when TEST_DATABASE_URL is set),
## in parallel: one xdist worker per core (at most 4), each test file whole on one worker, so a
## file's module fixtures and a worker's seeded demo databases and live portal are built once
TEST_WORKERS ?= auto
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest -n $(TEST_WORKERS) --maxprocesses 4 --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check .

## i18n: extract new messages into the zh_CN and en catalogs
i18n: $(STAMP)
	$(BIN)/station-portal i18n update

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts
