"""Sending: claim due rows in a transaction of their own, send after it commits, record the outcome.

Its entry points, called by the tasks and the front desk:

    send_due_reminders(now: datetime | None = None, *, limit: int = 200) -> SendReport
        plans rows that came due, claims and sends them (siblings together), retries
        failures with backoff, and marks rows left "sending" past the timeout as failed.
    send_reminder(reminder_id: int) -> None     one row (idempotent: only a due pending row)
    retry_failed(reminder_id: int) -> Reminder  the front desk sends a failed row again

A row goes pending -> sending (claimed: ``FOR UPDATE SKIP LOCKED``, committed before
anything leaves, so two workers never take one row) -> sent, or back to pending with a
later ``send_after`` (a failure, ``REMINDER_RETRY_DELAYS_MINUTES``), or failed (the
retries used up, or the gateway refused the message for good). A row whose booking was
cancelled or moved meanwhile is voided, one whose guardian may no longer be told is
unreachable. A worker that dies between claiming and recording leaves the row
"sending": after ``REMINDER_SENDING_TIMEOUT_MINUTES`` it is shown as failed and never
sent again by itself - the family may have had it.

Siblings: claimed rows of one kind for one start, to the same address by the same
channel, are one message naming every child, with one link; each row records it.
Sending happens outside any transaction; each message's outcome is recorded in a short
transaction of its own.
"""

import datetime
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import translation
from django.utils.translation import gettext as _

from appointments.exceptions import InvalidTransition
from appointments.models import Session
from appointments.reminders import channels, messages, tokens
from appointments.reminders.models import Reminder
from appointments.reminders.outbox import (
    ACTIVE_APPOINTMENT,
    ACTIVE_PARTICIPANT,
    address_of,
    booking_start,
    mask_address,
    utc_now,
)
from appointments.reminders.planning import plan_due_reminders
from core import clock, locks
from core.models import Guardian, in_active_language

logger = logging.getLogger(__name__)

Status = Reminder.Status
STALE_ERROR = "The worker stopped while sending; not sent again in case the family already has it."
_LOADED = (
    "guardian",
    "template",
    "tenant",
    "participant__patient",
    "participant__session__clinic",
    "appointment__patient",
    "appointment__clinic",
)


@dataclass
class SendReport:
    """What one round did: rows planned, and claimed rows by outcome, and stale rows failed."""

    planned: int = 0
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    voided: int = 0
    unreachable: int = 0
    stale: int = 0


def send_due_reminders(now: datetime.datetime | None = None, *, limit: int = 200) -> SendReport:
    """Plan the rows that came due, fail the stale ones, then claim up to ``limit`` due rows and send them."""
    now = utc_now(now)
    report = SendReport(planned=plan_due_reminders(now), stale=fail_stale(now))
    _send_claimed(_claim(Q(), now, limit), now, report)
    return report


def send_reminder(reminder_id: int) -> None:
    """Send one row now if it is pending and due, with its siblings waiting too; else nothing."""
    now = utc_now()
    row = (
        Reminder.objects.filter(pk=reminder_id, status=Status.PENDING, send_after__lte=now)
        .select_related("guardian")
        .first()
    )
    if row is None:
        return
    together = Q(pk=row.pk)
    address = address_of(row.guardian, row.channel) if row.guardian is not None else ""
    if address:
        field = "guardian__phone" if row.channel == Guardian.Channel.SMS else "guardian__email__iexact"
        together |= Q(
            channel=row.channel, kind=row.kind, scheduled_start=row.scheduled_start, **{field: address}
        )
    _send_claimed(_claim(together, now, limit=50), now, SendReport())


@transaction.atomic
def retry_failed(reminder_id: int) -> Reminder:
    """A failed row goes back to pending, due now, with its retries counted afresh.

    The caller has checked the user may see the row (its tenant). InvalidTransition unless
    the row failed; DoesNotExist when there is no such row. The sender still voids it when
    the booking was cancelled or moved meanwhile.
    """
    row = locks.lock_row(Reminder, reminder_id)
    if row.status != Status.FAILED:
        raise InvalidTransition(
            _("Only a failed message can be sent again; this one is %(status)s.")
            % {"status": row.get_status_display().lower()}
        )
    row.status, row.send_after, row.attempts, row.claimed_at = Status.PENDING, clock.now(), 0, None
    row.save(update_fields=["status", "send_after", "attempts", "claimed_at"])
    return row


def fail_stale(now: datetime.datetime) -> int:
    """Rows left "sending" longer than the timeout (their worker died): failed, not re-sent; how many."""
    cutoff = now - datetime.timedelta(minutes=settings.REMINDER_SENDING_TIMEOUT_MINUTES)
    return Reminder.objects.filter(status=Status.SENDING, claimed_at__lt=cutoff).update(
        status=Status.FAILED, last_error=STALE_ERROR
    )


def _claim(which: Q, now: datetime.datetime, limit: int) -> list[Reminder]:
    """Claim due pending rows in a committed transaction of their own; the rows, ready to send."""
    with transaction.atomic():
        claimed = locks.claim_rows(
            Reminder.objects.filter(which, status=Status.PENDING, send_after__lte=now), limit
        )
        ids = [row.pk for row in claimed]
        Reminder.objects.filter(pk__in=ids).update(
            status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
    if not ids:
        return []
    return list(Reminder.objects.filter(pk__in=ids).select_related(*_LOADED).order_by("pk"))


def _send_claimed(rows: Iterable[Reminder], now: datetime.datetime, report: SendReport) -> None:
    messages_by_key: dict[tuple[str, str, datetime.datetime, str], list[Reminder]] = {}
    for row in rows:
        reason = _void_reason(row, now)
        if reason:
            _record(row.pk, status=Status.VOIDED, voided_at=row.voided_at or now, last_error=reason)
            report.voided += 1
            continue
        guardian = row.guardian
        address = address_of(guardian, row.channel) if guardian is not None else ""
        if guardian is None or not (
            address and guardian.consent_to_contact and guardian.may_receive_appointment_info
        ):
            _record(row.pk, status=Status.UNREACHABLE, last_error="The guardian may no longer be contacted.")
            report.unreachable += 1
            continue
        key = (row.channel, address, row.scheduled_start, row.kind)
        messages_by_key.setdefault(key, []).append(row)
    for (channel, address, _start, _kind), siblings in messages_by_key.items():
        _send_message(channel, address, siblings, now, report)


def _void_reason(row: Reminder, now: datetime.datetime) -> str:
    """Why the row must not go: its links were voided, the booking is no longer expected then, or began."""
    if row.voided_at is not None:
        return "The booking was cancelled or moved."
    if row.participant is not None:
        session = row.participant.session
        active = row.participant.status in ACTIVE_PARTICIPANT and session.status == Session.Status.SCHEDULED
        start = booking_start(session.scheduled_date, session.scheduled_time)
    elif row.appointment is not None:
        active = row.appointment.status in ACTIVE_APPOINTMENT
        start = booking_start(row.appointment.scheduled_date, row.appointment.scheduled_time)
    else:
        return "The booking no longer exists."
    if not active or start != row.scheduled_start:
        return "The booking was cancelled or moved."
    if start <= now:
        return "The session had begun."
    return ""


def _send_message(
    channel: str, address: str, siblings: list[Reminder], now: datetime.datetime, report: SendReport
) -> None:
    first = siblings[0]
    assert first.guardian is not None  # noqa: S101 - rows without one were set aside
    language = messages.message_language(first.guardian.preferred_language)
    ids = [row.pk for row in siblings]
    try:
        rendered = messages.render_message(
            first.template,
            purpose=first.kind,
            channel=channel,
            language=language,
            tenant=first.tenant,
            children=[_child(row, language) for row in siblings],
            link=tokens.link_url(tokens.make_link_token(siblings)),
        )
        gateway_id = channels.deliver(channel, address, subject=rendered.subject, body=rendered.body)
    except channels.DeliveryError as error:
        _record_failure(siblings, error, now, report)
        return
    except Exception as error:  # noqa: BLE001 - whether it left is unknown: shown failed, never re-sent
        logger.exception("Reminders %s could not be sent.", ids)
        _record(*ids, status=Status.FAILED, last_error=f"Not sent: {error.__class__.__name__}.")
        report.failed += len(ids)
        return
    _record(
        *ids,
        sent=True,
        status=Status.SENT,
        sent_at=clock.now(),
        message_key=uuid.uuid4().hex,
        gateway_message_id=gateway_id[:120],
        masked_address=mask_address(channel, address),
        template=first.template,
        last_error="",
    )
    report.sent += len(ids)


def _child(row: Reminder, language: str) -> messages.ChildBooking:
    if row.participant is not None:
        patient, clinic = row.participant.patient, row.participant.session.clinic
    else:
        assert row.appointment is not None  # noqa: S101 - exactly one of the two (reminder_one_booking)
        patient, clinic = row.appointment.patient, row.appointment.clinic
    with translation.override(language):
        return messages.ChildBooking(
            first_name=in_active_language(patient.first_name_en, patient.first_name_ar),
            starts_at=row.scheduled_start,
            clinic_name=in_active_language(clinic.name_en, clinic.name_ar),
        )


def _record_failure(
    siblings: list[Reminder], error: channels.DeliveryError, now: datetime.datetime, report: SendReport
) -> None:
    """Each row back to pending after its next delay, or failed once the delays are used up."""
    delays = settings.REMINDER_RETRY_DELAYS_MINUTES
    message = str(error)[:300]
    with transaction.atomic():
        for row in siblings:
            if error.permanent or row.attempts > len(delays):
                _record(row.pk, status=Status.FAILED, last_error=message)
                report.failed += 1
            else:
                later = now + datetime.timedelta(minutes=delays[row.attempts - 1])
                _record(row.pk, status=Status.PENDING, send_after=later, claimed_at=None, last_error=message)
                report.retrying += 1


def _record(*ids: int, sent: bool = False, **fields: object) -> None:
    """The outcome of claimed rows. A row shown failed as stale meanwhile stays failed, unless it was sent."""
    claimed = Q(status=Status.SENDING)
    if sent:
        claimed |= Q(status=Status.FAILED, last_error=STALE_ERROR)
    Reminder.objects.filter(claimed, pk__in=ids).update(**fields)
