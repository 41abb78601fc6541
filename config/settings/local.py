"""Developer laptop: debug on, everything else from base."""

import os

from .base import *  # noqa: F403
from .base import env_bool

DEBUG = env_bool("DEBUG", True)
os.environ.setdefault("DJANGO_RUNSERVER_HIDE_WARNING", "true")
