"""The demo: its plan covers every status on any date; seed_demo carries the plan out once."""

import datetime
import io
import itertools
import zoneinfo
from collections import Counter, defaultdict
from collections.abc import Iterator

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import transaction

from appointments import booking_rules
from appointments.demo import (
    CLINICIANS,
    CLINICS,
    DEMO_TENANT_CODE,
    HOLIDAY,
    LANES,
    LEAVE_REASON,
    OPEN_DAY,
    OPENING_HOURS,
    PART_TIME_HOURS,
    PART_TIME_LANE,
    PATIENT_COUNT,
    SERIES_CHILDREN,
    SERIES_TITLE,
    SERIES_WEEKS,
    TRAINING_DAY,
    WORKING_WEEKDAYS,
    DemoPlan,
    PlannedSession,
    has_lapsed_consent,
    plan_demo,
)
from appointments.models import Appointment, SeriesSkippedDate, Session, SessionParticipant, SessionSeries
from appointments.notes.registry import note_models
from appointments.reminders.messages import validate_template_text
from appointments.reminders.models import MessageTemplate, ReminderRule
from core.models import (
    Clinic,
    ClinicHoliday,
    Consent,
    Guardian,
    OpeningHoursOverride,
    Patient,
    Provider,
    ProviderLeave,
    ProviderWorkingHours,
    Room,
    ServiceName,
    User,
)
from core.opening_hours import HOURS_PREFETCH, fits, hours_on, merged

# Chosen once: a Sunday; a Friday; a year's last day (a Friday); a leap day (a Tuesday);
# 1 Ramadan 1448 (a Monday); a Saturday of New Year's week; the Thursday before a leap day.
PLAN_DAYS = [
    datetime.date(2026, 11, 29),
    datetime.date(2026, 12, 4),
    datetime.date(2027, 12, 31),
    datetime.date(2028, 2, 29),
    datetime.date(2027, 2, 8),
    datetime.date(2024, 1, 6),
    datetime.date(2044, 2, 25),
]
# The real demo is loaded on a Friday, so "today" is not a working day.
DEMO_MOMENT = datetime.datetime(2026, 12, 4, 10, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Riyadh"))
CHECKED_IN = {SessionParticipant.Status.ARRIVED, SessionParticipant.Status.ATTENDED}


def _statuses(plan: DemoPlan) -> dict[str, set[str]]:
    return {
        "session": {session.status for session in plan.sessions},
        "session type": {session.session_type for session in plan.sessions},
        "participant": {place.status for session in plan.sessions for place in session.participants},
        "appointment": {appointment.status for appointment in plan.appointments},
    }


EVERY_STATUS = {
    "session": set(Session.Status.values),
    "session type": set(Session.SessionType.values),
    "participant": set(SessionParticipant.Status.values),
    "appointment": set(Appointment.Status.values),
}


@pytest.mark.parametrize("today", PLAN_DAYS, ids=str)
def test_plan_demo_has_every_status_of_every_kind(today):
    assert _statuses(plan_demo(today)) == EVERY_STATUS


def test_plan_demo_has_every_status_whatever_the_weekday():
    # given a fortnight: every weekday twice, and a new year
    for today in (datetime.date(2029, 12, 23) + datetime.timedelta(days=n) for n in range(14)):
        # then
        assert _statuses(plan_demo(today)) == EVERY_STATUS, today


@pytest.mark.parametrize("today", PLAN_DAYS, ids=str)
def test_plan_demo_past_today_and_future(today):
    plan = plan_demo(today)

    past = [day for day in plan.days if day < today]
    future = [day for day in plan.days if day > today]
    assert plan.days == (*past, today, *future)
    assert len(past) == len(future) == 5
    assert all(day.weekday() not in (4, 5) for day in (*past, *future))  # no Friday or Saturday
    assert today - past[0] <= datetime.timedelta(days=7)
    assert future[-1] - today <= datetime.timedelta(days=7)
    by_day = defaultdict(set)
    for session in plan.sessions:
        by_day[session.day].add(session.status)
    assert set().union(*(by_day[day] for day in past)) == {Session.Status.COMPLETED, Session.Status.CANCELLED}
    assert Session.Status.IN_PROGRESS in by_day[today]
    assert set().union(*(by_day[day] for day in future)) == {Session.Status.SCHEDULED}
    assert len(plan.sessions) == 11 * len(LANES) * 2
    assert len(plan.appointments) == 11 * len(LANES)
    assert {place.child for session in plan.sessions for place in session.participants} == set(
        range(PATIENT_COUNT)
    )


@pytest.mark.parametrize("today", PLAN_DAYS, ids=str)
def test_plan_demo_never_double_books_a_provider_or_a_child(today):
    plan = plan_demo(today)
    # given every booking as (day, who, start, end), cancelled ones included
    slots = defaultdict(list)
    for booking, children in itertools.chain(
        ((session, [place.child for place in session.participants]) for session in plan.sessions),
        ((appointment, [appointment.child]) for appointment in plan.appointments),
    ):
        start = datetime.datetime.combine(booking.day, booking.start)
        end = start + datetime.timedelta(minutes=booking.duration)
        for who in [("provider", booking.lane), *(("child", child) for child in children)]:
            slots[booking.day, who].append((start, end))

    # then no two of anyone's bookings on a day overlap
    for key, intervals in slots.items():
        intervals.sort()
        for (_, end), (next_start, _) in itertools.pairwise(intervals):
            assert end <= next_start, key
    # and a child is only ever booked by one provider
    lanes_of_child = defaultdict(set)
    for session in plan.sessions:
        for place in session.participants:
            lanes_of_child[place.child].add(session.lane)
    for appointment in plan.appointments:
        lanes_of_child[appointment.child].add(appointment.lane)
    assert all(len(lanes) == 1 for lanes in lanes_of_child.values())


@pytest.mark.parametrize("today", PLAN_DAYS, ids=str)
def test_plan_demo_never_checks_in_a_lapsed_consent_and_leaves_one_to_refuse_today(today):
    plan = plan_demo(today)

    lapsed_places = [
        (session, place)
        for session in plan.sessions
        for place in session.participants
        if has_lapsed_consent(place.child)
    ]
    assert lapsed_places
    assert not [place for _, place in lapsed_places if place.status in CHECKED_IN]
    assert not [
        appointment
        for appointment in plan.appointments
        if has_lapsed_consent(appointment.child)
        and appointment.status
        in (Appointment.Status.ARRIVED, Appointment.Status.IN_PROGRESS, Appointment.Status.COMPLETED)
    ]
    # today a child with a lapsed consent waits in a session under way: check-in is refused live
    assert [
        place
        for session, place in lapsed_places
        if session.day == today
        and session.status == Session.Status.IN_PROGRESS
        and place.status == SessionParticipant.Status.BOOKED
    ]


@pytest.mark.parametrize("today", PLAN_DAYS, ids=str)
def test_plan_demo_books_inside_the_clinics_opening_hours(today):
    plan = plan_demo(today)
    dated = {override.day: override.intervals for override in plan.overrides}

    for booking in (*plan.sessions, *plan.appointments):
        week = OPENING_HOURS if booking.day.weekday() in WORKING_WEEKDAYS else ()
        assert fits(dated.get(booking.day, week), booking.day, booking.start, booking.duration), booking
    # and one working day after the fortnight is closed, with nothing booked on it
    (closed,) = [override for override in plan.overrides if not override.intervals]
    assert closed.day > plan.days[-1]
    assert closed.day.weekday() in WORKING_WEEKDAYS
    assert closed.note == TRAINING_DAY


@pytest.mark.parametrize("today", PLAN_DAYS, ids=str)
def test_plan_demo_books_inside_the_providers_working_hours_and_clear_of_holiday_and_leave(today):
    plan = plan_demo(today)
    week = defaultdict(list)
    for interval in plan.working_hours:
        week[interval.lane, interval.weekday].append((interval.starts_at, interval.ends_at))
    ((holiday, _),) = plan.holidays
    (leave,) = plan.leave

    for booking in (*plan.sessions, *plan.appointments):
        hours = merged(week[booking.lane, booking.day.weekday()])
        assert fits(hours, booking.day, booking.start, booking.duration), booking
        assert booking.day != holiday
        assert booking.lane != leave.lane or not leave.first_day <= booking.day <= leave.last_day
    # the holiday and the leave lie after the fortnight, on working days; one provider works part-time
    assert plan.days[-1] < holiday < leave.first_day <= leave.last_day
    assert {holiday.weekday(), leave.first_day.weekday(), leave.last_day.weekday()} <= WORKING_WEEKDAYS
    assert {interval.lane for interval in plan.working_hours} == set(range(len(LANES)))
    assert week[PART_TIME_LANE, today.weekday()] == list(PART_TIME_HOURS)


@pytest.mark.parametrize("today", PLAN_DAYS, ids=str)
def test_plan_demo_series_runs_after_its_lanes_day_and_skips_the_holiday(today):
    plan = plan_demo(today)
    (series,) = plan.series
    ((holiday, _),) = plan.holidays
    (leave,) = plan.leave
    weekly_hours = defaultdict(list)
    for interval in plan.working_hours:
        weekly_hours[interval.lane, interval.weekday].append((interval.starts_at, interval.ends_at))

    # it starts in the coming week, inside its provider's hours, and the holiday is one of its
    # weekdays, so a 10-week series runs over 11
    assert today < series.first_day <= today + datetime.timedelta(days=7)
    hours = merged(weekly_hours[series.lane, series.first_day.weekday()])
    assert fits(hours, series.first_day, series.start, series.duration)
    assert holiday in [series.first_day + datetime.timedelta(weeks=n) for n in range(series.weeks)]
    assert series.lane != leave.lane
    # its provider and children are free by then: every booking of theirs ends earlier in the day
    children = set(series.children)
    for booking in (*plan.sessions, *plan.appointments):
        booked = (
            {place.child for place in booking.participants}
            if isinstance(booking, PlannedSession)
            else {booking.child}
        )
        if booking.lane == series.lane or booked & children:
            ends = datetime.datetime.combine(booking.day, booking.start) + datetime.timedelta(
                minutes=booking.duration
            )
            assert ends.time() <= series.start, booking
    assert len(children) == SERIES_CHILDREN


def _provider_username(lane: int) -> str:
    clinic_index, provider_index = LANES[lane]
    return CLINICIANS[CLINICS[clinic_index][0]][provider_index][0]


def _mrn(child: int) -> str:
    return f"AG{child + 1:05d}"


def _counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (User, Patient, Consent, Session, SessionParticipant, Appointment)
    }


@pytest.mark.django_db
def test_seed_demo_dry_run_writes_nothing(capsys):
    before = _counts()

    with time_machine.travel(DEMO_MOMENT, tick=False):
        call_command("seed_demo", "--force", "--dry-run", verbosity=0)

    assert _counts() == before
    assert "Dry run (rolled back): would create 60 patients" in capsys.readouterr().out


@pytest.mark.django_db
def test_seed_demo_refuses_known_passwords_without_debug():
    with pytest.raises(CommandError, match="Refusing to create demo logins with DEBUG off"):
        call_command("seed_demo", verbosity=0)


@pytest.fixture(scope="module")
def loaded_demo(django_db_setup, django_db_blocker) -> Iterator[str]:
    """The demo loaded once, on a Friday morning, for the tests below that read it (a load takes
    most of a minute); gives what the load printed. It lives in a transaction rolled back after
    the module, and each test runs in a savepoint inside it (pytest-django's ``db``), so what a
    test writes the next one never sees. The tests that need no demo loaded come before the
    first that asks for it: a module fixture lasts to the module's end."""
    printed = io.StringIO()
    with django_db_blocker.unblock():
        loaded = transaction.atomic()
        loaded.__enter__()
    try:
        with django_db_blocker.unblock(), time_machine.travel(DEMO_MOMENT, tick=False):
            call_command("seed_demo", "--force", verbosity=0, stdout=printed)
        yield printed.getvalue()
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            loaded.__exit__(None, None, None)


@pytest.mark.django_db
def test_seed_demo_carries_out_the_plan_once(loaded_demo, capsys):
    # given the demo loaded on a Friday morning, and what it holds
    first = _counts()

    # when it is loaded again
    with time_machine.travel(DEMO_MOMENT, tick=False):
        call_command("seed_demo", "--force", verbosity=0)

    # then the second run changed nothing
    assert _counts() == first
    output = loaded_demo + capsys.readouterr().out
    assert (
        "Created 60 patients, 142 sessions, 360 participants, 66 legacy appointments and 97 clinical notes."
        in output
    )
    assert "Demo data already loaded; nothing changed." in output
    assert "frontdesk / demo12345" in output
    assert output.count("\nOperator (superuser) login: operator / demo12345\n") == 2
    # and the database holds the plan, booking by booking
    plan = plan_demo(DEMO_MOMENT.date())
    assert set(
        Session.objects.filter(series=None).values_list(
            "scheduled_date", "scheduled_time", "provider__user__username", "session_type", "status"
        )
    ) == {(s.day, s.start, _provider_username(s.lane), s.session_type, s.status) for s in plan.sessions}
    assert set(
        SessionParticipant.objects.filter(session__series=None).values_list(
            "session__scheduled_date", "session__scheduled_time", "patient__mrn", "status"
        )
    ) == {(s.day, s.start, _mrn(p.child), p.status) for s in plan.sessions for p in s.participants}
    # and the series: ten sessions held around the skipped holiday, its children in each
    (planned_series,) = plan.series
    series = SessionSeries.objects.get()
    assert (series.title, series.start_date, series.sessions.count()) == (
        SERIES_TITLE,
        planned_series.first_day,
        SERIES_WEEKS,
    )
    assert set(series.sessions.values_list("status", flat=True)) == {Session.Status.SCHEDULED}
    assert series.skipped_dates.values_list("date", "why").get() == (
        plan.holidays[0][0],
        SeriesSkippedDate.Why.HOLIDAY,
    )
    assert set(
        SessionParticipant.objects.filter(session__series=series).values_list("patient__mrn", "status")
    ) == {(_mrn(child), SessionParticipant.Status.BOOKED) for child in planned_series.children}
    assert SessionParticipant.objects.filter(session__series=series).count() == SERIES_WEEKS * SERIES_CHILDREN
    assert set(
        Appointment.objects.values_list(
            "scheduled_date", "scheduled_time", "provider__user__username", "patient__mrn", "status"
        )
    ) == {(a.day, a.start, _provider_username(a.lane), _mrn(a.child), a.status) for a in plan.appointments}
    # so every status shows
    assert set(Session.objects.values_list("status", flat=True)) == set(Session.Status.values)
    assert set(SessionParticipant.objects.values_list("status", flat=True)) == set(
        SessionParticipant.Status.values
    )
    assert set(Appointment.objects.values_list("status", flat=True)) == set(Appointment.Status.values)
    assert set(User.objects.values_list("role", flat=True)) == set(User.Role.values)
    assert Patient.objects.exclude(first_name_ar="").count() == PATIENT_COUNT
    assert Consent.objects.filter(expires_at__lt=DEMO_MOMENT).count() == PATIENT_COUNT // 10
    # and Arabic pages have Arabic names for every provider and room, and for every service booked
    assert not Provider.objects.filter(name_ar="").exists()
    assert not Room.objects.filter(name_ar="").exists()
    catalogue = dict(ServiceName.objects.values_list("name_en", "name_ar"))
    booked_services = {
        *Session.objects.values_list("service_type", flat=True),
        *Appointment.objects.values_list("service_type", flat=True),
        *SessionSeries.objects.values_list("service_type", flat=True),
    }
    assert booked_services <= set(catalogue)
    assert all(catalogue.values())
    # and its organisation shows Hijri dates beside the Gregorian ones
    assert Patient.objects.values_list("tenant__show_hijri_dates", flat=True).distinct().get() is True


@pytest.mark.django_db
@pytest.mark.usefixtures("loaded_demo")
def test_seed_demo_sets_opening_hours_that_cover_every_booking():
    # given the demo loaded on a Friday
    friday = DEMO_MOMENT.date()
    sunday, saturday = friday + datetime.timedelta(days=2), friday + datetime.timedelta(days=8)

    # then every clinic opens a split shift Sunday to Thursday; the Friday of the demo opens as
    # a dated override, Saturdays are closed, and the Sunday after the fortnight is a training day
    clinics = {clinic.pk: clinic for clinic in Clinic.objects.prefetch_related(*HOURS_PREFETCH)}
    assert len(clinics) == len(CLINICS)
    for clinic in clinics.values():
        assert hours_on(clinic, sunday) == list(OPENING_HOURS)
        assert hours_on(clinic, friday) == list(OPENING_HOURS)
        assert hours_on(clinic, saturday) == []
        assert hours_on(clinic, sunday + datetime.timedelta(days=7)) == []
    assert set(OpeningHoursOverride.objects.values_list("note", flat=True)) == {OPEN_DAY, TRAINING_DAY}
    # and every booking of the demo fits inside them, and inside its provider's working hours,
    # clear of the holiday and the leave the demo sets after the fortnight
    for booking in (*Session.objects.all(), *Appointment.objects.all()):
        booking_rules.check_within_hours(
            clinics[booking.clinic_id], booking.scheduled_date, booking.scheduled_time, booking.duration
        )
        booking_rules.check_availability(
            clinics[booking.clinic_id],
            booking.provider,
            booking.scheduled_date,
            booking.scheduled_time,
            booking.duration,
        )
    assert set(ClinicHoliday.objects.values_list("name", flat=True)) == {HOLIDAY}
    assert ClinicHoliday.objects.count() == len(CLINICS)
    assert ProviderLeave.objects.values_list("reason", flat=True).get() == LEAVE_REASON
    assert ProviderWorkingHours.objects.values("provider").distinct().count() == len(LANES)


@pytest.mark.django_db
@pytest.mark.usefixtures("loaded_demo")
def test_seed_demo_clinic_admin_is_a_tenant_administrator_and_the_operator_a_superuser(client):
    operator = User.objects.get(username="operator")

    # the clinic's administrator is staff of AGDAR, not a superuser; the operator is the only superuser
    assert User.objects.filter(username="admin").values_list(
        "is_staff", "is_superuser", "tenant__code", "role"
    ).get() == (True, False, DEMO_TENANT_CODE, User.Role.ADMIN)
    assert list(User.objects.filter(is_superuser=True)) == [operator]
    assert (operator.is_staff, operator.tenant, operator.role) == (True, None, User.Role.ADMIN)

    # the clinic's administrator runs AGDAR in Django admin but never sees the operator
    client.force_login(User.objects.get(username="admin"))
    users = client.get("/admin/core/user/")
    patients = client.get("/admin/core/patient/")
    operator_password = client.get(f"/admin/core/user/{operator.pk}/password/")
    assert users.status_code == patients.status_code == 200
    assert operator not in users.context["cl"].result_list
    assert users.context["cl"].result_count == User.objects.filter(tenant__code=DEMO_TENANT_CODE).count()
    assert patients.context["cl"].result_count == PATIENT_COUNT
    assert operator_password.status_code == 404

    # and the operator picks an organisation before any staff page
    client.force_login(operator)
    assert client.get("/").url == "/organisation/?next=%2F"
    assert client.get("/admin/core/patient/").status_code == 200


@pytest.mark.django_db
@pytest.mark.usefixtures("loaded_demo")
def test_seed_demo_writes_rising_notes_for_the_children_who_came_and_leaves_the_queue_some_work():
    # given the demo loaded on a Friday
    notes = {
        specialty: list(model.objects.order_by("patient", "session_date", "pk"))
        for specialty, model in note_models().items()
    }

    # then the children who came have their clinician's notes, by the session's provider, most signed
    written = [note for kind_notes in notes.values() for note in kind_notes]
    assert len(written) == 97
    assert {note.session_participant.status for note in written} == {SessionParticipant.Status.ATTENDED}
    assert all(note.provider_id == note.session.provider_id for note in written)
    drafts = [note for note in written if not note.is_signed]
    assert 0 < len(drafts) < len(written) // 5
    unwritten = SessionParticipant.objects.filter(
        status=SessionParticipant.Status.ATTENDED,
        aba_notes__isnull=True,
        ot_notes__isnull=True,
        psychology_notes__isnull=True,
        session__clinic__specialty__in=list(notes),
    )
    assert unwritten.exists()
    # and an ABA child's percent correct rises from one session to the next
    by_child = defaultdict(list)
    for note in notes[Clinic.Specialty.ABA]:
        by_child[note.patient_id].append(note.overall_percent_correct)
    rising = [percents for percents in by_child.values() if len(percents) >= 3]
    assert rising
    assert all(percents == sorted(percents) and percents[0] < percents[-1] for percents in rising)


@pytest.mark.django_db
@pytest.mark.usefixtures("loaded_demo")
def test_seed_demo_gives_every_child_a_primary_guardian_of_every_kind():
    guardians = list(Guardian.objects.select_related("patient"))
    primary = [guardian for guardian in guardians if guardian.is_primary]

    assert len(primary) == PATIENT_COUNT
    assert all(Guardian.Relation.MOTHER == guardian.relation for guardian in primary)
    # Mostly consenting, in both languages and by both channels.
    assert 0.8 < sum(guardian.consent_to_contact for guardian in primary) / PATIENT_COUNT < 1
    assert {guardian.preferred_language for guardian in primary} == {"en", "ar"}
    assert {guardian.preferred_channel for guardian in primary} == {"sms", "email"}
    assert all(guardian.phone.startswith("+9665") and guardian.name_ar for guardian in primary)
    # One father is told nothing; two siblings share their mother's phone.
    [father] = [guardian for guardian in guardians if not guardian.may_receive_appointment_info]
    assert (father.relation, father.is_primary) == (Guardian.Relation.FATHER, False)
    shared = Counter(guardian.phone for guardian in primary)
    [(phone, children)] = [(phone, count) for phone, count in shared.items() if count > 1]
    assert children == 2
    siblings = {guardian.patient.last_name_en for guardian in primary if guardian.phone == phone}
    assert len(siblings) == 1


@pytest.mark.django_db
@pytest.mark.usefixtures("loaded_demo")
def test_seed_demo_gives_each_clinic_reminders_in_words_that_never_name_it():
    templates = MessageTemplate.objects.filter(tenant__code=DEMO_TENANT_CODE)
    rules = ReminderRule.objects.filter(clinic__tenant__code=DEMO_TENANT_CODE).select_related("template")

    assert {(template.purpose, template.channel) for template in templates} == {
        (purpose, channel)
        for purpose in MessageTemplate.Purpose.values
        for channel in Guardian.Channel.values
    }
    for template in templates:
        assert not template.names_discipline
        for body in (template.body_en, template.body_ar):
            assert "{hijri_date}" in body
            validate_template_text(body, names_discipline=False, requires_link=True)
    by_clinic = defaultdict(set)
    for rule in rules:
        assert rule.template.purpose == MessageTemplate.Purpose.REMINDER
        assert rule.template.channel == rule.channel
        by_clinic[rule.clinic_id].add((rule.hours_before, rule.channel))
    assert len(by_clinic) == len(CLINICS)
    assert set(map(frozenset, by_clinic.values())) == {frozenset({(48, "sms"), (2, "sms"), (48, "email")})}
