"""SeriesService: recurring sessions, for a group or for one child's individual sessions.

A series is created whole, children are enrolled in (and withdrawn from) the rest of it,
and one occurrence, or it and all that follow, is cancelled or moved. Every session and
participant is still written by ``SessionService``; this module plans the dates, checks
all of them before writing any, and holds the locks that let it call ``SessionService``
for many sessions in one transaction.

Dates come from python-dateutil's ``rrule``. A count means sessions held: a clinic holiday
(``core.ClinicHoliday``) or a date the front desk chose to skip is recorded as a
``SeriesSkippedDate`` and extends the series. A refusal lists every date that can't be
booked with every reason (``SeriesClashError``), and nothing is written.

Locks (``core.locks``' order): providers, rooms, the series, its sessions (all together,
by id), their participants, waiting-list entries, patients, then the number counter.
``SessionService``'s methods lock one session and then its participants and patients; taken
for a second session, that lock would come after a patient's. So the methods below take every
row those calls will lock first, in the order, and the calls then re-lock rows already held,
which ``core.locks`` allows.
"""

import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from dateutil.rrule import WEEKLY, rrule
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from appointments import booking_rules, overlaps, waitlist
from appointments.exceptions import (
    CapacityError,
    ConflictError,
    DateClash,
    InvalidTransition,
    SeriesClashError,
    SeriesRuleError,
    SlotTimeError,
)
from appointments.models import (
    MAX_GROUP_CAPACITY,
    SeriesEnrolment,
    SeriesSkippedDate,
    Session,
    SessionParticipant,
    SessionSeries,
    WaitlistEntry,
)
from appointments.selectors import with_seats_taken
from appointments.session_service import ACTIVE_BEFORE_ARRIVAL, SessionService
from appointments.workflow import save_with_history
from core import availability, clock, locks, opening_hours
from core.models import Clinic, Patient, Provider, Room, User

__all__ = ["DateClash", "SeriesClashError", "SeriesPlan", "SeriesService"]

SessionType = Session.SessionType


@dataclass(frozen=True)
class SeriesPlan:
    """What creating a series would do, read without writing (``SeriesService.plan_series``)."""

    dates: list[datetime.date]  # the sessions that would be created
    holidays: list[tuple[datetime.date, str]]  # dates skipped for a clinic holiday, with its name
    clashes: list[DateClash]  # dates refused, with every reason
    skipped: list[datetime.date]  # dates the caller chose to skip


def _validate_rule(
    *,
    session_type: str,
    frequency: str,
    start_date: datetime.date,
    occurrence_count: int | None,
    end_date: datetime.date | None,
    max_capacity: int,
    patient: Patient | None,
) -> None:
    if session_type not in SessionType.values:
        raise SeriesRuleError(_("Choose a group or an individual series."))
    if frequency not in SessionSeries.Frequency.values:
        raise SeriesRuleError(_("Choose how often the series repeats: every week or every two weeks."))
    if (occurrence_count is None) == (end_date is None):
        raise SeriesRuleError(_("Give either a number of sessions or a last date, not both."))
    if occurrence_count is not None and not 1 <= occurrence_count <= SessionSeries.MAX_OCCURRENCES:
        raise SeriesRuleError(
            _("A series has between 1 and %(max)d sessions (got %(got)d).")
            % {"max": SessionSeries.MAX_OCCURRENCES, "got": occurrence_count}
        )
    if end_date is not None and end_date < start_date:
        raise SeriesRuleError(_("The last date can't be before the first."))
    if session_type == SessionType.GROUP:
        if not 2 <= max_capacity <= MAX_GROUP_CAPACITY:
            raise CapacityError(
                _("A group series needs between 2 and %(max)d seats (got %(got)d).")
                % {"max": MAX_GROUP_CAPACITY, "got": max_capacity}
            )
        if patient is not None:
            raise SeriesRuleError(
                _("A group series has no child of its own: enrol children once it is created.")
            )
        return
    if max_capacity != 1:
        raise CapacityError(
            _("An individual series has exactly one seat (got %(got)d).") % {"got": max_capacity}
        )
    if patient is None:
        raise SeriesRuleError(_("Choose the child of this individual series."))


def _rule_dates(
    start_date: datetime.date, weeks_between: int, end_date: datetime.date | None
) -> Iterator[datetime.date]:
    """The dates of the rule from ``start_date``, up to and including ``end_date``; endless without it."""
    until = datetime.datetime.combine(end_date, datetime.time()) if end_date is not None else None
    for moment in rrule(
        WEEKLY,
        interval=weeks_between,
        dtstart=datetime.datetime.combine(start_date, datetime.time()),
        until=until,
    ):
        yield moment.date()


def _slot_problems(
    *,
    clinic: Clinic,
    provider: Provider,
    room: Room | None,
    patients: tuple[Patient, ...],
    day: datetime.date,
    start: datetime.time,
    minutes: int,
) -> list[str]:
    """Every reason a new session can't be booked on ``day``: [] when it can."""
    problems: list[str] = []
    try:
        booking_rules.validate_slot_times(scheduled_date=day, scheduled_time=start, duration=minutes)
    except SlotTimeError as error:
        problems.extend(error.messages)
    problems.extend(
        booking_rules.slot_clashes(
            clinic=clinic,
            provider=provider,
            room=room,
            patients=patients,
            day=day,
            start=start,
            minutes=minutes,
        )
    )
    return problems


def _with_rules(clinic: Clinic, provider: Provider) -> tuple[Clinic, Provider]:
    """The clinic and provider with their hours, holidays and leave read once, for checking many
    dates: the checks then run no query of their own (``core.opening_hours``, ``core.availability``)."""
    clinic = Clinic.objects.prefetch_related(
        *opening_hours.HOURS_PREFETCH, *availability.CLINIC_PREFETCH
    ).get(pk=clinic.pk)
    provider = (
        Provider.objects.select_related("user")
        .prefetch_related(*availability.PROVIDER_PREFETCH)
        .get(pk=provider.pk)
    )
    return clinic, provider


def _plan(
    *,
    session_type: str,
    provider: Provider,
    clinic: Clinic,
    start_date: datetime.date,
    scheduled_time: datetime.time,
    duration: int,
    frequency: str,
    occurrence_count: int | None,
    end_date: datetime.date | None,
    room: Room | None,
    patient: Patient | None,
    max_capacity: int,
    skip_dates: Iterable[datetime.date],
) -> SeriesPlan:
    """``SeriesService.plan_series`` for a clinic and provider read by ``_with_rules``."""
    _validate_rule(
        session_type=session_type,
        frequency=frequency,
        start_date=start_date,
        occurrence_count=occurrence_count,
        end_date=end_date,
        max_capacity=max_capacity,
        patient=patient,
    )
    booking_rules.validate_slot_scope(
        provider=provider, clinic=clinic, room=room, duration=duration, patient=patient
    )
    weeks_between = SessionSeries.WEEKS_BETWEEN[SessionSeries.Frequency(frequency)]
    holiday_names = {holiday.date: holiday.name for holiday in clinic.holidays.all()}
    skip = set(skip_dates)
    candidates: list[datetime.date] = []
    holidays: list[tuple[datetime.date, str]] = []
    skipped: list[datetime.date] = []
    for day in _rule_dates(start_date, weeks_between, end_date):
        if day in holiday_names:
            holidays.append((day, holiday_names[day]))
        elif day in skip:
            skipped.append(day)
        else:
            candidates.append(day)
        if len(candidates) == occurrence_count:
            break
        if len(candidates) > SessionSeries.MAX_OCCURRENCES:
            raise SeriesRuleError(
                _("A series has at most %(max)d sessions: choose an earlier last date.")
                % {"max": SessionSeries.MAX_OCCURRENCES}
            )
    patients = (patient,) if patient is not None else ()
    dates: list[datetime.date] = []
    clashes: list[DateClash] = []
    for day in candidates:
        problems = _slot_problems(
            clinic=clinic,
            provider=provider,
            room=room,
            patients=patients,
            day=day,
            start=scheduled_time,
            minutes=duration,
        )
        if problems:
            clashes.append(DateClash(day, tuple(problems)))
        else:
            dates.append(day)
    return SeriesPlan(dates=dates, holidays=holidays, clashes=clashes, skipped=skipped)


def _require_series(session: Session) -> int:
    if session.series_id is None:
        raise InvalidTransition(_("This session is not part of a series."))
    return session.series_id


def _require_group(series: SessionSeries) -> None:
    if not series.is_group:
        raise InvalidTransition(
            _("An individual series is for its one child; only a group series takes enrolments.")
        )


def _future_occurrences(series: SessionSeries) -> QuerySet[Session]:
    """The series' sessions still to come that a child can join: scheduled, from today on."""
    return series.sessions.filter(status=Session.Status.SCHEDULED, scheduled_date__gte=clock.today())


def _in_date_order(sessions: Iterable[Session]) -> list[Session]:
    return sorted(sessions, key=lambda session: (session.scheduled_date, session.scheduled_time, session.pk))


def _lock_occurrences(sessions: QuerySet[Session]) -> tuple[list[Session], list[SessionParticipant]]:
    """Lock the sessions, then their active participants, open waiting-list entries and patients.

    Everything ``SessionService`` locks when it cancels or moves one of them, a freed seat's
    waiting child included, taken up front in core.locks' order (see the module docstring).
    Returns the sessions in date order and their active participants.
    """
    locked = locks.lock_rows(sessions.select_related("clinic__tenant", "provider__user", "room"))
    session_ids = [session.pk for session in locked]
    participants = locks.lock_rows(
        SessionParticipant.objects.filter(session_id__in=session_ids)
        .exclude(status__in=SessionParticipant.INACTIVE_STATUSES)
        .select_related("patient")
    )
    entries = locks.lock_rows(
        WaitlistEntry.objects.filter(session_id__in=session_ids, status__in=WaitlistEntry.OPEN_STATUSES)
    )
    patient_ids = {participant.patient_id for participant in participants} | {
        entry.patient_id for entry in entries
    }
    locks.lock_rows(Patient.objects.filter(pk__in=patient_ids))
    return _in_date_order(locked), participants


def _occurrences_from(session: Session, *, following: bool, statuses: Iterable[str]) -> QuerySet[Session]:
    """``session`` itself and, when ``following``, the series' later sessions in ``statuses``."""
    wanted = Q(pk=session.pk)
    if following:
        later = Q(scheduled_date__gt=session.scheduled_date) | Q(
            scheduled_date=session.scheduled_date, scheduled_time__gt=session.scheduled_time
        )
        wanted |= Q(series_id=session.series_id, status__in=list(statuses)) & later
    return Session.objects.filter(wanted)


def _enrolment_clashes(sessions: list[Session], patient: Patient) -> list[DateClash]:
    """Why ``patient`` can't join each of ``sessions`` (full, or booked elsewhere then)."""
    joined = _already_in(sessions, patient)
    seats = dict(
        with_seats_taken(Session.objects.filter(pk__in=[s.pk for s in sessions])).values_list(
            "pk", "seats_taken"
        )
    )
    clashes: list[DateClash] = []
    for session in sessions:
        if session.pk in joined:
            continue
        reasons: list[str] = []
        taken = seats[session.pk]
        if taken >= session.max_capacity:
            reasons.append(
                _("Full (%(taken)d/%(capacity)d).") % {"taken": taken, "capacity": session.max_capacity}
            )
        reasons.extend(
            overlaps.find_conflicts(
                patients=(patient,),
                day=session.scheduled_date,
                start=session.scheduled_time,
                minutes=session.duration,
                exclude_session=session,
            )
        )
        if reasons:
            clashes.append(DateClash(session.scheduled_date, tuple(reasons)))
    return clashes


def _already_in(sessions: list[Session], patient: Patient) -> set[int]:
    """The ids of the sessions ``patient`` already holds a seat in."""
    return set(
        SessionParticipant.objects.filter(session__in=sessions, patient=patient)
        .exclude(status__in=SessionParticipant.INACTIVE_STATUSES)
        .values_list("session_id", flat=True)
    )


class SeriesService:
    """Creates series, enrols and withdraws children, cancels and moves occurrences."""

    @staticmethod
    def plan_series(
        *,
        session_type: str,
        provider: Provider,
        clinic: Clinic,
        start_date: datetime.date,
        scheduled_time: datetime.time,
        duration: int,
        frequency: str,
        occurrence_count: int | None = None,
        end_date: datetime.date | None = None,
        room: Room | None = None,
        patient: Patient | None = None,
        max_capacity: int = 1,
        skip_dates: Iterable[datetime.date] = (),
    ) -> SeriesPlan:
        """The dates a series would take, the holidays it skips and every clash, without writing.

        A count means sessions held: holidays and ``skip_dates`` don't count, so they extend
        the series; with ``end_date`` the dates run up to and including it. A skip date that
        is not a date of the rule changes nothing. A date that clashes counts as one of the
        series' dates (the front desk skips it, and a counted series then grows by one).

        Raises SeriesRuleError (count and last date both or neither, a count out of 1-104, a
        last date before the first, more than 104 sessions up to the last date, a group with
        a child or an individual series without one), CapacityError (2-20 seats for a group,
        1 for an individual series) and OutOfScope (provider, room or child not of the clinic,
        duration out of range).
        """
        clinic, provider = _with_rules(clinic, provider)
        return _plan(
            session_type=session_type,
            provider=provider,
            clinic=clinic,
            start_date=start_date,
            scheduled_time=scheduled_time,
            duration=duration,
            frequency=frequency,
            occurrence_count=occurrence_count,
            end_date=end_date,
            room=room,
            patient=patient,
            max_capacity=max_capacity,
            skip_dates=skip_dates,
        )

    @staticmethod
    @transaction.atomic
    def create_series(
        *,
        session_type: str,
        provider: Provider,
        clinic: Clinic,
        service_type: str,
        start_date: datetime.date,
        scheduled_time: datetime.time,
        duration: int = 60,
        frequency: str = SessionSeries.Frequency.WEEKLY,
        occurrence_count: int | None = None,
        end_date: datetime.date | None = None,
        max_capacity: int = 1,
        room: Room | None = None,
        patient: Patient | None = None,
        title: str = "",
        group_notes: str = "",
        skip_dates: Iterable[datetime.date] = (),
        user: User | None = None,
    ) -> SessionSeries:
        """Create the series and every one of its sessions, or nothing.

        Every date is checked first (``plan_series``): opening hours, the provider's working
        hours and leave, the provider, the room and, for an individual series, the child.
        Any clash refuses the whole series with SeriesClashError listing every clashing date
        and its reasons; pass those dates as ``skip_dates`` to create the rest. Holidays and
        skipped dates are kept as the series' ``skipped_dates``. An individual series books
        its child into every session, each with its own appointment number.

        Raises what ``plan_series`` raises, and SeriesRuleError when no date is left to book
        or an individual series is given group notes.
        """
        if group_notes and session_type != SessionType.GROUP:
            raise SeriesRuleError(_("Group notes are only for group sessions."))
        # The provider and the room first (core.locks' order): no booking can take one of the
        # dates between the check and the writes.
        overlaps.lock_parties(provider, [room])
        clinic, provider = _with_rules(clinic, provider)
        slot: dict[str, Any] = {
            "session_type": session_type,
            "provider": provider,
            "clinic": clinic,
            "room": room,
            "start_date": start_date,
            "scheduled_time": scheduled_time,
            "duration": duration,
            "frequency": frequency,
            "occurrence_count": occurrence_count,
            "end_date": end_date,
            "max_capacity": max_capacity,
            "patient": patient,
        }
        plan = _plan(**slot, skip_dates=skip_dates)
        if plan.clashes:
            raise SeriesClashError(plan.clashes)
        if not plan.dates:
            raise SeriesRuleError(
                _("Every date of this series is a holiday or skipped: there is no session to create.")
            )
        # The series row points at the child: inserting it takes a key-share lock on the
        # patient row, before the sessions. That lock waits only for a transaction holding the
        # patient itself, which by the order waits for nothing this one holds yet.
        series = SessionSeries(
            **slot, service_type=service_type, title=title, group_notes=group_notes, created_by=user
        )
        save_with_history(series, user)
        patients = (patient,) if patient is not None else ()
        SeriesSkippedDate.objects.bulk_create(
            [
                SeriesSkippedDate(series=series, date=day, why=SeriesSkippedDate.Why.HOLIDAY, detail=name)
                for day, name in plan.holidays
            ]
            + [
                SeriesSkippedDate(
                    series=series,
                    date=day,
                    why=SeriesSkippedDate.Why.CLASH,
                    detail=" ".join(
                        _slot_problems(
                            clinic=clinic,
                            provider=provider,
                            room=room,
                            patients=patients,
                            day=day,
                            start=scheduled_time,
                            minutes=duration,
                        )
                    ),
                )
                for day in plan.skipped
            ]
        )
        sessions = [
            SessionService._create_session(
                session_type=session_type,
                provider=provider,
                clinic=clinic,
                room=room,
                user=user,
                scheduled_date=day,
                scheduled_time=scheduled_time,
                duration=duration,
                service_type=service_type,
                max_capacity=max_capacity,
                group_notes=group_notes,
                series=series,
            )
            for day in plan.dates
        ]
        if patient is not None:
            # Every session before the child, the child before the counter (core.locks' order):
            # add_patient_to_session then re-locks rows already held.
            locks.lock_rows(Session.objects.filter(series=series))
            locks.lock_row(Patient, patient.pk)
            for session in sessions:
                SessionService.add_patient_to_session(session, patient, user=user)
        return series

    @staticmethod
    def preview_enrolment(series: SessionSeries, patient: Patient) -> list[DateClash]:
        """The future occurrences ``patient`` can't join - full, or the child booked elsewhere -
        each with every reason, without writing: what ``enrol_patient`` would refuse.

        Raises InvalidTransition for an individual series, OutOfScope for a child of another
        organisation.
        """
        _require_group(series)
        booking_rules.validate_patient_scope(patient, series.clinic)
        return _enrolment_clashes(_in_date_order(_future_occurrences(series)), patient)

    @staticmethod
    @transaction.atomic
    def enrol_patient(
        series: SessionSeries,
        patient: Patient,
        *,
        skip_dates: Iterable[datetime.date] = (),
        user: User | None = None,
    ) -> SeriesEnrolment:
        """Enrol ``patient`` in a group series: a seat in every future occurrence, or in none.

        Future occurrences are the scheduled ones from today on, less ``skip_dates``; an
        occurrence the child already holds a seat in keeps it. Each new seat gets its own
        appointment number, drawn in date order with no gaps. A withdrawn enrolment is
        enrolled again.

        Raises InvalidTransition (an individual series, no future occurrence left to join),
        OutOfScope (a child of another organisation), ConflictError (already enrolled) and
        SeriesClashError listing every occurrence that is full or that clashes with another
        booking of the child, before anything is written.
        """
        # The series first, then all its sessions, then the child, then the counter (core.locks'
        # order): two enrolments queue on the series, and add_patient_to_session, called once
        # per session, re-locks rows already held.
        locked_series = locks.lock_row(SessionSeries.objects.select_related("clinic"), series.pk)
        _require_group(locked_series)
        booking_rules.validate_patient_scope(patient, locked_series.clinic)
        if locked_series.enrolments.filter(patient=patient, withdrawn_at__isnull=True).exists():
            raise ConflictError(
                _("%(patient)s is already enrolled in this series.") % {"patient": patient.full_name}
            )
        occurrences = locks.lock_rows(_future_occurrences(locked_series).select_related("clinic__tenant"))
        skip = set(skip_dates)
        targets = [session for session in _in_date_order(occurrences) if session.scheduled_date not in skip]
        if not targets:
            raise InvalidTransition(_("This series has no session left to join."))
        # Offers that ran out pass their seats on before the seats are counted, as for one
        # booking; this locks the sessions' waiting-list entries, then the child with the
        # waiting children, all at once (core.locks' order).
        waitlist.settle(targets, user=user, joining=patient)
        clashes = _enrolment_clashes(targets, patient)
        if clashes:
            raise SeriesClashError(clashes)
        joined = _already_in(targets, patient)
        for session in targets:
            if session.pk not in joined:
                SessionService.add_patient_to_session(session, patient, user=user)
        enrolment = locked_series.enrolments.filter(patient=patient).order_by(
            "-withdrawn_at", "-pk"
        ).first() or SeriesEnrolment(series=locked_series, patient=patient)
        if enrolment.pk is not None:
            enrolment.enrolled_at = clock.now()
        enrolment.enrolled_by = user
        enrolment.withdrawn_at, enrolment.withdrawn_by, enrolment.withdraw_reason = None, None, ""
        save_with_history(enrolment, user)
        return enrolment

    @staticmethod
    @transaction.atomic
    def withdraw_patient(
        series: SessionSeries, patient: Patient, reason: str, *, user: User | None = None
    ) -> SeriesEnrolment:
        """Withdraw ``patient`` from the rest of a series: every seat still to come is cancelled.

        The cancellations are the clinic's (never late, never billable), with ``reason``;
        each freed seat goes to the session's waiting list as ``cancel_participant`` does.
        A seat in today's session the child already arrived in stays. The enrolment keeps
        who withdrew the child, when and why.

        Raises InvalidTransition without a reason or when the child is not enrolled.
        """
        reason = (reason or "").strip()
        if not reason:
            raise InvalidTransition(_("Give a reason for the withdrawal."))
        locked_series = locks.lock_row(SessionSeries, series.pk)
        enrolment = locked_series.enrolments.filter(patient=patient, withdrawn_at__isnull=True).first()
        if enrolment is None:
            raise InvalidTransition(
                _("%(patient)s is not enrolled in this series.") % {"patient": patient.full_name}
            )
        _sessions, participants = _lock_occurrences(_future_occurrences(locked_series))
        for participant in participants:
            if participant.patient_id == patient.pk and participant.status in ACTIVE_BEFORE_ARRIVAL:
                SessionService.cancel_participant(participant, reason, user=user)
        enrolment.withdrawn_at, enrolment.withdrawn_by, enrolment.withdraw_reason = clock.now(), user, reason
        save_with_history(enrolment, user, ["withdrawn_at", "withdrawn_by", "withdraw_reason"])
        return enrolment

    @staticmethod
    @transaction.atomic
    def cancel_occurrences(
        session: Session, reason: str, *, following: bool = False, user: User | None = None
    ) -> list[Session]:
        """Cancel one occurrence of a series or, with ``following``, it and every later open one.

        Each goes through ``SessionService.cancel_session`` (every child's seat cancelled by
        the clinic) and its date is kept among the series' skipped dates, with ``reason``.
        Returns the cancelled sessions in date order.

        Raises InvalidTransition when the session is not part of a series, is no longer open,
        or no reason is given.
        """
        series_id = _require_series(session)
        locks.lock_row(SessionSeries, series_id)
        sessions, _participants = _lock_occurrences(
            _occurrences_from(session, following=following, statuses=Session.OPEN_STATUSES)
        )
        cancelled = [SessionService.cancel_session(occurrence, reason, user=user) for occurrence in sessions]
        for occurrence in cancelled:
            SeriesSkippedDate.objects.get_or_create(
                series_id=series_id,
                date=occurrence.scheduled_date,
                defaults={"why": SeriesSkippedDate.Why.CANCELLED, "detail": occurrence.cancel_reason},
            )
        return cancelled

    @staticmethod
    @transaction.atomic
    def move_occurrences(
        session: Session,
        *,
        scheduled_date: datetime.date,
        scheduled_time: datetime.time,
        following: bool = False,
        duration: int | None = None,
        provider: Provider | None = None,
        room: Room | None = None,
        reason: str = "",
        user: User | None = None,
    ) -> list[Session]:
        """Move one occurrence or, with ``following``, it and every later scheduled one.

        Each later occurrence moves by the same number of days as ``session`` and to the new
        time (and ``duration``, ``provider``, ``room`` when given), through
        ``SessionService.reschedule_session``: every child keeps their seat and number. All or
        nothing: SeriesClashError lists every new date that clashes, with every reason.
        Returns the moved sessions in date order.

        Raises InvalidTransition when the session is not part of a series, and what
        ``reschedule_session`` raises for a reason other than a clash of the new slot.
        """
        series_id = _require_series(session)
        shift = scheduled_date - session.scheduled_date
        affected = _occurrences_from(session, following=following, statuses=[Session.Status.SCHEDULED])
        parties = list(affected.values_list("provider_id", "room_id"))
        provider_ids = {provider_id for provider_id, _room_id in parties} | {
            getattr(provider, "pk", session.provider_id)
        }
        room_ids = {room_id for _provider_id, room_id in parties} | {getattr(room, "pk", session.room_id)}
        # core.locks' order: the old and new providers and rooms, the series, its sessions,
        # their participants and patients - everything reschedule_session locks for each.
        for provider_id in sorted(provider_ids):
            locks.lock_row_if_exists(Provider, provider_id)
        for room_id in sorted(pk for pk in room_ids if pk is not None):
            locks.lock_row_if_exists(Room, room_id)
        locks.lock_row(SessionSeries, series_id)
        sessions, _participants = _lock_occurrences(affected)
        if any(
            occurrence.provider_id not in provider_ids or occurrence.room_id not in room_ids
            for occurrence in sessions
        ):
            raise ConflictError(
                _("The series was changed while you were moving it; reload it and try again.")
            )
        # Moving later, the last occurrence goes first, so each one moves into a slot the next
        # one has already left (a series put back a week); moving earlier, the first goes first.
        order = sorted(sessions, key=lambda s: (s.scheduled_date, s.scheduled_time), reverse=shift.days > 0)
        clashes: list[DateClash] = []
        for occurrence in order:
            new_date = occurrence.scheduled_date + shift
            try:
                SessionService.reschedule_session(
                    session if occurrence.pk == session.pk else occurrence,
                    scheduled_date=new_date,
                    scheduled_time=scheduled_time,
                    duration=duration,
                    provider=provider,
                    room=room,
                    reason=reason,
                    user=user,
                )
            except (ConflictError, SlotTimeError) as error:
                clashes.append(DateClash(new_date, tuple(error.messages)))
        if clashes:
            raise SeriesClashError(sorted(clashes, key=lambda clash: clash.date))
        return _in_date_order(Session.objects.filter(pk__in=[occurrence.pk for occurrence in sessions]))
