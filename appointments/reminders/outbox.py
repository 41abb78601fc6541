"""Messages the scheduling services ask for: a move, a cancellation, a seat from the waiting list.

Its entry points, called by the scheduling services:

    void_links(*, participants: Iterable[SessionParticipant] = (),
               appointments: Iterable[Appointment] = ()) -> None
        every reminder row of these bookings: voided_at set (links stop working); pending ones
        become VOIDED (never sent).
    queue_moved(*, participants=(), appointments=()) -> None
        void_links, then one MOVED row per active booking at its new start.
    queue_seat_offered(participant: SessionParticipant) -> None
        a child booked from the waiting list: one SEAT_OFFERED row.

Each runs inside the calling service's transaction, after its locks: the rows are written
(or voided) together with the change that asked for them. Nothing is sent from here; the
sender (``appointments.reminders.sending``) picks the rows up once they are due.

The rules shared with the planner live here too, the lowest of the reminder modules: when a
booking starts, who of a child's guardians may be told and how, and the clinic's quiet hours.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from appointments.models import Appointment, Session, SessionParticipant
from appointments.reminders.models import MessageTemplate, Reminder
from core import clock
from core.models import Clinic, Guardian

Channel = Guardian.Channel
ACTIVE_PARTICIPANT = (SessionParticipant.Status.BOOKED, SessionParticipant.Status.CONFIRMED)
ACTIVE_APPOINTMENT = (Appointment.Status.BOOKED, Appointment.Status.CONFIRMED)


def booking_start(day: datetime.date, time: datetime.time) -> datetime.datetime:
    """A booking's start as an aware moment in UTC: its date and time are the installation's local time.

    In UTC because arithmetic on a datetime in a zone with clock changes counts wall-clock
    hours: 48 hours before 10:00 on the Monday after the clocks went back would be 10:00
    on the Saturday, 49 hours earlier.
    """
    local = timezone.make_aware(datetime.datetime.combine(day, time), timezone.get_default_timezone())
    return local.astimezone(datetime.UTC)


def utc_now(now: datetime.datetime | None = None) -> datetime.datetime:
    """``now`` (default: the clock's) in UTC, where adding hours adds elapsed time (``booking_start``)."""
    return (now or clock.now()).astimezone(datetime.UTC)


def shift_for_quiet_hours(
    moment: datetime.datetime, *, start: datetime.datetime, clinic: Clinic
) -> datetime.datetime:
    """When a message meant for ``moment`` may go, given the clinic's quiet hours (local time).

    Outside quiet hours: ``moment``. Inside: the end of the quiet hours when that is still
    before the booking's ``start``, else their beginning (the evening before), so a family
    is never woken and never told too late. Quiet hours may span midnight; equal start
    and end mean none.
    """
    quiet_from, quiet_to = clinic.quiet_hours_start, clinic.quiet_hours_end
    if quiet_from == quiet_to:
        return moment
    local = timezone.localtime(moment, timezone.get_default_timezone())
    day, time = local.date(), local.time()
    if quiet_from < quiet_to:
        if not quiet_from <= time < quiet_to:
            return moment
        began, ends = (day, quiet_from), (day, quiet_to)
    elif time >= quiet_from:
        began, ends = (day, quiet_from), (day + datetime.timedelta(days=1), quiet_to)
    elif time < quiet_to:
        began, ends = (day - datetime.timedelta(days=1), quiet_from), (day, quiet_to)
    else:
        return moment
    end = booking_start(*ends)
    return end if end < start else booking_start(*began)


def address_of(guardian: Guardian, channel: str) -> str:
    """Where ``guardian`` is reached by ``channel``: "" when not (no phone, opted out, no e-mail)."""
    if channel == Channel.SMS:
        return guardian.phone if guardian.sms_opted_out_at is None else ""
    return guardian.email.lower()


def may_be_told(guardian: Guardian) -> bool:
    """Consents, may receive appointment information, and is reachable by their preferred channel."""
    return (
        guardian.consent_to_contact
        and guardian.may_receive_appointment_info
        and bool(address_of(guardian, guardian.preferred_channel))
    )


def guardians_to_tell(patient_ids: Iterable[int]) -> dict[int, list[Guardian]]:
    """Each patient's guardians who may be told (``may_be_told``), primary first: one query."""
    found: dict[int, list[Guardian]] = defaultdict(list)
    candidates = Guardian.objects.filter(
        patient_id__in=set(patient_ids), consent_to_contact=True, may_receive_appointment_info=True
    ).order_by("patient_id", "-is_primary", "pk")
    for guardian in candidates:
        if may_be_told(guardian):
            found[guardian.patient_id].append(guardian)
    return found


def mask_address(channel: str, address: str) -> str:
    """An address as the front desk sees it: "+96650•••4567", "n•••@example.org"."""
    if channel == Channel.SMS:
        return f"{address[:6]}•••{address[-4:]}" if len(address) > 10 else "•••"
    local, _at, domain = address.partition("@")
    return f"{local[:1]}•••@{domain}"


@dataclass(frozen=True)
class Booking:
    """One child's seat the reminders are about: a participant or a legacy appointment."""

    participant: SessionParticipant | None
    appointment: Appointment | None
    patient_id: int
    clinic: Clinic
    start: datetime.datetime

    @classmethod
    def of_participant(
        cls, participant: SessionParticipant, session: Session, clinic: Clinic | None = None
    ) -> "Booking":
        """``clinic``: the session's, when the caller has it already (no query for it)."""
        start = booking_start(session.scheduled_date, session.scheduled_time)
        return cls(participant, None, participant.patient_id, clinic or session.clinic, start)

    @classmethod
    def of_appointment(cls, appointment: Appointment, clinic: Clinic | None = None) -> "Booking":
        start = booking_start(appointment.scheduled_date, appointment.scheduled_time)
        return cls(None, appointment, appointment.patient_id, clinic or appointment.clinic, start)

    @property
    def key(self) -> tuple[str, int]:
        """Which booking: ("participant", pk) or ("appointment", pk)."""
        if self.participant is not None:
            return ("participant", self.participant.pk)
        assert self.appointment is not None  # noqa: S101 - one of the two, by construction
        return ("appointment", self.appointment.pk)

    def row(self, **fields: object) -> Reminder:
        """A new reminder row about this booking, at its start."""
        return Reminder(
            tenant_id=self.clinic.tenant_id,
            participant=self.participant,
            appointment=self.appointment,
            scheduled_start=self.start,
            **fields,
        )


def void_links(
    *, participants: Iterable[SessionParticipant] = (), appointments: Iterable[Appointment] = ()
) -> None:
    """Every row of these bookings: its links stop working, and a row not yet sent never is.

    A row being sent right now keeps its status (the sender holds it); the sender checks the
    booking again before sending and voids it then.
    """
    participant_ids = [participant.pk for participant in participants]
    appointment_ids = [appointment.pk for appointment in appointments]
    if not participant_ids and not appointment_ids:
        return
    now = clock.now()
    Reminder.objects.filter(
        Q(participant_id__in=participant_ids) | Q(appointment_id__in=appointment_ids)
    ).filter(Q(voided_at__isnull=True) | Q(status=Reminder.Status.PENDING)).update(
        voided_at=Coalesce("voided_at", Value(now)),
        status=Case(
            When(status=Reminder.Status.PENDING, then=Value(Reminder.Status.VOIDED)), default=F("status")
        ),
    )


def queue_moved(
    *, participants: Iterable[SessionParticipant] = (), appointments: Iterable[Appointment] = ()
) -> None:
    """After a move: the earlier links voided, and one "your session moved" row per active booking.

    ``participants`` carry their (moved) session, ``appointments`` their new slot.
    """
    participants, appointments = list(participants), list(appointments)
    void_links(participants=participants, appointments=appointments)
    bookings = [
        Booking.of_participant(participant, participant.session)
        for participant in participants
        if participant.status in ACTIVE_PARTICIPANT
    ] + [
        Booking.of_appointment(appointment)
        for appointment in appointments
        if appointment.status in ACTIVE_APPOINTMENT
    ]
    _queue(Reminder.Kind.MOVED, bookings)


def queue_seat_offered(participant: SessionParticipant) -> None:
    """A child booked from the waiting list: one row telling the family about the seat."""
    _queue(Reminder.Kind.SEAT_OFFERED, [Booking.of_participant(participant, participant.session)])


def _queue(kind: str, bookings: Sequence[Booking]) -> None:
    now = utc_now()
    bookings = [booking for booking in bookings if booking.start > now]
    if not bookings:
        return
    guardians = guardians_to_tell(booking.patient_id for booking in bookings)
    templates: dict[tuple[int, str], MessageTemplate | None] = {}
    rows = []
    for booking in bookings:
        chosen = guardians.get(booking.patient_id)
        if not chosen:
            rows.append(
                booking.row(
                    kind=kind, channel=Channel.SMS, send_after=now, status=Reminder.Status.UNREACHABLE
                )
            )
            continue
        guardian = chosen[0]
        channel = guardian.preferred_channel
        key = (booking.clinic.tenant_id, channel)
        if key not in templates:
            templates[key] = (
                MessageTemplate.objects.filter(
                    tenant_id=key[0], purpose=kind, channel=channel, is_active=True
                )
                .order_by("pk")
                .first()
            )
        rows.append(
            booking.row(
                kind=kind,
                channel=channel,
                guardian=guardian,
                template=templates[key],
                send_after=shift_for_quiet_hours(now, start=booking.start, clinic=booking.clinic),
            )
        )
    Reminder.objects.bulk_create(rows)
