"""Recurring series: ``SeriesService`` creates, enrols, withdraws, cancels and moves.

The clock is pinned to Sunday 15 March 2026 (``frozen_today``); the social-skills group meets
on Tuesdays at 10:00 from 17 March. Every date of a series is checked before anything is
written, and a refusal lists each clashing date, day first, with every reason.
"""

import datetime

import pytest
from django.utils import timezone
from django.utils.formats import date_format

from appointments.exceptions import (
    CapacityError,
    ConflictError,
    InvalidTransition,
    OutOfScope,
    SeriesClashError,
    SeriesRuleError,
)
from appointments.models import (
    AppointmentNumberCounter,
    SeriesEnrolment,
    SeriesSkippedDate,
    Session,
    SessionParticipant,
    SessionSeries,
    WaitlistEntry,
)
from appointments.series_service import DateClash, SeriesPlan, SeriesService
from appointments.session_service import SessionService
from core.models import ClinicHoliday, OpeningHours, ProviderLeave, ProviderWorkingHours, User
from core.tests.factories import (
    ClinicFactory,
    ConsentFactory,
    PatientFactory,
    ProviderFactory,
    RoomFactory,
    TenantFactory,
)
from core.tests.view_helpers import staff_member

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

Status = SessionParticipant.Status
Why = SeriesSkippedDate.Why
TUESDAY = datetime.date(2026, 3, 17)
WEEK = datetime.timedelta(weeks=1)
TEN = datetime.time(10)


def at(hour: int, minute: int = 0) -> datetime.time:
    return datetime.time(hour, minute)


def tuesdays(count: int, first: datetime.date = TUESDAY, every: int = 1) -> list[datetime.date]:
    return [first + i * every * WEEK for i in range(count)]


def short(day: datetime.date) -> str:
    """Dates as the booking checks name them in their messages."""
    return date_format(day, "SHORT_DATE_FORMAT")


def midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, at(0), tzinfo=timezone.get_default_timezone())


def dmy(day: datetime.date) -> str:
    return date_format(day, "d/m/Y")


def series_kwargs(provider, clinic, **overrides) -> dict:
    return {
        "session_type": Session.SessionType.GROUP,
        "provider": provider,
        "clinic": clinic,
        "service_type": "Social Skills Group",
        "start_date": TUESDAY,
        "scheduled_time": at(10),
        "duration": 60,
        "frequency": SessionSeries.Frequency.WEEKLY,
        "occurrence_count": 10,
        "max_capacity": 4,
        **overrides,
    }


def create_group(provider, clinic, **overrides) -> SessionSeries:
    return SeriesService.create_series(**series_kwargs(provider, clinic, **overrides))


def plan(provider, clinic, **overrides) -> SeriesPlan:
    kwargs = series_kwargs(provider, clinic, **overrides)
    del kwargs["service_type"]
    return SeriesService.plan_series(**kwargs)


def dates_of(series: SessionSeries) -> list[datetime.date]:
    return list(series.sessions.order_by("scheduled_date").values_list("scheduled_date", flat=True))


def group_at(provider, clinic, day, start=TEN, *, room=None, capacity=4) -> Session:
    return SessionService.create_group_session(
        provider=provider,
        clinic=clinic,
        scheduled_date=day,
        scheduled_time=start,
        duration=60,
        service_type="Assessment group",
        max_capacity=capacity,
        room=room,
    )


def numbers_issued() -> int:
    return sum(AppointmentNumberCounter.objects.values_list("last_number", flat=True))


def seats_of(series: SessionSeries, patient) -> list[tuple[datetime.date, str, str]]:
    return list(
        SessionParticipant.objects.filter(session__series=series, patient=patient)
        .order_by("session__scheduled_date")
        .values_list("session__scheduled_date", "status", "appointment_number")
    )


def sequence(number: str) -> int:
    return int(number.rsplit("-", 1)[1])


@pytest.fixture
def children(tenant):
    return [
        PatientFactory(tenant=tenant, first_name_en=name, last_name_en="Ali") for name in ("Sara", "Omar")
    ]


@pytest.fixture
def desk(tenant):
    return staff_member(tenant, User.Role.FRONT_DESK)


# Creating a series ------------------------------------------------------------------------------


def test_create_series_weekly_with_a_count_creates_every_session(provider, clinic, room, desk):
    series = create_group(provider, clinic, room=room, title="Social skills, spring", user=desk)

    assert dates_of(series) == tuesdays(10)
    sessions = list(series.sessions.all())
    assert {
        (s.session_type, s.status, s.scheduled_time, s.duration, s.max_capacity, s.room_id, s.created_by_id)
        for s in sessions
    } == {(Session.SessionType.GROUP, Session.Status.SCHEDULED, at(10), 60, 4, room.pk, desk.pk)}
    assert (series.occurrence_count, series.end_date, series.created_by, series.title) == (
        10,
        None,
        desk,
        "Social skills, spring",
    )
    assert series.history.get().history_user == desk
    assert not series.skipped_dates.exists()


def test_create_series_fortnightly_up_to_and_including_the_last_date(provider, clinic):
    last = TUESDAY + 8 * WEEK

    series = create_group(
        provider,
        clinic,
        frequency=SessionSeries.Frequency.FORTNIGHTLY,
        occurrence_count=None,
        end_date=last,
    )

    assert dates_of(series) == tuesdays(5, every=2)
    assert dates_of(series)[-1] == last


def test_create_series_with_a_last_date_between_two_dates_stops_before_it(provider, clinic):
    series = create_group(
        provider, clinic, occurrence_count=None, end_date=TUESDAY + 2 * WEEK - datetime.timedelta(days=1)
    )

    assert dates_of(series) == tuesdays(2)


def test_create_series_skips_a_holiday_and_a_count_series_grows_by_one(provider, clinic):
    holiday = TUESDAY + 2 * WEEK
    ClinicHoliday.objects.create(clinic=clinic, date=holiday, name="Eid al-Fitr")

    series = create_group(provider, clinic, occurrence_count=4)

    assert dates_of(series) == [TUESDAY, TUESDAY + WEEK, TUESDAY + 3 * WEEK, TUESDAY + 4 * WEEK]
    assert list(series.skipped_dates.values_list("date", "why", "detail")) == [
        (holiday, Why.HOLIDAY, "Eid al-Fitr")
    ]


def test_create_series_with_a_last_date_skips_a_holiday_without_growing(provider, clinic):
    ClinicHoliday.objects.create(clinic=clinic, date=TUESDAY + WEEK, name="National Day")

    series = create_group(provider, clinic, occurrence_count=None, end_date=TUESDAY + 2 * WEEK)

    assert dates_of(series) == [TUESDAY, TUESDAY + 2 * WEEK]


def test_plan_series_previews_dates_holidays_clashes_and_skips_without_writing(provider, clinic, room):
    ClinicHoliday.objects.create(clinic=clinic, date=TUESDAY + WEEK, name="National Day")
    other_provider = ProviderFactory(clinic=clinic)
    taken = group_at(other_provider, clinic, TUESDAY + 3 * WEEK, at(10, 30), room=room)
    sessions_before = Session.objects.count()

    preview = plan(provider, clinic, room=room, occurrence_count=4, skip_dates=[TUESDAY + 2 * WEEK])

    assert preview == SeriesPlan(
        dates=[TUESDAY, TUESDAY + 4 * WEEK, TUESDAY + 5 * WEEK],
        holidays=[(TUESDAY + WEEK, "National Day")],
        clashes=[
            DateClash(
                TUESDAY + 3 * WEEK,
                (f"Room {room.name} is already booked {short(taken.scheduled_date)} 10:30-11:30.",),
            )
        ],
        skipped=[TUESDAY + 2 * WEEK],
    )
    assert Session.objects.count() == sessions_before
    assert not SessionSeries.objects.exists()


def test_create_series_refuses_every_clashing_date_at_once_and_writes_nothing(provider, clinic, room, tenant):
    colleague = ProviderFactory(clinic=clinic)
    provider_busy = group_at(provider, clinic, TUESDAY + WEEK, at(9, 30))
    room_busy = group_at(colleague, clinic, TUESDAY + 4 * WEEK, at(10), room=room)
    ProviderLeave.objects.create(
        provider=provider,
        starts_at=midnight(TUESDAY + 6 * WEEK),
        ends_at=midnight(TUESDAY + 6 * WEEK + datetime.timedelta(days=1)),
        reason="Conference",
    )
    sessions_before = Session.objects.count()

    with pytest.raises(SeriesClashError) as refused:
        create_group(provider, clinic, room=room)

    leave_day = TUESDAY + 6 * WEEK
    assert refused.value.clashes == [
        DateClash(
            TUESDAY + WEEK,
            (f"{provider} already has a booking {short(provider_busy.scheduled_date)} 09:30-10:30.",),
        ),
        DateClash(
            TUESDAY + 4 * WEEK,
            (f"Room {room.name} is already booked {short(room_busy.scheduled_date)} 10:00-11:00.",),
        ),
        DateClash(leave_day, (f"{provider} is on leave on {dmy(leave_day)} (Conference).",)),
    ]
    assert refused.value.messages == [
        f"{dmy(clash.date)}: {' '.join(clash.reasons)}" for clash in refused.value.clashes
    ]
    assert isinstance(refused.value, ConflictError)
    assert not SessionSeries.objects.exists()
    assert not SeriesSkippedDate.objects.exists()
    assert Session.objects.count() == sessions_before


def test_create_series_refuses_dates_outside_opening_hours(provider, clinic):
    # Open on Tuesdays only until 10:30: the 10:00-11:00 group doesn't fit.
    OpeningHours.objects.create(
        clinic=clinic, weekday=OpeningHours.Weekday.TUESDAY, opens_at=at(8), closes_at=at(10, 30)
    )

    with pytest.raises(SeriesClashError) as refused:
        create_group(provider, clinic, occurrence_count=2)

    assert [clash.date for clash in refused.value.clashes] == tuesdays(2)
    assert all("08:00-10:30" in clash.reasons[0] for clash in refused.value.clashes)
    assert not SessionSeries.objects.exists()


def test_create_series_refuses_the_dates_outside_the_providers_working_hours(provider, clinic):
    # Works Tuesdays 08:00-10:30 at this clinic: the 10:00-11:00 group runs past the end.
    ProviderWorkingHours.objects.create(
        provider=provider,
        clinic=clinic,
        weekday=OpeningHours.Weekday.TUESDAY,
        starts_at=at(8),
        ends_at=at(10, 30),
    )

    preview = plan(provider, clinic, occurrence_count=2)

    assert preview.dates == []
    assert [clash.date for clash in preview.clashes] == tuesdays(2)
    assert preview.clashes[0].reasons == (
        f"{provider} works 08:00-10:30 at {clinic} on Tue {dmy(TUESDAY)}: "
        "10:00-11:00 is outside those hours.",
    )


def test_create_series_skipping_the_clashing_dates_creates_the_rest_and_keeps_why(provider, clinic):
    busy = group_at(provider, clinic, TUESDAY + WEEK, at(10))

    series = create_group(provider, clinic, occurrence_count=3, skip_dates=[TUESDAY + WEEK])

    assert dates_of(series) == [TUESDAY, TUESDAY + 2 * WEEK, TUESDAY + 3 * WEEK]
    assert list(series.skipped_dates.values_list("date", "why", "detail")) == [
        (
            TUESDAY + WEEK,
            Why.CLASH,
            f"{provider} already has a booking {short(busy.scheduled_date)} 10:00-11:00.",
        )
    ]


def test_create_series_skip_date_off_the_rule_changes_nothing(provider, clinic):
    series = create_group(
        provider, clinic, occurrence_count=2, skip_dates=[TUESDAY + datetime.timedelta(days=1)]
    )

    assert dates_of(series) == tuesdays(2)
    assert not series.skipped_dates.exists()


def test_create_individual_series_books_the_child_with_consecutive_numbers(provider, clinic, children, desk):
    sara = children[0]
    numbers_before = numbers_issued()

    series = SeriesService.create_series(
        **series_kwargs(
            provider,
            clinic,
            session_type=Session.SessionType.INDIVIDUAL,
            patient=sara,
            max_capacity=1,
            occurrence_count=5,
            service_type="Individual Therapy",
        ),
        user=desk,
    )

    seats = seats_of(series, sara)
    assert [(day, status) for day, status, _number in seats] == [(day, Status.BOOKED) for day in tuesdays(5)]
    assert [sequence(number) for *_rest, number in seats] == list(
        range(numbers_before + 1, numbers_before + 6)
    )
    assert set(series.sessions.values_list("max_capacity", "session_type")) == {
        (1, Session.SessionType.INDIVIDUAL)
    }


def test_create_individual_series_refuses_the_dates_the_child_is_booked_elsewhere(provider, clinic, children):
    sara = children[0]
    elsewhere = group_at(ProviderFactory(clinic=clinic), clinic, TUESDAY + WEEK, at(10, 15))
    SessionService.add_patient_to_session(elsewhere, sara)
    numbers_before = numbers_issued()

    with pytest.raises(SeriesClashError) as refused:
        SeriesService.create_series(
            **series_kwargs(
                provider,
                clinic,
                session_type=Session.SessionType.INDIVIDUAL,
                patient=sara,
                max_capacity=1,
                occurrence_count=3,
            )
        )

    assert refused.value.clashes == [
        DateClash(TUESDAY + WEEK, (f"Sara Ali is already booked {short(TUESDAY + WEEK)} 10:15-11:15.",))
    ]
    assert numbers_issued() == numbers_before
    assert not SessionSeries.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "error", "message"),
    [
        (
            {"end_date": TUESDAY + WEEK},
            SeriesRuleError,
            "Give either a number of sessions or a last date, not both.",
        ),
        (
            {"occurrence_count": None},
            SeriesRuleError,
            "Give either a number of sessions or a last date, not both.",
        ),
        ({"occurrence_count": 105}, SeriesRuleError, "A series has between 1 and 104 sessions (got 105)."),
        (
            {"occurrence_count": None, "end_date": TUESDAY - WEEK},
            SeriesRuleError,
            "The last date can't be before the first.",
        ),
        (
            {"occurrence_count": None, "end_date": TUESDAY + 104 * WEEK},
            SeriesRuleError,
            "A series has at most 104 sessions: choose an earlier last date.",
        ),
        ({"max_capacity": 1}, CapacityError, "A group series needs between 2 and 20 seats (got 1)."),
        ({"max_capacity": 21}, CapacityError, "A group series needs between 2 and 20 seats (got 21)."),
        (
            {"session_type": Session.SessionType.INDIVIDUAL, "max_capacity": 1},
            SeriesRuleError,
            "Choose the child of this individual series.",
        ),
        (
            {"session_type": Session.SessionType.INDIVIDUAL},
            CapacityError,
            "An individual series has exactly one seat (got 4).",
        ),
        (
            {"frequency": "monthly"},
            SeriesRuleError,
            "Choose how often the series repeats: every week or every two weeks.",
        ),
        ({"duration": 5}, OutOfScope, "Duration must be between 15 and 480 minutes (got 5)."),
    ],
)
def test_create_series_refuses_a_rule_it_cannot_keep(provider, clinic, overrides, error, message):
    with pytest.raises(error) as refused:
        create_group(provider, clinic, **overrides)

    assert refused.value.messages == [message]
    assert not Session.objects.exists()


def test_create_series_refuses_a_child_on_a_group_series(provider, clinic, children):
    with pytest.raises(SeriesRuleError, match="A group series has no child of its own"):
        create_group(provider, clinic, patient=children[0])


def test_create_series_refuses_group_notes_on_an_individual_series(provider, clinic, children):
    with pytest.raises(SeriesRuleError, match="Group notes are only for group sessions."):
        create_group(
            provider,
            clinic,
            session_type=Session.SessionType.INDIVIDUAL,
            patient=children[0],
            max_capacity=1,
            group_notes="Bring snacks",
        )


def test_create_series_refuses_a_room_of_another_clinic(provider, clinic):
    elsewhere = RoomFactory(clinic=ClinicFactory(tenant=clinic.tenant))

    with pytest.raises(OutOfScope, match="is not in"):
        create_group(provider, clinic, room=elsewhere)


def test_create_series_refuses_when_every_date_is_a_holiday(provider, clinic):
    ClinicHoliday.objects.create(clinic=clinic, date=TUESDAY, name="National Day")

    with pytest.raises(SeriesRuleError, match="there is no session to create"):
        create_group(provider, clinic, occurrence_count=None, end_date=TUESDAY)


# Enrolling a child ------------------------------------------------------------------------------


@pytest.fixture
def series(provider, clinic):
    """Ten Tuesdays, 10:00-11:00, four seats."""
    return create_group(provider, clinic)


def test_enrol_patient_books_every_future_occurrence_with_gap_free_numbers(series, children, desk):
    sara = children[0]
    numbers_before = numbers_issued()

    enrolment = SeriesService.enrol_patient(series, sara, user=desk)

    seats = seats_of(series, sara)
    assert [(day, status) for day, status, _number in seats] == [(day, Status.BOOKED) for day in tuesdays(10)]
    assert [sequence(number) for *_rest, number in seats] == list(
        range(numbers_before + 1, numbers_before + 11)
    )
    assert (enrolment.series, enrolment.patient, enrolment.enrolled_by, enrolment.is_active) == (
        series,
        sara,
        desk,
        True,
    )
    assert enrolment.history.get().history_user == desk


def test_enrol_patient_joins_only_the_occurrences_still_to_come(provider, clinic, children):
    # Started three weeks ago: the first three Tuesdays are past.
    started = create_group(provider, clinic, start_date=TUESDAY - 3 * WEEK, occurrence_count=6)

    SeriesService.enrol_patient(started, children[0])

    assert [day for day, *_rest in seats_of(started, children[0])] == tuesdays(3)


def test_enrol_patient_skips_a_cancelled_occurrence(series, children):
    SeriesService.cancel_occurrences(series.sessions.get(scheduled_date=TUESDAY + WEEK), "Provider ill")

    SeriesService.enrol_patient(series, children[0])

    assert TUESDAY + WEEK not in [day for day, *_rest in seats_of(series, children[0])]
    assert len(seats_of(series, children[0])) == 9


def test_enrol_patient_refused_when_occurrences_are_full_or_the_child_is_busy(
    series, clinic, tenant, children
):
    sara, omar = children
    full_day, busy_day = TUESDAY + 2 * WEEK, TUESDAY + 5 * WEEK
    full = series.sessions.get(scheduled_date=full_day)
    for _seat in range(4):
        SessionService.add_patient_to_session(full, PatientFactory(tenant=tenant))
    elsewhere = group_at(ProviderFactory(clinic=clinic), clinic, busy_day, at(10, 30))
    SessionService.add_patient_to_session(elsewhere, sara)
    numbers_before = numbers_issued()

    with pytest.raises(SeriesClashError) as refused:
        SeriesService.enrol_patient(series, sara)

    assert refused.value.clashes == [
        DateClash(full_day, ("Full (4/4).",)),
        DateClash(busy_day, (f"Sara Ali is already booked {short(busy_day)} 10:30-11:30.",)),
    ]
    assert SeriesService.preview_enrolment(series, sara) == refused.value.clashes
    assert seats_of(series, sara) == []
    assert not SeriesEnrolment.objects.exists()
    assert numbers_issued() == numbers_before

    # No number was spent on the refusal: the next enrolment's numbers follow on without a gap.
    SeriesService.enrol_patient(series, omar, skip_dates=[full_day])
    assert [sequence(number) for *_rest, number in seats_of(series, omar)] == list(
        range(numbers_before + 1, numbers_before + 10)
    )


def test_enrol_patient_skipping_the_refused_dates_books_the_rest(series, tenant, children):
    sara = children[0]
    full = series.sessions.get(scheduled_date=TUESDAY + WEEK)
    for _seat in range(4):
        SessionService.add_patient_to_session(full, PatientFactory(tenant=tenant))

    SeriesService.enrol_patient(series, sara, skip_dates=[TUESDAY + WEEK])

    assert [day for day, *_rest in seats_of(series, sara)] == [d for d in tuesdays(10) if d != TUESDAY + WEEK]


def test_enrol_patient_keeps_a_seat_the_child_already_holds(series, children):
    sara = children[0]
    first = series.sessions.get(scheduled_date=TUESDAY)
    trial = SessionService.add_patient_to_session(first, sara)

    SeriesService.enrol_patient(series, sara)

    seats = seats_of(series, sara)
    assert len(seats) == 10
    assert seats[0][2] == trial.appointment_number


def test_enrol_patient_refuses_a_child_already_enrolled(series, children):
    SeriesService.enrol_patient(series, children[0])

    with pytest.raises(ConflictError, match="Sara Ali is already enrolled in this series."):
        SeriesService.enrol_patient(series, children[0])


def test_enrol_patient_refuses_a_child_of_another_organisation(series):
    stranger = PatientFactory(tenant=TenantFactory(code="OTHER", name_en="Other", name_ar="آخر"))

    with pytest.raises(OutOfScope, match="registered with another organisation"):
        SeriesService.enrol_patient(series, stranger)


def test_enrol_patient_refuses_an_individual_series(provider, clinic, children):
    individual = create_group(
        provider, clinic, session_type=Session.SessionType.INDIVIDUAL, patient=children[0], max_capacity=1
    )

    with pytest.raises(InvalidTransition, match="only a group series takes enrolments"):
        SeriesService.enrol_patient(individual, children[1])


def test_enrol_patient_refused_when_nothing_is_left_to_join(series, children):
    with pytest.raises(InvalidTransition, match="This series has no session left to join."):
        SeriesService.enrol_patient(series, children[0], skip_dates=tuesdays(10))


# Withdrawing a child ----------------------------------------------------------------------------


def test_withdraw_patient_cancels_every_seat_to_come_and_keeps_why(provider, clinic, children, desk):
    started = create_group(provider, clinic, start_date=TUESDAY - 2 * WEEK, occurrence_count=5)
    sara = children[0]
    past = SessionService.add_patient_to_session(started.sessions.get(scheduled_date=TUESDAY - WEEK), sara)
    SeriesService.enrol_patient(started, sara)

    enrolment = SeriesService.withdraw_patient(started, sara, "Family moved away", user=desk)

    seats = SessionParticipant.objects.filter(session__series=started, patient=sara)
    future = seats.filter(session__scheduled_date__gte=TUESDAY)
    assert set(future.values_list("status", "cancel_reason", "cancelled_by", "billable")) == {
        (Status.CANCELLED, "Family moved away", SessionParticipant.CancelledBy.CLINIC, False)
    }
    assert future.count() == 3
    past.refresh_from_db()
    assert past.status == Status.BOOKED
    assert (enrolment.is_active, enrolment.withdrawn_by, enrolment.withdraw_reason) == (
        False,
        desk,
        "Family moved away",
    )
    assert enrolment.withdrawn_at is not None


def test_withdraw_patient_then_enrol_again_reactivates_the_enrolment(series, children):
    sara = children[0]
    first = SeriesService.enrol_patient(series, sara)
    SeriesService.withdraw_patient(series, sara, "Trying another day")

    again = SeriesService.enrol_patient(series, sara)

    assert again.pk == first.pk
    assert again.is_active
    assert (
        SessionParticipant.objects.filter(session__series=series, patient=sara, status=Status.BOOKED).count()
        == 10
    )


def test_withdraw_patient_refuses_a_child_not_enrolled(series, children):
    with pytest.raises(InvalidTransition, match="Sara Ali is not enrolled in this series."):
        SeriesService.withdraw_patient(series, children[0], "No longer coming")


def test_withdraw_patient_needs_a_reason(series, children):
    SeriesService.enrol_patient(series, children[0])

    with pytest.raises(InvalidTransition, match="Give a reason for the withdrawal."):
        SeriesService.withdraw_patient(series, children[0], "  ")


# Cancelling and moving occurrences --------------------------------------------------------------


def test_cancel_occurrences_one_cancels_only_that_session(series, children, desk):
    SeriesService.enrol_patient(series, children[0])
    third = series.sessions.get(scheduled_date=TUESDAY + 2 * WEEK)

    cancelled = SeriesService.cancel_occurrences(third, "Provider ill", user=desk)

    assert [s.pk for s in cancelled] == [third.pk]
    statuses = dict(series.sessions.values_list("scheduled_date", "status"))
    assert [day for day, status in statuses.items() if status == Session.Status.CANCELLED] == [
        third.scheduled_date
    ]
    assert third.participants.get().status == Status.CANCELLED
    assert list(series.skipped_dates.values_list("date", "why", "detail")) == [
        (third.scheduled_date, Why.CANCELLED, "Provider ill")
    ]


def test_cancel_occurrences_this_and_following(series, children):
    for child in children:
        SeriesService.enrol_patient(series, child)
    seventh = series.sessions.get(scheduled_date=TUESDAY + 6 * WEEK)

    cancelled = SeriesService.cancel_occurrences(seventh, "Group closed early", following=True)

    assert [s.scheduled_date for s in cancelled] == tuesdays(10)[6:]
    statuses = dict(series.sessions.values_list("scheduled_date", "status"))
    assert [statuses[day] for day in tuesdays(10)] == [Session.Status.SCHEDULED] * 6 + [
        Session.Status.CANCELLED
    ] * 4
    assert (
        SessionParticipant.objects.filter(session__in=cancelled).exclude(status=Status.CANCELLED).count() == 0
    )
    assert SessionParticipant.objects.filter(session__series=series, status=Status.BOOKED).count() == 12


def test_cancel_occurrences_refuses_a_session_outside_a_series(provider, clinic):
    single = group_at(provider, clinic, TUESDAY)

    with pytest.raises(InvalidTransition, match="This session is not part of a series."):
        SeriesService.cancel_occurrences(single, "Provider ill")


def test_cancel_occurrences_refuses_a_session_already_cancelled(series):
    first = series.sessions.get(scheduled_date=TUESDAY)
    SeriesService.cancel_occurrences(first, "Provider ill")

    with pytest.raises(InvalidTransition):
        SeriesService.cancel_occurrences(first, "Provider ill")


def test_move_occurrences_one_moves_only_that_session(series, children):
    SeriesService.enrol_patient(series, children[0])
    second = series.sessions.get(scheduled_date=TUESDAY + WEEK)
    number = second.participants.get().appointment_number

    moved = SeriesService.move_occurrences(
        second,
        scheduled_date=TUESDAY + WEEK + datetime.timedelta(days=1),
        scheduled_time=at(14),
        reason="Room painted",
    )

    assert [(s.pk, s.scheduled_date, s.scheduled_time) for s in moved] == [
        (second.pk, TUESDAY + WEEK + datetime.timedelta(days=1), at(14))
    ]
    assert second.participants.get().appointment_number == number
    assert dates_of(series).count(TUESDAY + 2 * WEEK) == 1


def test_move_occurrences_this_and_following_a_week_later_keeps_every_seat(series, children):
    # Put the last seven back a week: each moves into the slot the next one leaves.
    for child in children:
        SeriesService.enrol_patient(series, child)
    fourth = series.sessions.get(scheduled_date=TUESDAY + 3 * WEEK)
    seats_before = {
        p.pk: (p.session_id, p.appointment_number)
        for p in SessionParticipant.objects.filter(session__series=series)
    }

    moved = SeriesService.move_occurrences(
        fourth,
        scheduled_date=TUESDAY + 4 * WEEK,
        scheduled_time=at(11),
        following=True,
        reason="Provider away",
    )

    assert [(s.scheduled_date, s.scheduled_time) for s in moved] == [
        (day, at(11)) for day in tuesdays(10)[4:] + [TUESDAY + 10 * WEEK]
    ]
    assert dates_of(series) == tuesdays(3) + tuesdays(10)[4:] + [TUESDAY + 10 * WEEK]
    assert {
        p.pk: (p.session_id, p.appointment_number)
        for p in SessionParticipant.objects.filter(session__series=series)
    } == seats_before
    assert {s.scheduled_time for s in series.sessions.filter(scheduled_date__lt=TUESDAY + 3 * WEEK)} == {
        at(10)
    }
    fourth.refresh_from_db()
    assert (fourth.moved_from_date, fourth.moved_from_time) == (TUESDAY + 3 * WEEK, at(10))


def test_move_occurrences_this_and_following_refused_lists_every_clash_and_moves_nothing(
    series, clinic, room, children
):
    sara = children[0]
    SeriesService.enrol_patient(series, sara)
    colleague = ProviderFactory(clinic=clinic)
    # Moving the last three to Wednesdays 10:00: one Wednesday the room is taken, one Sara is
    # booked elsewhere.
    room_day, busy_day = (
        TUESDAY + 8 * WEEK + datetime.timedelta(days=1),
        TUESDAY + 9 * WEEK + datetime.timedelta(days=1),
    )
    group_at(colleague, clinic, room_day, at(10), room=room)
    elsewhere = group_at(colleague, clinic, busy_day, at(9, 30))
    SessionService.add_patient_to_session(elsewhere, sara)
    eighth = series.sessions.get(scheduled_date=TUESDAY + 7 * WEEK)
    before = list(
        series.sessions.order_by("pk").values_list("pk", "scheduled_date", "scheduled_time", "room_id")
    )

    with pytest.raises(SeriesClashError) as refused:
        SeriesService.move_occurrences(
            eighth,
            scheduled_date=eighth.scheduled_date + datetime.timedelta(days=1),
            scheduled_time=at(10),
            room=room,
            following=True,
        )

    assert refused.value.clashes == [
        DateClash(room_day, (f"Room {room.name} is already booked {short(room_day)} 10:00-11:00.",)),
        DateClash(busy_day, (f"Sara Ali is already booked {short(busy_day)} 09:30-10:30.",)),
    ]
    assert (
        list(series.sessions.order_by("pk").values_list("pk", "scheduled_date", "scheduled_time", "room_id"))
        == before
    )


def test_move_occurrences_refuses_a_session_outside_a_series(provider, clinic):
    single = group_at(provider, clinic, TUESDAY)

    with pytest.raises(InvalidTransition, match="This session is not part of a series."):
        SeriesService.move_occurrences(single, scheduled_date=TUESDAY, scheduled_time=at(14))


def test_withdraw_patient_gives_each_freed_seat_to_the_waiting_child(provider, clinic, tenant, children):
    sara, omar = children
    lina = PatientFactory(tenant=tenant, first_name_en="Lina", last_name_en="Khalid")
    ConsentFactory(patient=lina)
    small = create_group(provider, clinic, occurrence_count=3, max_capacity=2)
    SeriesService.enrol_patient(small, sara)
    SeriesService.enrol_patient(small, omar)
    SessionService.add_to_series_waitlist(small, lina)

    SeriesService.withdraw_patient(small, sara, "Family moved away")

    assert [(day, status) for day, status, _number in seats_of(small, lina)] == [
        (day, Status.BOOKED) for day in tuesdays(3)
    ]
    assert set(WaitlistEntry.objects.filter(patient=lina).values_list("status", flat=True)) == {
        WaitlistEntry.Status.BOOKED
    }
    assert {session.current_capacity for session in small.sessions.all()} == {2}
