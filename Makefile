# 职工之家 — everyday commands. `make run` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint format install migrate seed demo clean serve bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_demo

run: demo
	$(PY) manage.py runserver 127.0.0.1:8000

test: install
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest $(PYTEST_ARGS)

# The production server: gunicorn (gunicorn.conf.py) with config.settings.production; set
# SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL … as for any production start (README).
serve: install
	DJANGO_SETTINGS_MODULE=config.settings.production $(PY) manage.py collectstatic --noinput -v0
	DJANGO_SETTINGS_MODULE=config.settings.production $(PY) -m gunicorn -c gunicorn.conf.py

# Load test of the production server on a generated district (bench/README.md):
# `make bench` (500k members / 1M needs on PostgreSQL) or `make bench SCALE=small` (SQLite).
SCALE ?= full
bench: install
	$(PY) -m bench.run --scale $(SCALE) $(BENCH_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/djlint templates --lint

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
