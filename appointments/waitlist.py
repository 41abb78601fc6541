"""The waiting list of full sessions: joining it, and who gets a seat when one frees.

A child joins the list of a full session (``add_to_waitlist``) or of every remaining
session of a series (``add_to_series_waitlist``). When a seat frees - a cancellation, a
child turned away, a raised capacity, an offer withdrawn or run out - ``settle`` gives
it, in the transaction that freed it, to the first waiting child (lowest ``priority``)
who fits: in the clinic, not booked elsewhere at that time, with a valid consent on the
session's day where the clinic asks for one. The slot itself doesn't move, so the
clinic's and the provider's hours are already satisfied. A child who doesn't fit keeps
their place for the next seat. Per the clinic's ``waitlist_mode`` the child is booked at
once (a participant with their own appointment number) or offered the seat until
``now + waitlist_offer_hours``; an offered seat counts against capacity
(``seats_taken``) until the front desk accepts it for the family or it runs out. Offers
that ran out are expired whenever seats are read for a booking, and by
``manage.py expire_waitlist_offers``.

Locks, in ``core.locks``' order: the session (or a series, then its sessions by id),
the session's participants (the caller's), its open waiting-list entries by id, every
patient who may take a seat (all at once, by id, so the one who fits can be chosen
after locking), then the number counter.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import BooleanField, Max, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.translation import gettext as _

from appointments import booking_rules, overlaps
from appointments.exceptions import CapacityError, ConflictError, InvalidTransition, OutOfScope
from appointments.models import Session, SessionParticipant, SessionSeries, WaitlistEntry
from appointments.numbering import issue_appointment_number
from appointments.reminders import outbox
from appointments.selectors import sessions_with_lapsed_offers
from appointments.workflow import copy_state, save_with_history
from core import clock, locks
from core.models import Clinic, Patient, User

Status = WaitlistEntry.Status
# Room between two entries' priorities, so a child moved between two others usually
# changes only their own row.
PRIORITY_STEP = 1000


class SeriesWaitlist(list[WaitlistEntry]):
    """The entries ``add_to_series_waitlist`` made, and the sessions it skipped because a seat
    is free there (``free_sessions``): the front desk books those instead."""

    def __init__(self, entries: Iterable[WaitlistEntry], free_sessions: list[Session]) -> None:
        super().__init__(entries)
        self.free_sessions = free_sessions


@dataclass
class Settled:
    """What ``settle`` did: the open entries it locked (by id), the offers it expired and the
    children it promoted."""

    entries: dict[int, WaitlistEntry] = field(default_factory=dict)
    expired: list[WaitlistEntry] = field(default_factory=list)
    promoted: list[WaitlistEntry] = field(default_factory=list)


def _lock_session(session_id: int) -> Session:
    # Seat counts and the list's order are read after this lock: whoever frees, books or joins
    # the session waits here, so two of them never hand out the same seat.
    return locks.lock_row(
        Session.objects.select_related("clinic__tenant", "provider__user", "room"), session_id
    )


def seats_taken(session: Session) -> int:
    """Active participants plus offered waiting-list seats: an offer holds its seat for the family."""
    participants = session.participants.exclude(status__in=SessionParticipant.INACTIVE_STATUSES).count()
    return participants + session.waitlist_entries.filter(status=Status.OFFERED).count()


def _is_booked(session: Session, patient: Patient) -> bool:
    active = session.participants.exclude(status__in=SessionParticipant.INACTIVE_STATUSES)
    return active.filter(patient=patient).exists()


def fit_problems(session: Session, patient: Patient) -> list[str]:
    """Why ``patient`` can't take a seat in ``session`` now ([] when they can)."""
    problems: list[str] = []
    try:
        booking_rules.validate_patient_scope(patient, session.clinic)
    except OutOfScope as error:
        return error.messages
    if _is_booked(session, patient):
        problems.append(_("%(patient)s is already booked in this session.") % {"patient": patient.full_name})
    if session.clinic.requires_consent:
        consent = booking_rules.consent_problem(patient, session.clinic, session.scheduled_date)
        if consent is not None:
            problems.append(consent)
    problems.extend(
        overlaps.find_conflicts(
            patients=(patient,),
            day=session.scheduled_date,
            start=session.scheduled_time,
            minutes=session.duration,
            exclude_session=session,
        )
    )
    return problems


def _book(session: Session, patient: Patient, user: User | None) -> SessionParticipant:
    participant = SessionParticipant(
        session=session, patient=patient, appointment_number=issue_appointment_number(session.clinic.tenant)
    )
    save_with_history(participant, user)
    # The family hears of the seat (a seat given at once, or an offer they took).
    outbox.queue_seat_offered(participant)
    return participant


def _promote(
    entry: WaitlistEntry, session: Session, patient: Patient, user: User | None, now: datetime.datetime
) -> None:
    """Give the freed seat to ``entry``'s child, per the clinic's setting."""
    clinic = session.clinic
    if clinic.waitlist_mode == Clinic.WaitlistMode.OFFER:
        entry.status = Status.OFFERED
        entry.offered_at = now
        entry.offer_expires_at = now + datetime.timedelta(hours=clinic.waitlist_offer_hours)
    else:
        entry.status = Status.BOOKED
        entry.participant = _book(session, patient, user)
        entry.resolved_at = now
    save_with_history(entry, user)


def settle(
    sessions: Sequence[Session],
    *,
    user: User | None,
    joining: Patient | None = None,
    now: datetime.datetime | None = None,
) -> Settled:
    """Expire the offers that ran out and give every free seat to the first waiting child who fits.

    ``sessions`` are locked by the caller. ``user`` freed the seats: the history of each
    expiry and promotion names them. ``joining``, a child about to be booked or to join
    the list, is locked with the waiting children, so all patient locks are taken at once.
    ``now`` (default: now) decides which offers ran out and starts the new ones.
    """
    by_id = {session.pk: session for session in sessions}
    settled = Settled()
    open_entries = WaitlistEntry.objects.filter(session_id__in=by_id, status__in=WaitlistEntry.OPEN_STATUSES)
    settled.entries = {entry.pk: entry for entry in locks.lock_rows(open_entries)}
    now = now or clock.now()
    waiting: dict[int, list[WaitlistEntry]] = defaultdict(list)
    for entry in sorted(settled.entries.values(), key=lambda entry: (entry.priority, entry.pk)):
        if (
            entry.status == Status.OFFERED
            and entry.offer_expires_at is not None
            and entry.offer_expires_at <= now
        ):
            entry.status = Status.EXPIRED
            entry.resolved_at = now
            save_with_history(entry, user, ["status", "resolved_at"])
            settled.expired.append(entry)
        elif entry.status == Status.WAITING:
            waiting[entry.session_id].append(entry)
    free = {pk: by_id[pk].max_capacity - seats_taken(by_id[pk]) for pk in waiting if by_id[pk].is_open}
    free = {pk: seats for pk, seats in free.items() if seats > 0}
    patient_ids = {entry.patient_id for pk in free for entry in waiting[pk]}
    if joining is not None:
        patient_ids.add(joining.pk)
    patients: dict[int, Patient] = {}
    if patient_ids:
        locked = locks.lock_rows(Patient.objects.filter(pk__in=patient_ids))
        patients = {patient.pk: patient for patient in locked}
    for pk in sorted(free):
        session = by_id[pk]
        for entry in waiting[pk]:
            if free[pk] == 0:
                break
            patient = patients[entry.patient_id]
            if fit_problems(session, patient):
                continue  # keeps their place for the next seat
            _promote(entry, session, patient, user, now)
            settled.promoted.append(entry)
            free[pk] -= 1
    return settled


def fill_freed_seats(sessions: Sequence[Session], *, user: User | None) -> list[WaitlistEntry]:
    """After a seat freed in the locked ``sessions``: the entries promoted into them."""
    return settle(sessions, user=user).promoted


def _patient_unless_offers_lapsed(session_id: int, now: datetime.datetime) -> QuerySet[Patient]:
    # Raw SQL: a booking's hot path, where building the ORM subquery cost more than the query.
    no_lapsed_offers = RawSQL(  # noqa: S611 - constant SQL, values as parameters
        f"NOT EXISTS (SELECT 1 FROM {WaitlistEntry._meta.db_table} WHERE session_id = %s "  # noqa: S608 - model table name
        "AND status = %s AND offer_expires_at <= %s)",
        (session_id, Status.OFFERED, now),
        output_field=BooleanField(),
    )
    return Patient.objects.filter(no_lapsed_offers)


# Compiled once per process (core.locks.PreparedRowLock): the patient, the session and the time.
_lock_patient_unless_offers_lapsed = locks.PreparedRowLock(_patient_unless_offers_lapsed, extra=2)


def lock_patient_for_booking(session: Session, patient: Patient, *, user: User | None) -> Patient:
    """Lock ``patient`` to book them into the locked ``session``, first passing on the seats of
    offers that ran out (so the seat count the booking reads is true)."""
    # One round trip on the usual path: the patient row is locked only when no offer ran out.
    # Otherwise nothing is locked yet, and settling takes the waiting-list entries before the
    # patients, in core.locks' order.
    locked = _lock_patient_unless_offers_lapsed.if_exists(patient.pk, session.pk, clock.now())
    if locked is not None:
        return locked
    settle([session], user=user, joining=patient)
    return locks.lock_row(Patient, patient.pk)  # held already when settled: re-locking reads it


def lock_patient_for_bookings(sessions: Sequence[Session], patient: Patient, *, user: User | None) -> Patient:
    """Lock ``patient`` to book them into several locked ``sessions`` in one transaction (a series).

    Booking one session at a time would expire a later session's lapsed offers after the
    first booking took the patient and the counter, against core.locks' order. So every
    session's lapsed offers are passed on here first, with ``patient`` locked alongside the
    waiting children; each booking that follows finds nothing to expire and re-locks only
    rows already held.
    """
    settle(sessions, user=user, joining=patient)
    return locks.lock_row(Patient, patient.pk)


def _next_priority(session: Session) -> int:
    last = session.waitlist_entries.aggregate(last=Max("priority"))["last"]
    return (last or 0) + PRIORITY_STEP


def _refuse_closed(session: Session) -> None:
    if not session.is_open:
        raise InvalidTransition(
            _("Only a scheduled or in-progress session has a waiting list; this one is %(status)s.")
            % {"status": session.get_status_display().lower()}
        )


@transaction.atomic
def add_to_waitlist(session: Session, patient: Patient, user: User | None = None) -> WaitlistEntry:
    """Put ``patient`` last on ``session``'s waiting list.

    Raises InvalidTransition (session closed), OutOfScope (patient of another organisation),
    ConflictError (already booked in the session, or already on its list) and CapacityError
    when a seat is free: the front desk books instead.
    """
    locked = _lock_session(session.pk)
    _refuse_closed(locked)
    booking_rules.validate_patient_scope(patient, locked.clinic)
    settled = settle([locked], user=user, joining=patient)
    patient = locks.lock_row(Patient, patient.pk)
    names = {"patient": patient.full_name}
    if _is_booked(locked, patient):
        raise ConflictError(_("%(patient)s is already booked in this session.") % names)
    if any(
        entry.patient_id == patient.pk
        for entry in settled.entries.values()
        if entry.status in WaitlistEntry.OPEN_STATUSES
    ):
        raise ConflictError(_("%(patient)s is already on the waiting list for this session.") % names)
    if seats_taken(locked) < locked.max_capacity:
        raise CapacityError(_("There is a free seat: book instead."))
    entry = WaitlistEntry(session=locked, patient=patient, priority=_next_priority(locked), added_by=user)
    save_with_history(entry, user)
    return entry


def _remaining_sessions(series: SessionSeries) -> list[Session]:
    """The series' scheduled sessions that haven't started, locked by id (after the series)."""
    now = clock.now()
    upcoming = series.sessions.filter(status=Session.Status.SCHEDULED, scheduled_date__gte=now.date())
    locked = locks.lock_rows(upcoming.select_related("clinic__tenant"))
    local_now = now.replace(tzinfo=None)
    remaining = [session for session in locked if session.starts_at > local_now]
    return sorted(remaining, key=lambda session: (session.scheduled_date, session.scheduled_time, session.pk))


def _slot_label(session: Session) -> str:
    day = date_format(session.scheduled_date, "d/m/Y")
    return f"{day} {time_format(session.scheduled_time, 'H:i')}"


@transaction.atomic
def add_to_series_waitlist(
    series: SessionSeries, patient: Patient, user: User | None = None
) -> SeriesWaitlist:
    """Put ``patient`` on the waiting list of every remaining session of ``series`` that is full.

    Sessions where the child is already booked or waiting are left as they are; sessions
    with a free seat are skipped and listed in ``free_sessions``, for the front desk to book.
    Raises OutOfScope (patient of another organisation), InvalidTransition (no session
    left), CapacityError (every remaining session the child isn't in has a free seat) and
    ConflictError (the child is already booked or waiting in every one).
    """
    locked_series = locks.lock_row(SessionSeries.objects.select_related("clinic"), series.pk)
    booking_rules.validate_patient_scope(patient, locked_series.clinic)
    sessions = _remaining_sessions(locked_series)
    if not sessions:
        raise InvalidTransition(_("This series has no sessions left to wait for."))
    settled = settle(sessions, user=user, joining=patient)
    patient = locks.lock_row(Patient, patient.pk)
    waiting_in = {
        entry.session_id
        for entry in settled.entries.values()
        if entry.patient_id == patient.pk and entry.status in WaitlistEntry.OPEN_STATUSES
    }
    entries: list[WaitlistEntry] = []
    free: list[Session] = []
    for session in sessions:
        if session.pk in waiting_in or _is_booked(session, patient):
            continue
        if seats_taken(session) < session.max_capacity:
            free.append(session)
            continue
        entry = WaitlistEntry(
            session=session,
            patient=patient,
            series=locked_series,
            priority=_next_priority(session),
            added_by=user,
        )
        save_with_history(entry, user)
        entries.append(entry)
    if not entries and free:
        raise CapacityError(
            _("There is a free seat on %(slots)s: book instead.")
            % {"slots": ", ".join(_slot_label(session) for session in free)}
        )
    if not entries:
        raise ConflictError(
            _("%(patient)s is already booked or waiting in every remaining session of this series.")
            % {"patient": patient.full_name}
        )
    return SeriesWaitlist(entries, free)


def _offer_time(entry: WaitlistEntry) -> str:
    expires = timezone.localtime(entry.offer_expires_at, timezone.get_default_timezone())
    return f"{date_format(expires, 'd/m/Y')} {time_format(expires, 'H:i')}"


def _no_offer(entry: WaitlistEntry, locked: WaitlistEntry | None) -> InvalidTransition:
    names = {"patient": entry.patient.full_name}
    if locked is not None:  # still waiting
        return InvalidTransition(
            _("%(patient)s has no seat offered yet: they are number %(position)d on the waiting list.")
            % {**names, "position": locked.position}
        )
    entry.refresh_from_db(fields=["status"])
    return InvalidTransition(
        _("%(patient)s has no seat offered: the waiting-list entry is %(status)s.")
        % {**names, "status": entry.get_status_display().lower()}
    )


def accept_offer(entry: WaitlistEntry, user: User | None = None) -> SessionParticipant:
    """The family takes the offered seat (the front desk accepts for them): the child is booked.

    The family said yes, so they know: the session page doesn't flag this child. Raises
    InvalidTransition when the entry holds no offer or the session is closed, ConflictError
    when the child no longer fits (booked elsewhere at that time, no valid consent), and
    InvalidTransition when the offer ran out - its expiry, and the seat passing to the next
    child, are committed before the refusal.
    """
    with transaction.atomic():
        session = _lock_session(entry.session_id)
        settled = settle([session], user=user, joining=entry.patient)
        locked = settled.entries.get(entry.pk)
        if locked is None or locked.status == Status.WAITING:
            raise _no_offer(entry, locked)
        if locked.status != Status.EXPIRED:
            patient = locks.lock_row(Patient, entry.patient_id)
            participant = _take_seat(session, locked, patient, user)
            copy_state(entry, locked)
            return participant
    raise InvalidTransition(
        _("The offer to %(patient)s ran out at %(time)s; the seat passed to the next child who fits.")
        % {"patient": entry.patient.full_name, "time": _offer_time(locked)}
    )


def _take_seat(
    session: Session, entry: WaitlistEntry, patient: Patient, user: User | None
) -> SessionParticipant:
    """Book the child of a locked entry holding an offer (or booked just now, when a free seat
    reached them while the offer was being accepted)."""
    if entry.participant is not None:
        return entry.participant
    _refuse_closed(session)
    problems = fit_problems(session, patient)
    if problems:
        raise ConflictError(problems)
    participant = _book(session, patient, user)
    entry.participant = participant
    entry.status = Status.BOOKED
    entry.resolved_at = entry.family_told_at = clock.now()
    save_with_history(entry, user)
    return participant


@transaction.atomic
def withdraw(entry: WaitlistEntry, reason: str = "", user: User | None = None) -> WaitlistEntry:
    """Take the child off the list (the family no longer waits). ``reason`` is kept in the history.

    A withdrawn offer frees its seat for the next child who fits. Raises InvalidTransition
    when the child is no longer waiting nor offered a seat.
    """
    session = _lock_session(entry.session_id)
    settled = settle([session], user=user)
    locked = settled.entries.get(entry.pk)
    if locked is None or locked.status not in WaitlistEntry.OPEN_STATUSES:
        raise _not_open(entry)
    held_a_seat = locked.status == Status.OFFERED
    locked.status = Status.WITHDRAWN
    locked.resolved_at = clock.now()
    # simple-history keeps the reason on the version this save writes.
    locked._change_reason = (reason or "").strip()  # type: ignore[attr-defined]
    save_with_history(locked, user, ["status", "resolved_at"])
    if held_a_seat:
        settle([session], user=user)
    return copy_state(entry, locked)


def _not_open(entry: WaitlistEntry) -> InvalidTransition:
    entry.refresh_from_db(fields=["status"])
    return InvalidTransition(
        _("%(patient)s is no longer on the waiting list: the entry is %(status)s.")
        % {"patient": entry.patient.full_name, "status": entry.get_status_display().lower()}
    )


@transaction.atomic
def reorder(entry: WaitlistEntry, *, position: int, reason: str, user: User | None) -> WaitlistEntry:
    """Move a waiting child to ``position`` (1-based) on the list, with ``reason`` kept in the history.

    Usually only the moved entry's priority changes; when its neighbours' priorities leave
    no room between them, the waiting entries are renumbered in the new order (each with
    the reason). Raises InvalidTransition without a reason, for a child not waiting, and
    for a position off the list or the one the child already holds.
    """
    reason = (reason or "").strip()
    if not reason:
        raise InvalidTransition(_("Give a reason for changing the order of the waiting list."))
    _lock_session(entry.session_id)
    waiting_entries = WaitlistEntry.objects.filter(session_id=entry.session_id, status=Status.WAITING)
    waiting = sorted(locks.lock_rows(waiting_entries), key=lambda row: (row.priority, row.pk))
    locked = next((row for row in waiting if row.pk == entry.pk), None)
    if locked is None:
        refusal = _not_open(entry)
        if entry.status == Status.OFFERED:
            refusal = InvalidTransition(
                _("Only a waiting child can be moved; %(patient)s has been offered a seat.")
                % {"patient": entry.patient.full_name}
            )
        raise refusal
    if not 1 <= position <= len(waiting):
        raise InvalidTransition(_("Choose a position from 1 to %(count)d.") % {"count": len(waiting)})
    if waiting.index(locked) == position - 1:
        raise InvalidTransition(
            _("%(patient)s is already number %(position)d on the waiting list.")
            % {"patient": locked.patient.full_name, "position": position}
        )
    others = [row for row in waiting if row.pk != locked.pk]
    before = others[position - 2].priority if position > 1 else None
    after = others[position - 1].priority if position <= len(others) else None
    if before is not None and after is not None and after - before < 2:
        new_order = [*others[: position - 1], locked, *others[position - 1 :]]
        for index, row in enumerate(new_order, start=1):
            if row.priority != index * PRIORITY_STEP:
                row.priority = index * PRIORITY_STEP
                row._change_reason = reason
                save_with_history(row, user, ["priority"])
        return copy_state(entry, locked)
    if before is None:
        locked.priority = (after or 0) - PRIORITY_STEP
    elif after is None:
        locked.priority = before + PRIORITY_STEP
    else:
        locked.priority = (before + after) // 2
    locked._change_reason = reason
    save_with_history(locked, user, ["priority"])
    return copy_state(entry, locked)


@transaction.atomic
def mark_family_told(entry: WaitlistEntry, user: User | None = None) -> WaitlistEntry:
    """Record that the family of a child booked from the list knows: the session page stops flagging it.

    Idempotent; InvalidTransition for an entry that was never booked from the list.
    """
    locked = locks.lock_row(WaitlistEntry.objects.select_related("patient"), entry.pk)
    if locked.status != Status.BOOKED:
        raise InvalidTransition(
            _("%(patient)s was not booked from the waiting list; there is nothing to tell the family.")
            % {"patient": locked.patient.full_name}
        )
    if locked.family_told_at is None:
        locked.family_told_at = clock.now()
        save_with_history(locked, user, ["family_told_at"])
    return copy_state(entry, locked)


def expire_offers(now: datetime.datetime | None = None, *, session: Session | None = None) -> int:
    """Expire the offers that ran out by ``now`` (default: now), passing each seat on; how many.

    Every session with such an offer (only ``session``, when given), each in its own
    transaction. Idempotent: a second run finds nothing to expire.
    """
    moment = now or clock.now()
    session_ids = (
        [session.pk] if session is not None else [row.pk for row in sessions_with_lapsed_offers(moment)]
    )
    expired = 0
    for session_id in session_ids:
        with transaction.atomic():
            locked = _lock_session(session_id)
            expired += len(settle([locked], user=None, now=moment).expired)
    return expired
