# The two commands: `make run` (serve the demo) and `make test` (the whole suite).
# Both work on a fresh machine with Python 3.11+ and make: they create .venv,
# install, find or start PostgreSQL and create the database.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt | cksum | cut -d' ' -f1)
DB_NAME ?= clinic
# The suite runs on both cores (pytest-xdist): 1.7x faster than one process here.
PYTEST_WORKERS ?= 2
# Finds or starts PostgreSQL, creates the database, prints its URL (fails loudly).
FIND_DATABASE = DATABASE_URL="$$($(BIN)/python scripts/dev_database.py $(DB_NAME))" && export DATABASE_URL
# make run's two roles (README, Database roles): the owner's URL for set-up, the app role's
# to serve (the owner's again, with a warning, when the server can't create the role).
FIND_DATABASES = DATABASE_OWNER_URL="$$($(BIN)/python scripts/dev_database.py $(DB_NAME))" && \
	export DATABASE_OWNER_URL && \
	DATABASE_URL="$$($(BIN)/python scripts/dev_database.py --app-role $(DB_NAME))" && export DATABASE_URL
PORT ?= 8000
# make run's background jobs (README, Reminders and background jobs): a Celery worker and beat
# when Redis answers on the broker's URL, else a timer inside runserver (config/inprocess_jobs.py).
BROKER_ANSWERS = $(BIN)/python -c 'import os, redis; redis.Redis.from_url(os.environ.get("CELERY_BROKER_URL") \
	or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0", socket_connect_timeout=1).ping()' 2>/dev/null
# make serve's settings: production's (debug off, manifest static files) over plain http on
# the loopback, with make run's development keys unless the environment gives others.
SERVE_ENVIRONMENT = export DJANGO_SETTINGS_MODULE=config.settings.serve \
	CELERY_BROKER_URL="$${CELERY_BROKER_URL:-$${REDIS_URL:-redis://127.0.0.1:6379/0}}" \
	SECRET_KEY="$${SECRET_KEY:-insecure-local-development-key-change-me}" \
	AUDIT_SEAL_KEY="$${AUDIT_SEAL_KEY:-insecure-development-audit-seal-key}" \
	ALLOWED_HOSTS="$${ALLOWED_HOSTS:-127.0.0.1,localhost}" \
	PUBLIC_BASE_URL="$${PUBLIC_BASE_URL:-http://127.0.0.1:$(PORT)}"
LOADTEST_DURATION ?= 5m
LOADTEST_USERS ?= 48

.PHONY: install run serve loadtest demo-reset test lint messages browsers

$(STAMP): requirements.txt
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

messages: install
	$(BIN)/python scripts/compile_translations.py

browsers:
	sh scripts/ensure_chromium.sh

run: install messages
	$(FIND_DATABASES) && export DJANGO_SETTINGS_MODULE=config.settings.local && \
	DATABASE_ROLE=owner $(BIN)/python manage.py migrate --no-input && \
	DATABASE_ROLE=owner $(BIN)/python manage.py createcachetable && \
	DATABASE_ROLE=owner $(BIN)/python manage.py seed_demo && \
	if $(BROKER_ANSWERS); then \
		$(BIN)/celery -A config worker --loglevel INFO --concurrency 2 & worker=$$!; \
		$(BIN)/celery -A config beat --loglevel INFO --schedule $(VENV)/celerybeat-schedule & beat=$$!; \
		trap 'kill $$worker $$beat 2>/dev/null' EXIT INT TERM; \
		$(BIN)/python manage.py runserver 127.0.0.1:$(PORT); \
	else \
		$(BIN)/python -m config.inprocess_jobs 127.0.0.1:$(PORT); \
	fi

# make run's database and demo, served as production serves (README, Serving): gunicorn with
# config/gunicorn.py (WEB_CONCURRENCY, GUNICORN_THREADS, ...), whitenoise's static files.
serve: install messages
	$(FIND_DATABASES) && $(SERVE_ENVIRONMENT) && \
	DATABASE_ROLE=owner $(BIN)/python manage.py migrate --no-input && \
	DATABASE_ROLE=owner $(BIN)/python manage.py createcachetable && \
	DATABASE_ROLE=owner $(BIN)/python manage.py seed_demo --force && \
	$(BIN)/python manage.py collectstatic --no-input --verbosity 0 && \
	$(BIN)/gunicorn --config config/gunicorn.py --bind 127.0.0.1:$(PORT) config.wsgi

# Mixed staff traffic from locust against 4 gunicorn workers on the loopback, on a throwaway
# database, then check_integrity (loadtest/run.py; README, Load test). Not run by CI.
loadtest: DB_NAME = clinic_loadtest
loadtest: install messages
	$(BIN)/pip install --quiet -r requirements-bench.txt
	$(FIND_DATABASES) && $(SERVE_ENVIRONMENT) && \
	$(BIN)/python loadtest/run.py --duration $(LOADTEST_DURATION) --users $(LOADTEST_USERS)

# Drops the demo's database and creates it again as its owner, then migrates and seeds; refuses
# unless DEBUG is on and the database holds the demo organisation only (demo_reset).
demo-reset: install messages
	$(FIND_DATABASES) && export DJANGO_SETTINGS_MODULE=config.settings.local && \
	DATABASE_ROLE=owner $(BIN)/python manage.py demo_reset

test: install messages browsers
	$(FIND_DATABASE) && export DJANGO_SETTINGS_MODULE=config.settings.test && \
	$(BIN)/python manage.py makemigrations --check --dry-run && \
	$(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy
