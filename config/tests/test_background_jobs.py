"""The background jobs' configuration: the broker production requires, the queue and key prefix,
and `make run`'s in-process timer (config/inprocess_jobs.py) when no Redis answers."""

import io
import os
import subprocess
import sys
import threading

import pytest
from django.conf import settings

from appointments import tasks
from config import inprocess_jobs
from config.inprocess_jobs import JobTimer, beat_jobs
from config.tests.test_serving import PRODUCTION_ENVIRONMENT
from core import tasks as core_tasks

BROKER_SETTINGS = ("CELERY_BROKER_URL", "CELERY_TASK_DEFAULT_QUEUE", "CELERY_BROKER_TRANSPORT_OPTIONS")


def import_settings(module: str, **environment: str) -> subprocess.CompletedProcess:
    """Import ``module`` in a child process with the production secrets and ``environment``; print
    its broker settings."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name
        not in {"REDIS_URL", "CELERY_BROKER_URL", "CELERY_QUEUE", "CELERY_KEY_PREFIX", "DATABASE_ROLE"}
    }
    env.update({name: value for name, value in PRODUCTION_ENVIRONMENT.items() if name != "CELERY_BROKER_URL"})
    env.update(environment)
    script = (
        "import importlib, sys; m = importlib.import_module(sys.argv[1]); "
        "print([getattr(m, name) for name in sys.argv[2:]])"
    )
    return subprocess.run(  # noqa: S603 - this interpreter, our own script
        [sys.executable, "-c", script, module, *BROKER_SETTINGS],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_refuses_to_start_without_a_broker():
    result = import_settings("config.settings.production")

    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: REDIS_URL (or CELERY_BROKER_URL) must be set in "
        "production: the background jobs' broker"
    )


def test_production_takes_the_broker_from_redis_url_with_the_queue_and_key_prefix_given():
    result = import_settings(
        "config.settings.production",
        REDIS_URL="redis://cache.invalid:6379/1",
        CELERY_QUEUE="centre-a",
        CELERY_KEY_PREFIX="centre-a:",
    )

    assert result.stdout.strip() == (
        "['redis://cache.invalid:6379/1', 'centre-a', {'global_keyprefix': 'centre-a:'}]"
    )


def test_a_laptop_without_redis_url_uses_the_local_redis_on_the_default_queue():
    result = import_settings("config.settings.local")

    assert result.stdout.strip() == "['redis://127.0.0.1:6379/0', 'clinic', {'global_keyprefix': ''}]"


def test_the_in_process_timer_runs_the_beat_schedules_tasks():
    assert beat_jobs() == {
        "send-due-reminders": (tasks.send_due_reminders, 60.0),
        "close-stale-sessions": (tasks.close_stale_sessions, 600.0),
        "expire-waitlist-offers": (tasks.expire_waitlist_offers, 300.0),
        "seal-audit": (core_tasks.seal_audit, 3600.0),
    }


def test_the_in_process_timer_runs_each_job_at_once_then_at_its_interval_past_a_failing_one():
    runs: list[str] = []
    twice = threading.Event()

    def quick() -> None:
        runs.append("quick")
        if runs.count("quick") == 2:
            twice.set()

    def failing() -> None:
        runs.append("failing")
        raise RuntimeError("the database restarted")

    timer = JobTimer(
        {"quick": (quick, 0.05), "failing": (failing, 60.0), "slow": (lambda: runs.append("slow"), 60.0)}
    )
    timer.start()
    assert twice.wait(5)
    timer.stop()
    timer.join(5)

    assert not timer.is_alive()
    assert runs[:3] == ["quick", "failing", "slow"]
    assert (runs.count("failing"), runs.count("slow")) == (1, 1)


@pytest.mark.parametrize(("run_main", "started"), [(None, False), ("true", True)])
def test_make_runs_in_process_jobs_start_in_the_autoreloaders_child_only(monkeypatch, run_main, started):
    served, timers, out = [], [], io.StringIO()
    if run_main is None:
        monkeypatch.delenv("RUN_MAIN", raising=False)
    else:
        monkeypatch.setenv("RUN_MAIN", run_main)
    monkeypatch.setattr(sys, "argv", ["config/inprocess_jobs.py", "127.0.0.1:8000"])
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(inprocess_jobs, "execute_from_command_line", served.append)
    monkeypatch.setattr(JobTimer, "start", lambda timer: timers.append(timer))

    inprocess_jobs.main()

    assert served == [["config/inprocess_jobs.py", "runserver", "127.0.0.1:8000"]]
    assert (len(timers), bool(out.getvalue())) == (int(started), started)
    if started:
        assert out.getvalue() == (
            "No Redis answers: the background jobs (close-stale-sessions, expire-waitlist-offers, "
            "seal-audit, send-due-reminders) run in this process on a timer.\n"
        )
