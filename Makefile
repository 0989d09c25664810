# Glamiti: `make run` to try it, `make test` to check it.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format migrations-check install bench clean

$(INSTALLED): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Glamiti needs Python 3.11 or newer (set PYTHON=python3.x).")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet ".[dev]"
	touch $(INSTALLED)

install: $(INSTALLED)

# Development values: DEBUG on, the embedded SQLite database unless DATABASE_URL says otherwise.
run: export DEBUG := 1
run: $(INSTALLED)
	$(PY) manage.py migrate --noinput
	@echo "Loading the demo salons (the first run builds a year of history: about a minute)..."
	$(PY) manage.py seed_demo
	@echo ""
	@echo "  Glamiti is running at http://$(HOST):$(PORT)/"
	@echo "  Log in as olivia / glamiti-demo (owner of Bella Hair & Beauty, manager of Northside Barbers)"
	@echo "  Other demo logins: marco, sam (Bella) · noah, aoife (Northside), same password."
	@echo "  A background worker runs imports next to the web server (stopped with it)."
	@echo ""
	@$(PY) manage.py db_worker --no-reload & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver $(HOST):$(PORT)

test: export SECRET_KEY ?= test-only-not-a-secret
test: $(INSTALLED)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(INSTALLED)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrations-check: export SECRET_KEY ?= migrations-check-not-a-secret
migrations-check: $(INSTALLED)
	$(PY) manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) db.sqlite3 var test-artifacts staticfiles
