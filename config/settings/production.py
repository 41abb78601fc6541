"""Production: secrets and hosts have no defaults; HTTPS everywhere."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env_bool, env_list

SECRET_KEY = os.environ["SECRET_KEY"]
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
# Both roles: the app serves as DATABASE_URL's; migrations run as DATABASE_OWNER_URL's.
for name in ("DATABASE_URL", "DATABASE_OWNER_URL"):
    if name not in os.environ:
        raise RuntimeError(f"{name} must be set in production")
if "AUDIT_SEAL_KEY" not in os.environ:
    raise RuntimeError("AUDIT_SEAL_KEY must be set in production (it signs the audit seals)")
# The background jobs need their broker: without one, reminders would silently never go out.
if not (os.environ.get("CELERY_BROKER_URL") or os.environ.get("REDIS_URL")):
    raise ImproperlyConfigured(
        "REDIS_URL (or CELERY_BROKER_URL) must be set in production: the background jobs' broker"
    )
# Every message's confirm-or-cancel link starts with it: base's laptop default would send
# families links that open nothing.
if not os.environ.get("PUBLIC_BASE_URL", "").startswith(("https://", "http://")):
    raise ImproperlyConfigured(
        "PUBLIC_BASE_URL must be set in production: the origin families open their links at, "
        "such as https://clinic.example.org"
    )
DEBUG = False
# Text messages go to the gateway (SMS_GATEWAY_URL...). Never base's console default here: it
# would print each family's message, its confirm-or-cancel link included, into the logs.
SMS_BACKEND = os.environ.get("SMS_BACKEND", "appointments.reminders.channels.HttpGatewaySmsBackend")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# The load balancer's health check comes over plain HTTP behind its TLS (config/health.py).
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
# Administrators and superusers pass the TOTP second factor before any page.
OTP_REQUIRED = env_bool("OTP_REQUIRED", True)
# collectstatic writes each file under a content hash, with a gzip copy, and
# whitenoise serves them with a year's Cache-Control: a new release never meets a stale copy.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
