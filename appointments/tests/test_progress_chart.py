"""The patient chart's progress section (appointments/progress_section.py, progress_selectors.py).

The fixed data (the clock pinned to Sunday 15/03/2026), for one child:

- attendance: ABA session 01/03 attended, OT session 03/03 attended, a legacy psychology
  appointment 05/03 completed (attended), ABA 08/03 no-show, ABA 10/03 cancelled late by the
  family, OT 11/03 cancelled by the clinic (timely): 3 attended, 1 no-show, 1 late
  cancellation, 1 cancellation; rate 3 / (3 + 1 + 1) = 60.0%;
- signed notes: ABA "Imitation" 7/10 on 01/03 (70.0%) and 9/12 on 08/03 (75.0%); OT "Pencil
  grip" 4 on 03/03 and 6 on 11/03; psychology risk moderate on 05/03 (2 on the 0-3 scale).
"""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aba.tests.factories import ABASessionFactory, ABASkillTargetFactory
from appointments.appointment_service import AppointmentService
from appointments.models import SessionParticipant
from appointments.notes.services import NoteService
from appointments.progress_selectors import child_progress, default_progress_range
from appointments.session_service import SessionService
from appointments.tests.factories import appointment_under_way, check_in
from core.models import Clinic, User
from core.tests.factories import ClinicFactory, ConsentFactory, PatientFactory, ProviderFactory, TenantFactory
from core.tests.view_helpers import group_session, legacy_appointment, staff_member
from ot.tests.factories import OTSessionFactory, OTTargetSkillFactory
from psychology.models import PsychologySession
from psychology.tests.factories import PsychologySessionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

Role = User.Role
Specialty = Clinic.Specialty
CancelledBy = SessionParticipant.CancelledBy
PERIOD = {"from": "01/03/2026", "to": "14/03/2026"}
MARCH = {day: datetime.date(2026, 3, day) for day in range(1, 32)}  # MARCH[5] is 05/03/2026


def sign(note):
    NoteService.sign_note(note, user=note.provider.user)
    return note


def aba_note(patient, provider, day, targets):
    note = ABASessionFactory(patient=patient, provider=provider, session_date=day)
    for name, trials, correct in targets:
        ABASkillTargetFactory(note=note, target=name, trials=trials, correct=correct)
    return sign(note)


def ot_note(patient, provider, day, skills):
    note = OTSessionFactory(patient=patient, provider=provider, session_date=day)
    for name, rating in skills:
        OTTargetSkillFactory(note=note, skill=name, rating=rating)
    return sign(note)


def booked(provider, clinic, patient, day, hour=10):
    return SessionService.add_patient_to_session(group_session(provider, clinic, day=day, hour=hour), patient)


def attended(provider, clinic, patient, day, hour=10):
    participant = check_in(booked(provider, clinic, patient, day, hour))
    SessionService.complete_session(participant.session)


@pytest.fixture
def world(tenant):
    clinics = {
        specialty: ClinicFactory(tenant=tenant, specialty=specialty)
        for specialty in (Specialty.ABA, Specialty.OT, Specialty.PSYCHOLOGY)
    }
    providers = {specialty: ProviderFactory(clinic=clinic) for specialty, clinic in clinics.items()}
    child = PatientFactory(tenant=tenant, mrn="MRN-SARA")
    ConsentFactory(patient=child)
    return {"clinics": clinics, "providers": providers, "child": child, "tenant": tenant}


def pair(world, specialty):
    return world["providers"][specialty], world["clinics"][specialty]


def build_attendance(world, *, extra_sessions: int = 0):
    """The module docstring's attendance; ``extra_sessions`` more ABA sessions attended in the period."""
    child = world["child"]
    aba, ot, psychology = (
        pair(world, specialty) for specialty in (Specialty.ABA, Specialty.OT, Specialty.PSYCHOLOGY)
    )
    attended(*aba, child, MARCH[1])
    attended(*ot, child, MARCH[3])
    AppointmentService.complete(appointment_under_way(legacy_appointment(*psychology, child, day=MARCH[5])))
    SessionService.mark_participant_no_show(booked(*aba, child, MARCH[8]))
    SessionService.cancel_participant(booked(*aba, child, MARCH[10]), "Ill", cancelled_by=CancelledBy.FAMILY)
    SessionService.cancel_participant(
        booked(*ot, child, MARCH[11]), "Closed", cancelled_by=CancelledBy.CLINIC
    )
    for index in range(extra_sessions):
        attended(*aba, child, MARCH[1 + index], hour=14)


def build_notes(world, *, extra_notes: int = 0):
    """The module docstring's notes; ``extra_notes`` more ABA notes with five targets each."""
    child = world["child"]
    aba_provider = world["providers"][Specialty.ABA]
    aba_note(child, aba_provider, MARCH[1], [("Imitation", 10, 7)])
    aba_note(child, aba_provider, MARCH[8], [("Imitation", 12, 9)])
    ot_provider = world["providers"][Specialty.OT]
    ot_note(child, ot_provider, MARCH[3], [("Pencil grip", 4)])
    ot_note(child, ot_provider, MARCH[11], [("Pencil grip", 6)])
    sign(
        PsychologySessionFactory(
            patient=child,
            provider=world["providers"][Specialty.PSYCHOLOGY],
            session_date=MARCH[5],
            risk_assessment=PsychologySession.RiskLevel.MODERATE,
            safety_plan="Call the crisis line",
        )
    )
    for index in range(extra_notes):
        aba_note(child, aba_provider, MARCH[2 + index], [(f"Target {n}", 10, n) for n in range(5)])


@pytest.fixture
def fixed(world):
    build_attendance(world)
    build_notes(world)
    return world


def chart_url(patient) -> str:
    return reverse("core:patient_chart", args=[patient.pk])


def user_for(world, role):
    """A clinician's provider's user for a clinician role, a fresh member of staff otherwise."""
    specialty = {
        Role.ABA_THERAPIST: Specialty.ABA,
        Role.OCCUPATIONAL_THERAPIST: Specialty.OT,
        Role.PSYCHOLOGIST: Specialty.PSYCHOLOGY,
    }
    if role in specialty:
        return world["providers"][specialty[role]].user
    return staff_member(world["tenant"], role)


def chart_kinds(response) -> list[tuple[str, str]]:
    return [
        (section["chart"].specialty, section["chart"].kind) for section in response.context["progress_charts"]
    ]


# Who sees which charts ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.ABA_THERAPIST, [("aba", "percent")]),
        (Role.OCCUPATIONAL_THERAPIST, [("ot", "rating")]),
        (Role.PSYCHOLOGIST, [("psychology", "risk")]),
        (Role.ADMIN, [("ot", "rating"), ("aba", "percent")]),
        (Role.FRONT_DESK, []),
        (Role.FINANCE, []),
    ],
)
def test_progress_charts_follow_who_reads_which_notes_and_risk_only_for_psychologists(
    client, fixed, role, expected
):
    client.force_login(user_for(fixed, role))

    response = client.get(chart_url(fixed["child"]), PERIOD)

    assert response.status_code == 200
    assert chart_kinds(response) == expected
    # Everyone who may open the chart sees the attendance strip: it is scheduling data.
    assert len(response.context["progress_strip"]) == 6
    content = response.content.decode()
    assert ('id="progress-chart-data"' in content) is bool(expected)
    assert ("Risk level" in content) is (role == Role.PSYCHOLOGIST)


def test_progress_without_risk_leaves_out_the_psychologists_risk_chart(fixed):
    psychologist = user_for(fixed, Role.PSYCHOLOGIST)

    progress = child_progress(psychologist, fixed["child"], MARCH[1], MARCH[14], include_risk=False)

    assert progress.charts == []


def test_progress_chart_front_desk_sees_the_strip_and_no_note_message(client, fixed):
    client.force_login(user_for(fixed, Role.FRONT_DESK))

    content = client.get(chart_url(fixed["child"]), PERIOD).content.decode()

    assert 'data-testid="attendance-strip"' in content
    assert 'data-testid="progress-no-charts"' not in content
    assert "chart.umd.min.js" not in content


def test_progress_chart_another_organisations_child_is_not_found(client, fixed):
    client.force_login(staff_member(TenantFactory(code="OTHER"), Role.ADMIN))

    assert client.get(chart_url(fixed["child"]), PERIOD).status_code == 404


# The figures ----------------------------------------------------------------------------------------


def test_progress_chart_attendance_strip_counts_and_rate_on_the_issues_example(client, fixed):
    client.force_login(user_for(fixed, Role.ADMIN))

    response = client.get(chart_url(fixed["child"]), PERIOD)

    progress = response.context["progress"]
    assert [(mark.day, mark.specialty, mark.outcome) for mark in progress.attendance] == [
        (MARCH[1], "aba", "attended"),
        (MARCH[3], "ot", "attended"),
        (MARCH[5], "psychology", "attended"),
        (MARCH[8], "aba", "no_show"),
        (MARCH[10], "aba", "late_cancellation"),
        (MARCH[11], "ot", "cancellation"),
    ]
    assert progress.attendance_counts == {
        "attended": 3,
        "no_show": 1,
        "late_cancellation": 1,
        "cancellation": 1,
        "turned_away": 0,
        "pending": 0,
    }
    assert progress.attendance_rate == Decimal("60.0")
    cells = [(cell["style"].letter, cell["style"].css) for cell in response.context["progress_strip"]]
    assert cells == [
        ("A", "text-bg-success"),
        ("A", "text-bg-success"),
        ("A", "text-bg-success"),
        ("N", "text-bg-danger"),
        ("L", "text-bg-warning"),
        ("C", "text-bg-secondary"),
    ]
    content = response.content.decode()
    assert 'title="08/03/2026 10:00 · Applied behaviour analysis · No-show · ' in content
    assert '<strong><bdi dir="ltr">60.0%</bdi></strong>' in content


def test_progress_chart_sends_each_targets_points_to_the_script(client, fixed):
    client.force_login(user_for(fixed, Role.ADMIN))

    data = client.get(chart_url(fixed["child"]), PERIOD).context["progress_chart_data"]

    assert data["rtl"] is False
    assert [(entry["canvas"], entry["kind"], entry["label"], entry["max"]) for entry in data["charts"]] == [
        ("progress-chart-0-0", "rating", "Pencil grip", 10),
        ("progress-chart-1-0", "percent", "Imitation", 100),
    ]
    assert data["charts"][1]["points"] == [
        {"x": "01/03/2026", "y": 70.0, "value": "70.0%", "detail": "7/10 trials"},
        {"x": "08/03/2026", "y": 75.0, "value": "75.0%", "detail": "9/12 trials"},
    ]
    assert data["charts"][0]["points"] == [
        {"x": "03/03/2026", "y": 4.0, "value": "4/10", "detail": "4/10"},
        {"x": "11/03/2026", "y": 6.0, "value": "6/10", "detail": "6/10"},
    ]


def test_progress_chart_psychologist_gets_the_risk_as_steps_with_their_names(client, fixed):
    client.force_login(user_for(fixed, Role.PSYCHOLOGIST))

    response = client.get(chart_url(fixed["child"]), PERIOD)

    (entry,) = response.context["progress_chart_data"]["charts"]
    assert (entry["kind"], entry["max"], entry["steps"]) == ("risk", 3, ["None", "Low", "Moderate", "High"])
    assert entry["points"] == [{"x": "05/03/2026", "y": 2.0, "value": "", "detail": "Moderate"}]


def test_progress_chart_latest_values_table(client, fixed):
    client.force_login(user_for(fixed, Role.ABA_THERAPIST))

    response = client.get(chart_url(fixed["child"]), PERIOD)

    (section,) = response.context["progress_charts"]
    assert [
        (str(row["line"].label), row["value"], row["point"].day, str(row["point"].detail))
        for row in section["latest"]
    ] == [("Imitation", "75.0%", MARCH[8], "9/12 trials")]


def test_progress_chart_in_arabic_runs_right_to_left(client, fixed):
    client.force_login(user_for(fixed, Role.ADMIN))

    response = client.get(chart_url(fixed["child"]), PERIOD, HTTP_ACCEPT_LANGUAGE="ar")

    data = response.context["progress_chart_data"]
    assert data["rtl"] is True
    assert data["charts"][1]["points"][0]["detail"] == "7/10 محاولات"
    assert "60.0%" in response.content.decode()


# The period -----------------------------------------------------------------------------------------


def test_progress_default_range_is_the_six_months_up_to_today():
    assert default_progress_range(datetime.date(2026, 3, 15)) == (datetime.date(2025, 9, 16), MARCH[15])
    assert default_progress_range(datetime.date(2026, 8, 31)) == (
        datetime.date(2026, 3, 1),
        datetime.date(2026, 8, 31),
    )


def test_progress_chart_without_a_period_shows_the_last_six_months(client, fixed):
    client.force_login(user_for(fixed, Role.ADMIN))

    response = client.get(chart_url(fixed["child"]))

    progress = response.context["progress"]
    assert (progress.date_from, progress.date_to) == (datetime.date(2025, 9, 16), MARCH[15])
    assert len(progress.attendance) == 6
    assert 'value="16/09/2025"' in response.content.decode()


def test_progress_chart_period_narrows_the_strip_and_charts(client, fixed):
    client.force_login(user_for(fixed, Role.ABA_THERAPIST))

    response = client.get(chart_url(fixed["child"]), {"from": "02/03/2026", "to": "09/03/2026"})

    progress = response.context["progress"]
    assert [mark.day for mark in progress.attendance] == [MARCH[3], MARCH[5], MARCH[8]]
    assert progress.attendance_rate == Decimal("66.7")
    assert [[point.day for point in line.points] for line in progress.charts[0].lines] == [[MARCH[8]]]


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"from": "14/03/2026", "to": "01/03/2026"}, "to", "The end date is before the start date."),
        ({"from": "2026-13-45", "to": ""}, "from", "Enter a valid date."),
        ({"from": "01/01/1800", "to": ""}, "from", "Enter a date between 01/01/1900 and 31/12/2100."),
    ],
)
def test_progress_chart_wrong_period_says_so_and_shows_the_default(client, fixed, params, field, message):
    client.force_login(user_for(fixed, Role.ADMIN))

    response = client.get(chart_url(fixed["child"]), params)

    assert response.status_code == 200
    assert response.context["progress_form"].errors[field] == [message]
    progress = response.context["progress"]
    assert (progress.date_from, progress.date_to) == (datetime.date(2025, 9, 16), MARCH[15])


def test_progress_chart_links_to_the_print_page_with_the_period(client, fixed):
    client.force_login(user_for(fixed, Role.ADMIN))

    content = client.get(chart_url(fixed["child"]), PERIOD).content.decode()

    print_url = reverse("core:patient_progress_print", args=[fixed["child"].pk])
    assert f'href="{print_url}?from=01/03/2026&amp;to=14/03/2026"' in content


# Query counts ---------------------------------------------------------------------------------------


def queries_for(client, patient) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(chart_url(patient), PERIOD).status_code == 200
    return len(captured)


@pytest.mark.parametrize(("extra_sessions", "extra_notes"), [(0, 0), (9, 7)])
def test_progress_chart_query_count_is_fixed(client, world, extra_sessions, extra_notes):
    build_attendance(world, extra_sessions=extra_sessions)
    build_notes(world, extra_notes=extra_notes)
    client.force_login(user_for(world, Role.ADMIN))

    # The same whether the child had 6 or 15 sessions, 5 or 12 notes (7 with five targets each).
    assert queries_for(client, world["child"]) == 26
