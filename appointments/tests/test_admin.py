"""Scheduling admin: every page loads, capacity is shown, forms and actions go through the services.

Admin forms only validate; the services write when the page saves, and a refusal
is shown on the form again, with what was typed, and nothing written.
"""

import datetime
import re

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.formats import date_format
from simple_history.admin import SimpleHistoryAdmin

from appointments.admin import AddParticipantInline, SessionParticipantInline, WaitlistEntryInline
from appointments.exceptions import CheckInBlocked
from appointments.models import (
    Appointment,
    AppointmentNumberCounter,
    CheckInRefusal,
    SeriesEnrolment,
    SeriesSkippedDate,
    Session,
    SessionParticipant,
    SessionSeries,
    WaitlistEntry,
)
from appointments.reminders.models import MessageTemplate, Reminder, ReminderRule
from appointments.series_service import SeriesService
from appointments.session_service import SessionService
from appointments.tests.factories import (
    AppointmentFactory,
    GroupSessionFactory,
    ParticipantFactory,
    check_in,
)
from core.clock import today as clinic_today
from core.tests.admin_helpers import (
    admin_url,
    concrete_models,
    form_data,
    message_texts,
    registered_admins,
    tenant_admin_staff,
)
from core.tests.factories import (
    ClinicFactory,
    ConsentFactory,
    PatientFactory,
    ProviderFactory,
    RoomFactory,
    TenantFactory,
)
from psychology.models import PsychologySession

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

Status = SessionParticipant.Status
# Models whose admin refuses the add page on purpose: counters move only inside bookings,
# refused check-ins are written only by the check-in they record, and series, their
# enrolments and skipped dates only by SeriesService, waiting-list entries from the session page.
NOT_ADDABLE = {
    Reminder,
    AppointmentNumberCounter,
    CheckInRefusal,
    SessionSeries,
    SeriesEnrolment,
    SeriesSkippedDate,
    WaitlistEntry,
}
NUMBER = re.compile(r"APT-AGDAR-\d{4}-\d{5}")


@pytest.fixture
def group_session(clinic, provider):
    return GroupSessionFactory(
        clinic=clinic, provider=provider, max_capacity=5, scheduled_time=datetime.time(9)
    )


@pytest.fixture
def scheduling_rows(group_session, clinic, provider):
    """At least one row of every scheduling model (the counter comes with the numbers, a refused
    check-in with checking in a participant finance hasn't cleared, a skipped date with a series
    that skips a clash, a waiting-list entry with a full session)."""
    participant = ParticipantFactory(session=group_session)
    with pytest.raises(CheckInBlocked):
        SessionService.check_in_participant(participant)
    AppointmentFactory(clinic=clinic, provider=provider, scheduled_time=datetime.time(15))
    series = SeriesService.create_series(
        session_type=Session.SessionType.GROUP,
        provider=provider,
        clinic=clinic,
        service_type="Social Skills Group",
        start_date=group_session.scheduled_date,
        scheduled_time=datetime.time(9),
        occurrence_count=2,
        max_capacity=4,
        skip_dates=[group_session.scheduled_date],
    )
    SeriesService.enrol_patient(series, PatientFactory(tenant=clinic.tenant))
    full = GroupSessionFactory(
        clinic=clinic, provider=provider, max_capacity=2, scheduled_time=datetime.time(17)
    )
    ParticipantFactory.create_batch(2, session=full)
    SessionService.add_to_waitlist(full, PatientFactory(tenant=clinic.tenant))
    template = MessageTemplate.objects.create(
        tenant=clinic.tenant,
        name="Reminder",
        channel="sms",
        body_en="{first_name} {link}",
        body_ar="{first_name} {link}",
    )
    rule = ReminderRule.objects.create(clinic=clinic, hours_before=48, channel="sms", template=template)
    start = timezone.now() + datetime.timedelta(days=1)
    Reminder.objects.create(
        tenant=clinic.tenant,
        rule=rule,
        participant=participant,
        channel="sms",
        scheduled_start=start,
        send_after=start,
    )


def run_action(client, model, action: str, objects):
    """Post the action and follow to the changelist, which shows (and so consumes) its messages."""
    return client.post(
        admin_url(model, "changelist"),
        {"action": action, "_selected_action": [str(obj.pk) for obj in objects]},
        follow=True,
    )


def short(day: datetime.date) -> str:
    return date_format(day, "SHORT_DATE_FORMAT")


def session_add_data(clinic, provider, **overrides) -> dict[str, str]:
    data = {
        "session_type": Session.SessionType.GROUP,
        "service_type": "Social Skills Group",
        "clinic": str(clinic.pk),
        "provider": str(provider.pk),
        "scheduled_date": str(clinic_today() + datetime.timedelta(days=7)),
        "scheduled_time": "10:00",
        "duration": "60",
        "max_capacity": "6",
        "group_notes": "",
    }
    return data | overrides


# Every page ----------------------------------------------------------------------------


def test_admin_registers_every_scheduling_model():
    assert set(concrete_models("appointments")) == set(registered_admins("appointments"))


@pytest.mark.usefixtures("scheduling_rows")
@pytest.mark.parametrize(
    ("model", "model_admin"),
    registered_admins("appointments").items(),
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_admin_pages_load_for_scheduling_model(admin_client, model, model_admin):
    obj = model._default_manager.first()
    assert obj is not None, f"scheduling_rows makes no {model.__name__}"

    assert admin_client.get(admin_url(model, "changelist")).status_code == 200
    assert admin_client.get(admin_url(model, "add")).status_code == (403 if model in NOT_ADDABLE else 200)
    assert admin_client.get(admin_url(model, "change", obj.pk)).status_code == 200
    if isinstance(model_admin, SimpleHistoryAdmin):
        assert admin_client.get(admin_url(model, "history", obj.pk)).status_code == 200


# Capacity, inline, query counts ------------------------------------------------------------


def test_session_admin_changelist_shows_seats_taken_over_capacity(admin_client, group_session):
    ParticipantFactory.create_batch(3, session=group_session)
    SessionService.cancel_participant(ParticipantFactory(session=group_session), "Family travelling")

    response = admin_client.get(admin_url(Session, "changelist"))

    assert response.status_code == 200
    assert '<td class="field-seats">3/5</td>' in response.content.decode()


def changelist_query_count(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(admin_url(Session, "changelist"))
    assert response.status_code == 200
    return len(queries)


def test_session_admin_changelist_query_count_does_not_grow_with_rows(admin_client, clinic):
    def add_sessions(count: int) -> None:
        for _ in range(count):
            session = GroupSessionFactory(
                clinic=clinic, provider=ProviderFactory(clinic=clinic), room=RoomFactory(clinic=clinic)
            )
            ParticipantFactory.create_batch(2, session=session)

    add_sessions(2)
    with_two = changelist_query_count(admin_client)
    add_sessions(6)
    with_eight = changelist_query_count(admin_client)

    # session, user, the clinic and provider filters' choices, the planner's estimate and
    # the capped count (no full count, no date hierarchy), the page, and the access-log row
    assert with_two == with_eight == 8


def test_session_admin_change_page_shows_participants_inline_and_capacity(admin_client, group_session):
    participants = ParticipantFactory.create_batch(2, session=group_session)

    response = admin_client.get(admin_url(Session, "change", group_session.pk))

    content = response.content.decode()
    assert response.status_code == 200
    assert '<div class="readonly">2/5</div>' in content
    listed, adding, waiting = response.context["inline_admin_formsets"]
    assert isinstance(listed.opts, SessionParticipantInline)
    assert isinstance(adding.opts, AddParticipantInline)
    assert isinstance(waiting.opts, WaitlistEntryInline)
    assert [form.instance for form in listed.formset.forms] == participants
    for participant in participants:
        assert participant.appointment_number in content
        assert participant.patient.full_name_en in content


def test_session_admin_change_page_of_a_closed_session_offers_no_adding(admin_client, group_session):
    SessionService.complete_session(group_session)

    response = admin_client.get(admin_url(Session, "change", group_session.pk))

    assert [type(inline.opts) for inline in response.context["inline_admin_formsets"]] == [
        SessionParticipantInline,
        WaitlistEntryInline,
    ]
    assert "max_capacity" not in response.context["adminform"].form.fields


# Create and change through SessionService -------------------------------------------------


def test_session_admin_add_creates_a_group_session_through_the_service(
    admin_client, admin_user, clinic, provider
):
    response = admin_client.post(admin_url(Session, "add"), session_add_data(clinic, provider))

    assert response.status_code == 302
    session = Session.objects.get()
    assert (session.session_type, session.max_capacity, session.status) == ("group", 6, "scheduled")
    assert session.created_by == admin_user
    assert session.history.get().history_user == admin_user


def test_session_admin_add_refuses_a_capacity_out_of_range(admin_client, clinic, provider):
    response = admin_client.post(
        admin_url(Session, "add"), session_add_data(clinic, provider, max_capacity="25")
    )

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.non_field_errors() == ["A group session needs between 2 and 20 seats (got 25)."]
    assert (form["service_type"].value(), form["max_capacity"].value()) == ("Social Skills Group", "25")
    assert not Session.objects.exists()
    assert not Session.history.exists()
    assert not LogEntry.objects.exists()


def test_session_admin_add_refuses_a_provider_of_another_clinic(admin_client, clinic):
    outsider = ProviderFactory(clinic=ClinicFactory(tenant=clinic.tenant))

    response = admin_client.post(admin_url(Session, "add"), session_add_data(clinic, outsider))

    assert response.context["adminform"].form.non_field_errors() == [f"{outsider} does not work in {clinic}."]
    assert not Session.objects.exists()


def test_session_admin_add_creates_an_individual_session_with_its_patient(admin_client, clinic, provider):
    patient = PatientFactory(tenant=clinic.tenant)
    data = session_add_data(
        clinic, provider, session_type="individual", max_capacity="1", patient=str(patient.pk)
    )

    response = admin_client.post(admin_url(Session, "add"), data)

    assert response.status_code == 302
    participant = Session.objects.get(session_type="individual").participants.get()
    assert participant.patient == patient
    assert NUMBER.fullmatch(participant.appointment_number)


def test_session_admin_add_individual_session_needs_one_patient_and_one_seat(admin_client, clinic, provider):
    data = session_add_data(clinic, provider, session_type="individual", max_capacity="3", group_notes="Hi")

    response = admin_client.post(admin_url(Session, "add"), data)

    assert response.context["adminform"].form.errors == {
        "patient": ["Choose the patient of this individual session."],
        "max_capacity": ["An individual session has exactly one seat."],
        "group_notes": ["Group notes are only for group sessions."],
    }
    assert not Session.objects.exists()


def test_session_admin_change_raises_capacity_through_the_service(admin_client, admin_user, group_session):
    url = admin_url(Session, "change", group_session.pk)
    data = form_data(admin_client.get(url)) | {"max_capacity": "8", "group_notes": "Bring water"}

    response = admin_client.post(url, data)

    assert response.status_code == 302
    group_session.refresh_from_db()
    assert (group_session.max_capacity, group_session.group_notes) == (8, "Bring water")
    assert group_session.history.latest().history_user == admin_user


def test_session_admin_change_refuses_capacity_below_seats_taken(admin_client, group_session):
    ParticipantFactory.create_batch(3, session=group_session)
    url = admin_url(Session, "change", group_session.pk)
    data = form_data(admin_client.get(url)) | {"max_capacity": "2"}

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        "Capacity can't drop below the 3 seats already taken."
    ]
    group_session.refresh_from_db()
    assert group_session.max_capacity == 5


def add_patient_key(response) -> str:
    adding = response.context["inline_admin_formsets"][1].formset
    return adding.forms[0].add_prefix("patient")


def test_session_admin_inline_adds_a_patient_through_the_service(admin_client, admin_user, group_session):
    patient = PatientFactory(tenant=group_session.clinic.tenant)
    url = admin_url(Session, "change", group_session.pk)
    page = admin_client.get(url)

    response = admin_client.post(url, form_data(page) | {add_patient_key(page): str(patient.pk)})

    assert response.status_code == 302
    participant = group_session.participants.get()
    assert participant.patient == patient
    assert NUMBER.fullmatch(participant.appointment_number)
    assert participant.history.get().history_user == admin_user


def test_session_admin_refused_inline_rolls_back_the_whole_submission(admin_client, group_session):
    outsider = PatientFactory(tenant=TenantFactory(code="OTHER"))
    url = admin_url(Session, "change", group_session.pk)
    page = admin_client.get(url)
    data = form_data(page) | {"group_notes": "Bring water", add_patient_key(page): str(outsider.pk)}

    response = admin_client.post(url, data)

    assert response.status_code == 200
    adding = response.context["inline_admin_formsets"][1].formset.forms[0]
    assert adding.errors == {
        "patient": [
            f"{outsider.full_name_en} is registered with another organisation and can't be booked here."
        ]
    }
    # Shown again as typed; the group notes the service had already saved are rolled back.
    assert response.context["adminform"].form["group_notes"].value() == "Bring water"
    assert adding["patient"].value() == str(outsider.pk)
    group_session.refresh_from_db()
    assert group_session.group_notes == ""
    assert group_session.history.count() == 1
    assert not group_session.participants.exists()


def test_session_admin_inline_refuses_a_patient_when_the_session_is_full(admin_client, clinic, provider):
    session = GroupSessionFactory(clinic=clinic, provider=provider, max_capacity=2)
    ParticipantFactory.create_batch(2, session=session)
    url = admin_url(Session, "change", session.pk)
    page = admin_client.get(url)
    late = PatientFactory(tenant=clinic.tenant)

    response = admin_client.post(url, form_data(page) | {add_patient_key(page): str(late.pk)})

    assert response.context["inline_admin_formsets"][1].formset.forms[0].errors == {
        "patient": ["Session is full (2 of 2)."]
    }
    assert session.participants.count() == 2


@pytest.mark.parametrize("kind", ["session", "participant", "appointment"])
def test_scheduling_admin_lists_versions_but_never_reverts_one(admin_client, group_session, kind):
    """Services alone write scheduling rows: a past version is shown in the history, never written back."""
    participant = ParticipantFactory(session=group_session)
    SessionService.update_group_notes(group_session, "Bring a snack")
    appointment = AppointmentFactory(clinic=group_session.clinic, provider=group_session.provider)
    row = {"session": group_session, "participant": participant, "appointment": appointment}[kind]
    version = row.history.earliest()
    version_url = admin_url(type(row), "simple_history", row.pk, version.history_id)
    stored = type(row).history.count()

    history = admin_client.get(admin_url(type(row), "history", row.pk))
    shown = admin_client.get(version_url)
    reverted = admin_client.post(version_url, {"max_capacity": "6", "group_notes": ""})

    assert history.status_code == 200
    assert version_url not in history.content.decode()
    assert (shown.status_code, reverted.status_code) == (403, 403)
    assert type(row).history.count() == stored
    group_session.refresh_from_db()
    assert (group_session.max_capacity, group_session.group_notes) == (5, "Bring a snack")


def test_admin_add_forms_validate_without_writing(rf, admin_user, clinic, provider, group_session):
    patient = PatientFactory(tenant=clinic.tenant)
    request = rf.post("/")
    request.user = admin_user
    submissions = {
        Session: session_add_data(
            clinic, provider, session_type="individual", max_capacity="1", patient=str(patient.pk)
        ),
        SessionParticipant: {"session": str(group_session.pk), "patient": str(patient.pk)},
        Appointment: appointment_add_data(clinic, provider, patient, scheduled_time="15:00"),
    }
    models = (Session, SessionParticipant, Appointment, AppointmentNumberCounter, LogEntry)
    rows_before = [model.objects.count() for model in models]

    for model, data in submissions.items():
        form = registered_admins("appointments")[model].get_form(request)(data)
        assert form.is_valid(), form.errors

    assert [model.objects.count() for model in models] == rows_before


# Session actions -----------------------------------------------------------------------------


def test_session_admin_start_action_reports_refusals_and_starts_the_rest(admin_client, clinic, provider):
    waiting = GroupSessionFactory(clinic=clinic, provider=provider)
    finished = GroupSessionFactory(clinic=clinic, provider=provider)
    SessionService.complete_session(finished)

    response = run_action(admin_client, Session, "start_sessions", [waiting, finished])

    waiting.refresh_from_db()
    assert waiting.status == Session.Status.IN_PROGRESS
    assert message_texts(response) == [
        f"{finished}: Can't change this session from completed to in progress.",
        "1 session started.",
    ]


def test_session_admin_complete_action_settles_every_participant(admin_client, group_session):
    arrived, absent = ParticipantFactory.create_batch(2, session=group_session)
    check_in(arrived)

    response = run_action(admin_client, Session, "complete_sessions", [group_session])

    assert message_texts(response) == ["1 session completed."]
    group_session.refresh_from_db()
    arrived.refresh_from_db()
    absent.refresh_from_db()
    assert (group_session.status, arrived.status, absent.status) == ("completed", "attended", "no_show")


def test_session_admin_cancel_action_gives_the_admin_as_reason(admin_client, admin_user, group_session):
    participant = ParticipantFactory(session=group_session)

    response = run_action(admin_client, Session, "cancel_sessions", [group_session])

    assert message_texts(response) == ["1 session cancelled."]
    group_session.refresh_from_db()
    participant.refresh_from_db()
    assert group_session.status == Session.Status.CANCELLED
    assert group_session.cancel_reason == participant.cancel_reason == "Cancelled from admin by admin"
    assert group_session.history.latest().history_user == admin_user


# Deleting -----------------------------------------------------------------------------------------


def test_session_admin_deletes_a_session_without_notes(admin_client, group_session):
    response = admin_client.post(admin_url(Session, "delete", group_session.pk), {"post": "yes"})

    assert response.status_code == 302
    assert not Session.objects.exists()


def note_on(participant: SessionParticipant) -> PsychologySession:
    session = participant.session
    return PsychologySession.objects.create(
        patient=participant.patient,
        provider=session.provider,
        session_date=session.scheduled_date,
        session=session,
        session_participant=participant,
        presenting_issues="Anxiety symptoms",
    )


def test_session_admin_refuses_to_delete_a_session_with_notes(admin_client, group_session):
    note_on(ParticipantFactory(session=group_session))

    response = admin_client.post(admin_url(Session, "delete", group_session.pk), {"post": "yes"})

    assert response.status_code == 200
    assert response.context["protected"] == [f"Clinical notes of {group_session}"]
    assert Session.objects.filter(pk=group_session.pk).exists()
    assert PsychologySession.objects.count() == 1


def test_session_admin_bulk_delete_refuses_when_any_session_has_notes(
    admin_client, clinic, provider, group_session
):
    note_on(ParticipantFactory(session=group_session))
    without_notes = GroupSessionFactory(clinic=clinic, provider=provider, scheduled_time=datetime.time(16))

    response = admin_client.post(
        admin_url(Session, "changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [group_session.pk, without_notes.pk],
            "post": "yes",
        },
    )

    assert response.status_code == 200
    assert response.context["protected"] == [f"Clinical notes of {group_session}"]
    assert Session.objects.count() == 2


# Participants --------------------------------------------------------------------------------


def test_participant_admin_actions_walk_the_workflow_through_the_service(
    admin_client, admin_user, group_session
):
    participant = ParticipantFactory(session=group_session)
    ConsentFactory(patient=participant.patient)
    steps = [
        ("confirm_participants", "1 participant confirmed.", Status.CONFIRMED),
        ("clear_finance", "Finance cleared for 1 participant.", Status.CONFIRMED),
        ("check_in_participants", "1 participant checked in.", Status.ARRIVED),
        ("mark_attended", "1 participant marked attended.", Status.ATTENDED),
    ]

    for action, message, status in steps:
        response = run_action(admin_client, SessionParticipant, action, [participant])
        participant.refresh_from_db()
        assert (message_texts(response), participant.status) == ([message], status)

    assert (participant.finance_cleared_by, participant.consent_verified) == (admin_user, True)
    assert participant.history.latest().history_user == admin_user


def test_participant_admin_check_in_reports_each_refusal_and_checks_in_the_rest(admin_client, group_session):
    ready, unconsented = ParticipantFactory.create_batch(2, session=group_session)
    ConsentFactory(patient=ready.patient)
    run_action(admin_client, SessionParticipant, "clear_finance", [ready, unconsented])

    response = run_action(admin_client, SessionParticipant, "check_in_participants", [ready, unconsented])

    assert message_texts(response) == [
        f"{unconsented}: No valid consent on file for {unconsented.patient.full_name_en}.",
        "1 participant checked in.",
    ]
    ready.refresh_from_db()
    unconsented.refresh_from_db()
    assert (ready.status, unconsented.status) == (Status.ARRIVED, Status.BOOKED)


def test_participant_admin_no_show_and_cancel_actions(admin_client, group_session):
    absent, leaving = ParticipantFactory.create_batch(2, session=group_session)

    no_show = run_action(admin_client, SessionParticipant, "mark_no_show", [absent])
    cancel = run_action(admin_client, SessionParticipant, "cancel_participants", [leaving, absent])

    assert message_texts(no_show) == ["1 participant marked no-show."]
    assert message_texts(cancel) == [
        f"{absent}: Can't change this session participant from no-show to cancelled.",
        "1 participant cancelled.",
    ]
    absent.refresh_from_db()
    leaving.refresh_from_db()
    assert (absent.status, leaving.status) == (Status.NO_SHOW, Status.CANCELLED)
    assert leaving.cancel_reason == "Cancelled from admin by admin"


def test_participant_admin_add_form_books_through_the_service(admin_client, group_session):
    patient = PatientFactory(tenant=group_session.clinic.tenant)

    response = admin_client.post(
        admin_url(SessionParticipant, "add"), {"session": group_session.pk, "patient": patient.pk}
    )

    assert response.status_code == 302
    assert NUMBER.fullmatch(group_session.participants.get(patient=patient).appointment_number)


def test_participant_admin_add_form_refuses_a_full_session(admin_client, clinic, provider):
    session = GroupSessionFactory(clinic=clinic, provider=provider, max_capacity=2)
    ParticipantFactory.create_batch(2, session=session)
    patient = PatientFactory(tenant=clinic.tenant)

    response = admin_client.post(
        admin_url(SessionParticipant, "add"), {"session": session.pk, "patient": patient.pk}
    )

    assert response.context["adminform"].form.non_field_errors() == ["Session is full (2 of 2)."]
    assert session.participants.count() == 2


def test_participant_admin_never_edits_or_deletes_by_hand(admin_client, group_session):
    participant = ParticipantFactory(session=group_session)

    change = admin_client.post(admin_url(SessionParticipant, "change", participant.pk), {})
    delete = admin_client.post(admin_url(SessionParticipant, "delete", participant.pk), {"post": "yes"})

    assert (change.status_code, delete.status_code) == (403, 403)
    participant.refresh_from_db()
    assert participant.status == Status.BOOKED


# Legacy appointments ------------------------------------------------------------------------


def appointment_add_data(clinic, provider, patient, **overrides) -> dict[str, str]:
    data = {
        "patient": str(patient.pk),
        "service_type": "Individual Therapy",
        "clinic": str(clinic.pk),
        "provider": str(provider.pk),
        "scheduled_date": str(clinic_today()),
        "scheduled_time": "10:00",
        "duration": "60",
        "notes": "",
    }
    return data | overrides


def test_appointment_admin_add_books_through_the_service(admin_client, admin_user, clinic, provider):
    patient = PatientFactory(tenant=clinic.tenant)

    response = admin_client.post(
        admin_url(Appointment, "add"), appointment_add_data(clinic, provider, patient)
    )

    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert NUMBER.fullmatch(appointment.appointment_number)
    assert AppointmentNumberCounter.objects.get().last_number == 1
    assert (appointment.status, appointment.created_by) == (Appointment.Status.BOOKED, admin_user)
    assert [(row.history_type, row.history_user) for row in appointment.history.all()] == [("+", admin_user)]
    logged = LogEntry.objects.get()
    assert (logged.action_flag, logged.object_id, logged.user) == (ADDITION, str(appointment.pk), admin_user)


def test_appointment_admin_add_refuses_a_double_booked_provider(admin_client, clinic, provider):
    booked = AppointmentFactory(clinic=clinic, provider=provider, scheduled_time=datetime.time(10))
    patient = PatientFactory(tenant=clinic.tenant)
    data = appointment_add_data(clinic, provider, patient, notes="Bring the school report")

    response = admin_client.post(admin_url(Appointment, "add"), data)

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.non_field_errors() == [
        f"{provider} already has a booking {short(clinic_today())} 10:00-11:00."
    ]
    assert (form["patient"].value(), form["notes"].value()) == (str(patient.pk), "Bring the school report")
    assert "Bring the school report" in response.content.decode()
    # Nothing written: no appointment, no number taken, no history row, no admin log entry.
    assert list(Appointment.objects.all()) == [booked]
    assert AppointmentNumberCounter.objects.get().last_number == 1
    assert Appointment.history.count() == 1
    assert not LogEntry.objects.exists()


def test_appointment_admin_actions_run_the_legacy_workflow(admin_client, clinic, provider):
    appointment = AppointmentFactory(clinic=clinic, provider=provider)
    ConsentFactory(patient=appointment.patient)
    steps = [
        ("confirm_appointments", "1 appointment confirmed.", Appointment.Status.CONFIRMED),
        ("clear_finance", "Finance cleared for 1 appointment.", Appointment.Status.CONFIRMED),
        ("check_in_appointments", "1 appointment checked in.", Appointment.Status.ARRIVED),
        ("start_appointments", "1 appointment started.", Appointment.Status.IN_PROGRESS),
        ("complete_appointments", "1 appointment completed.", Appointment.Status.COMPLETED),
    ]

    for action, message, status in steps:
        response = run_action(admin_client, Appointment, action, [appointment])
        appointment.refresh_from_db()
        assert (message_texts(response), appointment.status) == ([message], status)


def test_appointment_admin_cancel_and_no_show_report_refusals(admin_client, clinic, provider):
    absent = AppointmentFactory(clinic=clinic, provider=provider, scheduled_time=datetime.time(9))
    leaving = AppointmentFactory(clinic=clinic, provider=provider, scheduled_time=datetime.time(11))

    no_show = run_action(admin_client, Appointment, "mark_no_show", [absent])
    cancel = run_action(admin_client, Appointment, "cancel_appointments", [absent, leaving])

    assert message_texts(no_show) == ["1 appointment marked no-show."]
    assert message_texts(cancel) == [
        f"{absent}: Can't change this appointment from no-show to cancelled.",
        "1 appointment cancelled.",
    ]
    leaving.refresh_from_db()
    assert (leaving.status, leaving.cancel_reason) == ("cancelled", "Cancelled from admin by admin")


def test_appointment_admin_change_form_reschedules_through_the_service(admin_client, clinic, provider):
    appointment = AppointmentFactory(clinic=clinic, provider=provider, scheduled_time=datetime.time(9))
    confirmed = run_action(admin_client, Appointment, "confirm_appointments", [appointment])
    assert message_texts(confirmed) == ["1 appointment confirmed."]
    url = admin_url(Appointment, "change", appointment.pk)

    response = admin_client.post(url, form_data(admin_client.get(url)) | {"scheduled_time": "13:30"})

    assert response.status_code == 302
    appointment.refresh_from_db()
    assert (appointment.scheduled_time, appointment.status, appointment.reschedule_count) == (
        datetime.time(13, 30),
        Appointment.Status.BOOKED,
        1,
    )


def test_appointment_admin_change_form_refuses_to_reschedule_onto_a_busy_provider(
    admin_client, clinic, provider
):
    appointment = AppointmentFactory(clinic=clinic, provider=provider, scheduled_time=datetime.time(9))
    GroupSessionFactory(clinic=clinic, provider=provider, scheduled_time=datetime.time(13))
    url = admin_url(Appointment, "change", appointment.pk)

    response = admin_client.post(url, form_data(admin_client.get(url)) | {"scheduled_time": "13:30"})

    assert response.context["adminform"].form.non_field_errors() == [
        f"{provider} already has a booking {short(clinic_today())} 13:00-14:00."
    ]
    appointment.refresh_from_db()
    assert appointment.scheduled_time == datetime.time(9)


def test_counter_admin_is_read_only(admin_client, group_session):
    ParticipantFactory(session=group_session)
    counter = AppointmentNumberCounter.objects.get()
    url = admin_url(AppointmentNumberCounter, "change", counter.pk)

    assert admin_client.post(url, {"last_number": "0"}).status_code == 403
    counter.refresh_from_db()
    assert counter.last_number == 1


# Tenant scoping ------------------------------------------------------------------------------


@pytest.fixture
def other_clinic_patient():
    return PatientFactory(tenant=TenantFactory(code="OTHER"), first_name_en="Sara")


@pytest.fixture
def foreign_session():
    other_clinic = ClinicFactory(tenant=TenantFactory(code="OTHER"))
    return GroupSessionFactory(clinic=other_clinic, provider=ProviderFactory(clinic=other_clinic))


def test_session_admin_shows_tenant_staff_only_their_tenant(client, clinic, group_session, foreign_session):
    client.force_login(tenant_admin_staff(clinic.tenant))

    changelist = client.get(admin_url(Session, "changelist"))
    foreign_page = client.get(admin_url(Session, "change", foreign_session.pk))
    add_form = client.get(admin_url(Session, "add")).context["adminform"].form

    assert list(changelist.context["cl"].result_list) == [group_session]
    assert foreign_page.status_code == 302
    assert list(add_form.fields["clinic"].queryset) == [clinic]
    assert list(add_form.fields["provider"].queryset) == [group_session.provider]
    assert set(add_form.fields["patient"].queryset.values_list("tenant", flat=True)) <= {clinic.tenant_id}


def test_session_admin_actions_ignore_rows_of_another_tenant(client, clinic, foreign_session):
    client.force_login(tenant_admin_staff(clinic.tenant))

    run_action(client, Session, "cancel_sessions", [foreign_session])

    foreign_session.refresh_from_db()
    assert foreign_session.status == Session.Status.SCHEDULED


def test_patient_autocomplete_offers_tenant_staff_only_their_patients(client, clinic, other_clinic_patient):
    own = PatientFactory(tenant=clinic.tenant, first_name_en="Sara")
    client.force_login(tenant_admin_staff(clinic.tenant))

    response = client.get(
        "/admin/autocomplete/",
        {
            "app_label": "appointments",
            "model_name": "sessionparticipant",
            "field_name": "patient",
            "term": "Sara",
        },
    )

    assert response.status_code == 200
    assert [result["id"] for result in response.json()["results"]] == [str(own.pk)]


def test_participant_admin_shows_tenant_staff_only_their_tenant(
    client, clinic, group_session, foreign_session
):
    own = ParticipantFactory(session=group_session)
    ParticipantFactory(session=foreign_session)
    client.force_login(tenant_admin_staff(clinic.tenant))

    response = client.get(admin_url(SessionParticipant, "changelist"))

    assert list(response.context["cl"].result_list) == [own]
