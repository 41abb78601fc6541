"""`make run` without Redis: runserver, with the background jobs on a timer in its process.

``python -m config.inprocess_jobs [addrport]`` is ``manage.py runserver [addrport]``; in the
autoreloader's child (the process that serves, ``RUN_MAIN=true``) a daemon thread also runs
each job of ``CELERY_BEAT_SCHEDULE`` at its interval, calling the task in this process - no
broker, no worker. The parent, which only watches the files, runs none, so a reload never
runs them twice; the thread ends with the process (Ctrl-C, or a reload starting a new child).
"""

import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import django
from django.conf import settings
from django.core.management import execute_from_command_line
from django.db import close_old_connections
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class JobTimer(threading.Thread):
    """Calls each job every ``interval`` seconds, the first time at once, until ``stop()``."""

    def __init__(self, jobs: Mapping[str, tuple[Callable[[], Any], float]]) -> None:
        super().__init__(name="in-process jobs", daemon=True)
        self.jobs = dict(jobs)
        self.stopped = threading.Event()

    def run(self) -> None:
        due = dict.fromkeys(self.jobs, time.monotonic())
        while not self.stopped.is_set():
            for name, (job, interval) in self.jobs.items():
                if due[name] <= time.monotonic():
                    self.run_one(name, job)
                    due[name] = time.monotonic() + interval
            self.stopped.wait(max(0.0, min(due.values()) - time.monotonic()))

    def run_one(self, name: str, job: Callable[[], Any]) -> None:
        try:
            job()
        except Exception:
            # One job failing (a database restart) must not stop the others or the next run.
            logger.exception("In-process job %s failed; it runs again at its next time.", name)
        finally:
            close_old_connections()

    def stop(self) -> None:
        self.stopped.set()


def beat_jobs() -> dict[str, tuple[Callable[[], Any], float]]:
    """celery beat's schedule as (task, interval in seconds): the tasks called directly."""
    schedule: Mapping[str, Mapping[str, Any]] = settings.CELERY_BEAT_SCHEDULE
    return {
        name: (import_string(entry["task"]), float(entry["schedule"])) for name, entry in schedule.items()
    }


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    if os.environ.get("RUN_MAIN") == "true":
        django.setup()
        timer = JobTimer(beat_jobs())
        jobs = ", ".join(sorted(timer.jobs))
        sys.stdout.write(f"No Redis answers: the background jobs ({jobs}) run in this process on a timer.\n")
        sys.stdout.flush()
        timer.start()
    execute_from_command_line([sys.argv[0], "runserver", *sys.argv[1:]])


if __name__ == "__main__":
    main()
