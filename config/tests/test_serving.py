"""Serving: whitenoise and the static storages, the cache's backend, and ``/healthz``.

The production settings require secrets and refuse to load without them, so they are
imported in a child process with the environment each case needs.
"""

import json
import os
import subprocess
import sys
from unittest import mock

import pytest
from django.conf import settings
from django.db import OperationalError
from django.test import Client, override_settings
from django.urls import reverse
from gunicorn.glogging import Logger

from config import health
from config.gunicorn import AccessLogWithoutHealthChecks
from core.tests.test_security_headers import header_problems

PRODUCTION_ENVIRONMENT = {
    "SECRET_KEY": "a-throwaway-secret-key-for-the-settings-tests-only",
    "AUDIT_SEAL_KEY": "a-throwaway-audit-seal-key-for-the-settings-tests-only",
    "ALLOWED_HOSTS": "example.org",
    "DATABASE_URL": "postgres://clinic_app:unused@db.invalid:5432/clinic",
    "DATABASE_OWNER_URL": "postgres://clinic_owner:unused@db.invalid:5432/clinic",
    "CELERY_BROKER_URL": "redis://broker.invalid:6379/0",
    "PUBLIC_BASE_URL": "https://clinic.example.org",
}
SETTINGS_READ = (
    "STORAGES",
    "CACHES",
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "SECURE_REDIRECT_EXEMPT",
    "SMS_BACKEND",
    "EMAIL_BACKEND",
)


def settings_of(module: str, **environment: str) -> dict:
    """Some settings of ``module``, imported in a child process with ``environment`` added."""
    env = {name: value for name, value in os.environ.items() if name not in {"REDIS_URL", "DATABASE_ROLE"}}
    script = (
        "import importlib, json, sys; m = importlib.import_module(sys.argv[1]); "
        "print(json.dumps({name: getattr(m, name, None) for name in sys.argv[2:]}, default=str))"
    )
    result = subprocess.run(  # noqa: S603 - this interpreter, our own script
        [sys.executable, "-c", script, module, *SETTINGS_READ],
        env={**env, **PRODUCTION_ENVIRONMENT, **environment},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def production():
    return settings_of("config.settings.production")


def staticfiles_backend(storages: dict) -> str:
    return storages["staticfiles"]["BACKEND"]


# Static files --------------------------------------------------------------------------------


def test_whitenoise_serves_static_files_right_after_the_https_middleware():
    security = settings.MIDDLEWARE.index("django.middleware.security.SecurityMiddleware")

    assert settings.MIDDLEWARE[security + 1] == "whitenoise.middleware.WhiteNoiseMiddleware"


def test_production_serves_hashed_compressed_static_files(production):
    assert staticfiles_backend(production["STORAGES"]) == (
        "whitenoise.storage.CompressedManifestStaticFilesStorage"
    )


def test_the_suite_and_the_laptop_use_plain_static_storage_without_collectstatic():
    plain = "django.contrib.staticfiles.storage.StaticFilesStorage"

    assert staticfiles_backend(settings.STORAGES) == plain
    assert staticfiles_backend(settings_of("config.settings.local")["STORAGES"]) == plain


def test_make_serve_settings_are_productions_over_plain_http(production):
    served = settings_of("config.settings.serve")

    assert served["STORAGES"] == production["STORAGES"]
    assert (served["SECURE_SSL_REDIRECT"], served["SESSION_COOKIE_SECURE"]) == (False, False)
    assert (production["SECURE_SSL_REDIRECT"], production["SESSION_COOKIE_SECURE"]) == (True, True)


def test_production_sends_text_messages_to_the_gateway_and_a_laptop_prints_them(production):
    served = settings_of("config.settings.serve")
    laptop = settings_of("config.settings.local")

    assert (production["SMS_BACKEND"], production["EMAIL_BACKEND"]) == (
        "appointments.reminders.channels.HttpGatewaySmsBackend",
        "django.core.mail.backends.smtp.EmailBackend",
    )
    for printed in (served, laptop):
        assert (printed["SMS_BACKEND"], printed["EMAIL_BACKEND"]) == (
            "appointments.reminders.channels.ConsoleSmsBackend",
            "django.core.mail.backends.console.EmailBackend",
        )


@pytest.mark.parametrize("origin", ["", "clinic.example.org"])
def test_production_refuses_to_start_without_the_origin_of_the_family_links(origin):
    with pytest.raises(subprocess.CalledProcessError) as refused:
        settings_of("config.settings.production", PUBLIC_BASE_URL=origin)

    assert refused.value.stderr.strip().splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: PUBLIC_BASE_URL must be set in production: the "
        "origin families open their links at, such as https://clinic.example.org"
    )


# Stateless processes ------------------------------------------------------------------------


def test_the_cache_is_a_database_table_shared_by_every_process(production):
    assert production["CACHES"]["default"] == {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "django_cache",
    }


def test_the_cache_is_redis_when_redis_url_is_set():
    cache = settings_of("config.settings.production", REDIS_URL="redis://cache.invalid:6379/0")["CACHES"]

    assert cache["default"] == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://cache.invalid:6379/0",
    }


def test_sessions_and_sign_in_failures_are_database_rows():
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"
    assert settings.AXES_HANDLER == "axes.handlers.database.AxesDatabaseHandler"


# /healthz -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_answers_ok_to_anyone_without_a_cookie_and_with_the_security_headers(client):
    response = client.get(reverse("healthz"))

    assert (response.status_code, response.content, response["Content-Type"]) == (
        200,
        b"ok",
        "text/plain",
    )
    assert "Set-Cookie" not in response.headers
    assert header_problems(response) == []


@pytest.mark.django_db
def test_healthz_answers_a_load_balancer_asking_by_an_address_not_in_allowed_hosts(client):
    assert client.get(reverse("healthz"), HTTP_HOST="10.0.3.7:8000").status_code == 200
    assert client.get(reverse("login"), HTTP_HOST="10.0.3.7:8000").status_code == 400


def test_healthz_answers_503_when_the_database_does_not(client, monkeypatch):
    unreachable = mock.Mock()
    unreachable.cursor.side_effect = OperationalError("connection refused")
    monkeypatch.setattr(health, "connection", unreachable)

    response = client.get(reverse("healthz"))

    assert (response.status_code, response["Content-Type"]) == (503, "text/plain")
    assert "Set-Cookie" not in response.headers
    assert header_problems(response) == []


@pytest.mark.django_db
def test_healthz_is_read_only(client):
    assert client.post(reverse("healthz")).status_code == 405


@pytest.mark.django_db
def test_healthz_is_not_redirected_to_https_behind_the_load_balancer(production):
    with override_settings(
        SECURE_SSL_REDIRECT=True, SECURE_REDIRECT_EXEMPT=production["SECURE_REDIRECT_EXEMPT"]
    ):
        client = Client()
        assert client.get(reverse("healthz")).status_code == 200
        assert client.get(reverse("login")).status_code == 301


@pytest.mark.parametrize(("path", "logged"), [("/healthz", False), ("/accounts/login/", True)])
def test_gunicorn_leaves_health_checks_out_of_its_access_log(path, logged):
    access_log = AccessLogWithoutHealthChecks.__new__(AccessLogWithoutHealthChecks)

    with mock.patch.object(Logger, "access") as logged_access:
        access_log.access(mock.Mock(), mock.Mock(), {"PATH_INFO": path}, mock.Mock())

    assert logged_access.called is logged
