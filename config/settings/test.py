"""Test runs: fast password hashing, no debug."""

from .base import *  # noqa: F403
from .base import env_bool

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Every lock the suite takes is checked against core.locks' order.
LOCK_ORDER_CHECKS = True
# The suite runs as the owner (pytest-django creates and flushes the databases); migrate
# creates this LOGIN role and grants to it, and the app_role tests connect as it.
DATABASE_APP_ROLE = "clinic_app_test"
# The second factor stays off for the suite; the two-factor tests switch it on (override_settings).
OTP_REQUIRED = False
# Sign-in lockout on, whatever the environment says: the lockout tests rely on it.
AXES_ENABLED = True
# Each test process its own cache: nothing shared between the xdist workers, no table to create.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# The suite collects no static files: whitenoise looks each one up when asked rather than
# scanning a STATIC_ROOT that isn't there (which warns).
WHITENOISE_AUTOREFRESH = True
# The walks over every URL ask the family link from one client address; the rate limit's
# own tests (appointments/tests/test_family_link.py) set a small one.
FAMILY_LINK_RATE_LIMIT = 1000
# Text messages stay in appointments.reminders.channels.outbox: nothing leaves a test.
SMS_BACKEND = "appointments.reminders.channels.LocmemSmsBackend"
# Tasks run in the calling process and raise there; the one test with a real worker
# (appointments/tests/test_tasks_worker.py) starts it with CELERY_EAGER=0.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_EAGER", True)
CELERY_TASK_EAGER_PROPAGATES = True
