"""One task through a real Redis and a real Celery worker process, against the test database.

The worker runs the test settings without eager tasks (``CELERY_EAGER=0``), on a queue and a
Redis key prefix of this run's own, so runs sharing one Redis (xdist, a developer's ``make run``)
never take each other's tasks. Without Redis the test is skipped, except under ``CI=true``, where
the jobs' engine must be proven.
"""

import datetime
import os
import subprocess
import sys
import time
import uuid
import zoneinfo

import pytest
import redis
import time_machine
from django.conf import settings
from django.db import connection

from appointments import tasks
from appointments.models import WaitlistEntry
from appointments.session_service import SessionService
from appointments.tests.test_waitlist import CANCEL_REASON, child, fill, group
from config.celery import app
from core.models import Clinic
from core.tests.factories import ClinicFactory, ProviderFactory, TenantFactory

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
WAIT_SECONDS = 30
# Long past: the worker's clock is the real one, and the offer ran out long before it.
LONG_AGO = datetime.datetime(2024, 1, 7, 10, tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))


@pytest.fixture
def redis_answers():
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as error:
        reason = f"Redis doesn't answer on {REDIS_URL} ({error.__class__.__name__}): no worker to test"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI=true needs it.")
        pytest.skip(reason)


def worker_database_url() -> str:
    """The URL of the database this test runs in (``test_<name>``, ``test_<name>_gw0`` under xdist)."""
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker(redis_answers):
    """A Celery worker on this run's queue and key prefix; its queue, prefix and output file."""
    run = uuid.uuid4().hex[:12]
    queue, prefix = f"test-{run}", f"test-{run}:"
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DATABASE_OWNER_URL", "DATABASE_ROLE", "CELERY_BROKER_URL"}
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=worker_database_url(),
        CELERY_EAGER="0",
        CELERY_QUEUE=queue,
        CELERY_KEY_PREFIX=prefix,
        REDIS_URL=REDIS_URL,
    )
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", queue, "--pool", "solo"]
    command += ["-c", "1", "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO"]
    process = subprocess.Popen(  # noqa: S603 - this interpreter, our own arguments
        command,
        env=environment,
        cwd=settings.BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield queue, prefix, process
    finally:
        process.kill()
        process.communicate(timeout=10)
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)


@pytest.mark.django_db(transaction=True)
def test_a_worker_process_runs_a_task_sent_through_redis_against_the_test_database(worker):
    queue, prefix, process = worker
    with time_machine.travel(LONG_AGO, tick=False):
        clinic = ClinicFactory(
            tenant=TenantFactory(), waitlist_mode=Clinic.WaitlistMode.OFFER, waitlist_offer_hours=24
        )
        session = group(ProviderFactory(clinic=clinic), clinic, LONG_AGO.date() + datetime.timedelta(days=3))
        booked = fill(session)
        first = SessionService.add_to_waitlist(session, child(clinic))
        SessionService.cancel_participant(booked[0], CANCEL_REASON)
    first.refresh_from_db()
    assert first.status == WaitlistEntry.Status.OFFERED

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        with app.connection_for_write(REDIS_URL, transport_options={"global_keyprefix": prefix}) as broker:
            tasks.expire_waitlist_offers.apply_async(queue=queue, connection=broker)
    finally:
        app.conf.task_always_eager = eager

    deadline = time.monotonic() + WAIT_SECONDS
    while first.status == WaitlistEntry.Status.OFFERED and time.monotonic() < deadline:
        assert process.poll() is None, "the worker stopped"
        time.sleep(0.2)
        first.refresh_from_db()
    if first.status == WaitlistEntry.Status.OFFERED:
        process.kill()
        pytest.fail(f"the worker did not run the task in {WAIT_SECONDS} s:\n{process.communicate()[0]}")
    assert first.status == WaitlistEntry.Status.EXPIRED
