# pedw: two commands on a fresh machine with Python 3.11 and make:
#   make demo   create .venv, install, write the demo data, materialize every asset
#   make test   install the test extras and run the whole suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
# Compiled bytecode halves import time of dagster + great_expectations + statsmodels.
export UV_COMPILE_BYTECODE := 1
export DAGSTER_HOME := $(CURDIR)

.PHONY: install install-test demo test lint format bench bench-deploy docs ui notebook clean

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==0.13.8

install: $(UV)
	$(UV) pip install --quiet --python $(BIN)/python -e .

install-test: $(UV)
	$(UV) pip install --quiet --python $(BIN)/python -e ".[test,deploy]"

demo: install
	$(BIN)/pedw demo-data
	$(BIN)/pedw run

test: install-test
	$(BIN)/python -m pytest

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install-test
	$(BIN)/python bench/enterprise_ingest.py
	$(BIN)/python bench/enterprise_models.py
	$(BIN)/python bench/wild_bootstrap.py
	$(BIN)/python bench/no_change_run.py
	$(BIN)/python bench/pipeline.py
	$(BIN)/python bench/exports.py

# The deployment profile with 1 and 2 Celery workers (needs root, postgresql, redis-server).
bench-deploy: install-test
	$(BIN)/python bench/celery_workers.py

ui: install
	$(BIN)/pedw ui

# JupyterLab on notebooks/ (analyst warehouse, brief charts, estimators).
notebook: $(UV)
	$(UV) pip install --quiet --python $(BIN)/python -e ".[notebook]"
	$(BIN)/jupyter lab notebooks/

clean:
	rm -rf warehouse warehouse_public demo_data .dagster_home bench/out
