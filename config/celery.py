"""The Celery app: `celery -A config worker` and `celery -A config beat` (README, Reminders and
background jobs).

Its settings are Django's ``CELERY_*`` settings (config/settings/base.py); the tasks are the
``tasks`` modules of the installed apps (appointments/tasks.py, core/tasks.py).
"""

import os

from celery import Celery

# A worker is deployed as the web is: production's settings unless the environment names others
# (as config/wsgi.py; make run names config.settings.local).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("config")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
