"""The scheduling app's background jobs, run by Celery workers on celery beat's schedule
(``CELERY_BEAT_SCHEDULE``; README, Reminders and background jobs).

Thin, as views are: each calls the service functions its management command calls, with ids
only (never a name, a phone or a message's text, which would sit in the broker). Each is
idempotent - a second run finds nothing left to do - and takes its locks through those
services, so a retry, two workers, or a worker and cron never do a thing twice. A database
that doesn't answer is retried with backoff.
"""

import datetime
import logging
from dataclasses import asdict

from celery import shared_task
from django.db import OperationalError, transaction
from django.utils import timezone

from appointments.exceptions import SchedulingError
from appointments.reminders import sending
from appointments.selectors import sessions_with_lapsed_offers, stale_sessions
from appointments.session_service import SessionService
from core import clock

logger = logging.getLogger(__name__)

# A database that doesn't answer (restarting, failing over) is tried again after 1, 2, 4 ...
# seconds, at most 5 minutes apart, 6 times.
RETRIED = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "retry_backoff_max": 5 * 60,
    "max_retries": 6,
}


@shared_task(**RETRIED)
def send_due_reminders() -> dict[str, int]:
    """Plan, claim and send the reminders that came due (appointments.reminders.sending); the counts."""
    report = sending.send_due_reminders()
    logger.info("Reminders: %s", report)
    return asdict(report)


@shared_task(**RETRIED)
def send_reminder(reminder_id: int) -> None:
    """Send reminder ``reminder_id`` if it is due and still waiting; else nothing."""
    sending.send_reminder(reminder_id)


@shared_task(**RETRIED)
def close_stale_sessions() -> int:
    """Close the sessions nobody completed that ended before today, as `manage.py close_stale_sessions`
    does: each in its own transaction; one its staff closed meanwhile is left as they left it."""
    now = clock.now()
    start_of_today = timezone.make_aware(
        datetime.datetime.combine(timezone.localdate(now), datetime.time.min), timezone.get_default_timezone()
    )
    closed = 0
    for session in stale_sessions(min(start_of_today, now)):
        try:
            with transaction.atomic():
                SessionService.complete_session(session, auto_closed=True)
        except SchedulingError:
            logger.info("Stale session %d was closed by its staff meanwhile.", session.pk)
        else:
            closed += 1
    logger.info("Closed %d stale sessions.", closed)
    return closed


@shared_task(**RETRIED)
def expire_waitlist_offers() -> int:
    """Expire the waiting-list offers that ran out, as `manage.py expire_waitlist_offers` does: each
    session in its own transaction, each seat passed on to the next waiting child."""
    now = clock.now()
    expired = 0
    for session in sessions_with_lapsed_offers(now):
        with transaction.atomic():
            expired += SessionService.expire_waitlist_offers(now, session=session)
    logger.info("Expired %d waiting-list offers.", expired)
    return expired
