"""Developer laptop: debug on, everything else from base."""

import os

from .base import *  # noqa: F403
from .base import env_bool

DEBUG = env_bool("DEBUG", True)
os.environ.setdefault("DJANGO_RUNSERVER_HIDE_WARNING", "true")
# Messages to families print in the runserver and worker output (SMS_BACKEND's console default
# in base), not to an SMTP server a laptop doesn't have; set EMAIL_BACKEND to send for real.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
