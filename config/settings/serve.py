"""`make serve` and `make loadtest`: production's settings over plain HTTP on a laptop.

Everything production runs (debug off, manifest static files through whitenoise, the
second factor for administrators, the app role) but the HTTPS that only a TLS-terminating
proxy gives: no redirect to https, and cookies a browser sends over http://127.0.0.1.
"""

from .production import *  # noqa: F403

SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
# No gateway or mail server on a laptop: messages to families print in the output, as in make run.
SMS_BACKEND = os.environ.get("SMS_BACKEND", "appointments.reminders.channels.ConsoleSmsBackend")
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
