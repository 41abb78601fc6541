# The two commands: `make run` (serve the demo) and `make test` (the whole suite).
# Both work on a fresh machine with Python 3.11+ and make: they create .venv,
# install, find or start PostgreSQL and create the database.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt | cksum | cut -d' ' -f1)
DB_NAME ?= clinic
DB_URL = $(shell $(BIN)/python scripts/dev_database.py $(DB_NAME))

.PHONY: install run test lint messages browsers

$(STAMP): requirements.txt
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

messages: install
	$(BIN)/python manage.py compilemessages --ignore=.venv --verbosity 0

run: install messages
	export DATABASE_URL="$(DB_URL)" DJANGO_SETTINGS_MODULE=config.settings.local && \
	$(BIN)/python manage.py migrate --no-input && \
	$(BIN)/python manage.py seed_demo && \
	$(BIN)/python manage.py runserver 127.0.0.1:8000

browsers:
	sh scripts/ensure_chromium.sh

test: install messages browsers
	export DATABASE_URL="$(DB_URL)" DJANGO_SETTINGS_MODULE=config.settings.test && \
	$(BIN)/python manage.py makemigrations --check --dry-run && \
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
