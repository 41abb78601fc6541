"""The printable progress report (appointments/progress_views.py), through the HTTP client.

The fixed data (the clock pinned to Sunday 15/03/2026), for Sara Ali (سارة علي), born 05/03/2018:

- ABA: "Requests help" 5 of 10 correct on 01/03 (50.0%), 8 of 10 on 08/03 (80.0%): +30.0;
- OT: "Pencil grip" rated 4 on 03/03 and 7 on 10/03: +3;
- psychology: risk assessed high on 05/03 (a signed note);
- attendance: those five sessions attended and an ABA session on 12/03 missed (no-show):
  5 attended, 1 no-show, rate 5 / 6 = 83.3%.
"""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from aba.models import ABASession
from appointments.models import Session
from appointments.notes.services import NoteService
from appointments.progress_selectors import child_progress
from appointments.session_service import SessionService
from appointments.tests.factories import under_way
from core.models import AccessLog, Clinic, Patient, User
from core.tests.factories import ClinicFactory, ConsentFactory, PatientFactory, ProviderFactory, TenantFactory
from core.tests.test_security_headers import problems_of
from core.tests.view_helpers import group_session, staff_member
from ot.models import OTSession
from psychology.models import PsychologySession

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

Role = User.Role
PERIOD = {"from": "01/03/2026", "to": "14/03/2026"}


def print_url(patient: Patient) -> str:
    return reverse("core:patient_progress_print", args=[patient.pk])


def options_url(patient: Patient) -> str:
    return reverse("core:patient_progress_print_options", args=[patient.pk])


def attended_session(provider, clinic, patient: Patient, day: datetime.date):
    """A session on ``day`` that ``patient`` came to, under way: its notes can be signed."""
    session = group_session(provider, clinic, day=day)
    return under_way(SessionService.add_patient_to_session(session, patient))


def signed(note_model, participant, provider, **content):
    """A signed note for ``participant``, whose session is then completed: the child attended."""
    note = NoteService.create_note(note_model, participant=participant, provider=provider, **content)
    NoteService.sign_note(note, user=provider.user)
    SessionService.complete_session(Session.objects.get(pk=participant.session_id))
    return note


def aba_note(participant, provider, correct: int):
    return signed(
        ABASession,
        participant,
        provider,
        session_summary="Requesting",
        skill_targets=[{"target": "Requests help", "trials": 10, "correct": correct, "prompt_level": ""}],
    )


def ot_note(participant, provider, rating: int):
    return signed(
        OTSession,
        participant,
        provider,
        activities="Drawing",
        target_skills=[{"skill": "Pencil grip", "rating": rating, "comments": ""}],
    )


def build_progress(tenant, *, extra_weeks: int = 0) -> dict:
    """The module docstring's data; with ``extra_weeks``, that many more attended ABA and OT sessions
    (each with a signed note), one a week before 01/03: the query-count test's bigger data."""
    clinics = {
        specialty: ClinicFactory(tenant=tenant, specialty=specialty, name_en=f"{specialty} clinic")
        for specialty in (Clinic.Specialty.ABA, Clinic.Specialty.OT, Clinic.Specialty.PSYCHOLOGY)
    }
    providers = {specialty: ProviderFactory(clinic=clinic) for specialty, clinic in clinics.items()}
    sara = PatientFactory(
        tenant=tenant,
        mrn="MRN-SARA",
        first_name_en="Sara",
        last_name_en="Ali",
        first_name_ar="سارة",
        last_name_ar="علي",
        date_of_birth=datetime.date(2018, 3, 5),
    )
    ConsentFactory(patient=sara)
    aba, ot, psychology = (
        (clinics[specialty], providers[specialty])
        for specialty in (Clinic.Specialty.ABA, Clinic.Specialty.OT, Clinic.Specialty.PSYCHOLOGY)
    )

    def session(pair, day):
        clinic, provider = pair
        return attended_session(provider, clinic, sara, day)

    for week in range(1, extra_weeks + 1):
        before = datetime.date(2026, 3, 1) - datetime.timedelta(weeks=week)
        aba_note(session(aba, before), aba[1], correct=3)
        ot_note(session(ot, before + datetime.timedelta(days=2)), ot[1], rating=2)
    aba_note(session(aba, datetime.date(2026, 3, 1)), aba[1], correct=5)
    aba_note(session(aba, datetime.date(2026, 3, 8)), aba[1], correct=8)
    ot_note(session(ot, datetime.date(2026, 3, 3)), ot[1], rating=4)
    ot_note(session(ot, datetime.date(2026, 3, 10)), ot[1], rating=7)
    signed(
        PsychologySession,
        session(psychology, datetime.date(2026, 3, 5)),
        psychology[1],
        presenting_issues="Worries",
        risk_assessment=PsychologySession.RiskLevel.HIGH,
        safety_plan="Call the crisis line",
    )
    missed = group_session(aba[1], aba[0], day=datetime.date(2026, 3, 12))
    SessionService.mark_participant_no_show(SessionService.add_patient_to_session(missed, sara))
    return {"patient": sara, "providers": providers, "clinics": clinics}


@pytest.fixture
def progress(tenant) -> dict:
    return build_progress(tenant)


def sign_in(client, user: User) -> User:
    client.force_login(user)
    return user


def clinician(progress: dict, specialty: str) -> User:
    return progress["providers"][specialty].user


def text_of(response) -> str:
    """The page's visible text, roughly: the markup's tags and the chart data script removed."""
    content = response.content.decode()
    content = re.sub(r'<script id="progress-report-data"[^>]*>.*?</script>', "", content, flags=re.S)
    return re.sub(r"<[^>]+>", " ", content)


def chart_data(response) -> list[dict]:
    return response.context["chart_data"]


def last_log_rows(count: int) -> list[tuple]:
    rows = AccessLog.objects.order_by("-pk")[:count]
    return [(row.action, row.object_type, row.object_id, row.patient_id) for row in reversed(rows)]


# The report --------------------------------------------------------------------------------------


def test_progress_print_admin_sees_aba_and_ot_targets_with_latest_first_and_change(client, tenant, progress):
    sign_in(client, staff_member(tenant, Role.ADMIN))

    response = client.get(print_url(progress["patient"]), {**PERIOD, "audience": "family", "language": "en"})

    assert response.status_code == 200
    charts = response.context["charts"]
    # In the disciplines' registration order (appointments.notes.registry).
    assert [(item.chart.specialty, item.chart.kind) for item in charts] == [
        ("ot", "rating"),
        ("aba", "percent"),
    ]
    assert [
        (row.label, row.latest, row.latest_day, row.first, row.change) for item in charts for row in item.rows
    ] == [
        ("Pencil grip", "7/10", datetime.date(2026, 3, 10), "4/10", "+3"),
        ("Requests help", "80.0%", datetime.date(2026, 3, 8), "50.0%", "+30.0"),
    ]
    assert chart_data(response) == [
        {
            "canvas": "progress-report-chart-0",
            "max": 10,
            "labels": ["03/03/2026", "10/03/2026"],
            "lines": [
                {
                    "label": "Pencil grip",
                    "points": [{"x": "03/03/2026", "y": 4.0}, {"x": "10/03/2026", "y": 7.0}],
                }
            ],
        },
        {
            "canvas": "progress-report-chart-1",
            "max": 100,
            "labels": ["01/03/2026", "08/03/2026"],
            "lines": [
                {
                    "label": "Requests help",
                    "points": [{"x": "01/03/2026", "y": 50.0}, {"x": "08/03/2026", "y": 80.0}],
                }
            ],
        },
    ]
    html = response.content.decode()
    assert 'id="progress-report-chart-0"' in html
    assert 'id="progress-report-chart-1"' in html
    headings = re.findall(r'<h2 class="h5">([^:<]+):', html)
    assert headings == ["Occupational therapy", "Applied behaviour analysis"]


def test_progress_print_shows_centre_child_period_attendance_and_signature_lines(client, tenant, progress):
    aba_therapist = sign_in(client, clinician(progress, Clinic.Specialty.ABA))

    response = client.get(print_url(progress["patient"]), {**PERIOD, "audience": "school", "language": "en"})

    text = " ".join(text_of(response).split())
    assert "Agdar Centre" in text
    assert "Progress report" in text
    assert "For the school" in text
    assert "For the family" not in text
    assert "Sara Ali" in text
    assert "Date of birth 05/03/2018" in text
    assert "MRN MRN-SARA" in text
    assert "Period 01/03/2026 to 14/03/2026" in text
    assert response.context["attendance"] == [
        ("Attended", 5),
        ("No-show", 1),
        ("Late cancellation", 0),
        ("Cancellation", 0),
        ("Turned away", 0),
    ]
    assert "Attendance rate 83.3%" in text
    assert f"Clinician: Dr {aba_therapist.get_full_name()}" in text
    assert "Signature" in text
    assert "Date" in text
    html = response.content.decode()
    assert 'id="progress-report-print"' in html
    assert "js/progress_print.js" in html
    assert "vendor/chartjs/chart.umd.min.js" in html
    # The security headers (no-store among them), and no inline script the CSP would refuse.
    assert problems_of(response) == []


def test_progress_print_front_desk_prints_attendance_only_and_signs_as_nobody(client, tenant, progress):
    sign_in(client, staff_member(tenant, Role.FRONT_DESK))

    response = client.get(print_url(progress["patient"]), {**PERIOD, "audience": "family", "language": "en"})

    assert response.status_code == 200
    assert response.context["charts"] == []
    assert response.context["chart_data"] == []
    assert "No targets to show for this period." in text_of(response)
    assert ("Attended", 5) in response.context["attendance"]
    assert response.context["signer"] == ""
    assert "Requests help" not in text_of(response)


def test_progress_print_aba_therapist_sees_aba_targets_only(client, progress):
    sign_in(client, clinician(progress, Clinic.Specialty.ABA))

    response = client.get(print_url(progress["patient"]), {**PERIOD, "audience": "family", "language": "en"})

    assert [item.chart.specialty for item in response.context["charts"]] == ["aba"]
    text = text_of(response)
    assert "Requests help" in text
    assert "Pencil grip" not in text


def risk_words(language: str) -> list[str]:
    """How the risk chart would name itself and Sara's level in ``language``."""
    with translation.override(language):
        return [gettext("Risk level"), str(PsychologySession.RiskLevel.HIGH.label), "risk", "Risk"]


@pytest.mark.parametrize("audience", ["family", "school"])
@pytest.mark.parametrize("language", ["en", "ar"])
def test_progress_print_never_shows_the_risk_level_to_a_psychologist_printing(
    client, progress, audience, language
):
    psychologist = sign_in(client, clinician(progress, Clinic.Specialty.PSYCHOLOGY))
    patient = progress["patient"]
    # The psychologist sees the risk level on the chart...
    on_chart = child_progress(psychologist, patient, datetime.date(2026, 3, 1), datetime.date(2026, 3, 14))
    assert [(chart.kind, chart.lines[0].points[0].value) for chart in on_chart.charts] == [("risk", 3)]

    response = client.get(print_url(patient), {**PERIOD, "audience": audience, "language": language})

    # ... and not on paper, for the family or a school, in either language.
    assert response.status_code == 200
    assert response.context["charts"] == []
    assert response.context["chart_data"] == []
    content = response.content.decode()
    for word in risk_words(language):
        assert word not in content, word
    assert PsychologySession.RiskLevel.HIGH.value not in content
    with translation.override(language):
        assert str(psychologist.provider) in content  # the report did render: its signer


def test_progress_print_in_arabic_from_an_english_page(client, tenant, progress):
    sign_in(client, staff_member(tenant, Role.ADMIN))

    response = client.get(print_url(progress["patient"]), {**PERIOD, "audience": "family", "language": "ar"})

    html = response.content.decode()
    assert '<html lang="ar" dir="rtl">' in html
    assert response["Content-Language"] == "ar"
    text = " ".join(text_of(response).split())
    assert "تقرير التقدّم" in text
    assert "للأسرة" in text
    assert "مركز أجدر" in text
    assert "سارة علي" in text
    assert "05/03/2018" in text
    assert "من 01/03/2026 إلى 14/03/2026" in text
    assert "83.3%" in text
    # Latin digits only: no Arabic-Indic digit anywhere on the page.
    assert not re.search("[\u0660-\u0669\u06f0-\u06f9]", html)
    # The page around it stays in the user's language.
    assert translation.get_language() == "en"


def test_progress_print_writes_one_print_row_with_the_patient(client, tenant, progress):
    sign_in(client, staff_member(tenant, Role.ADMIN))
    patient = progress["patient"]

    client.get(print_url(patient), {**PERIOD, "audience": "family", "language": "en"})

    assert last_log_rows(1) == [("print", "patient_progress", str(patient.pk), patient.pk)]


def test_progress_print_without_an_audience_goes_to_the_form_and_logs_no_print(client, tenant, progress):
    sign_in(client, staff_member(tenant, Role.ADMIN))
    patient = progress["patient"]
    before = AccessLog.objects.count()

    response = client.get(print_url(patient), {**PERIOD, "language": "ar"})

    assert response.status_code == 302
    assert response.url == f"{options_url(patient)}?from=01%2F03%2F2026&to=14%2F03%2F2026&language=ar"
    assert AccessLog.objects.count() == before
    form_page = client.get(response.url)
    assert form_page.status_code == 200
    assert "Choose who the report is for." in form_page.content.decode()
    assert last_log_rows(1) == [("view", "patient_progress", str(patient.pk), patient.pk)]
    assert not AccessLog.objects.filter(action=AccessLog.Action.PRINT).exists()


def test_progress_print_form_offers_the_default_period_and_names_only_the_child(client, tenant, progress):
    sign_in(client, staff_member(tenant, Role.ADMIN))

    response = client.get(options_url(progress["patient"]))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Sara Ali" in html
    assert "Requests help" not in html
    assert "MRN-SARA" not in html
    form = response.context["form"]
    assert not form.is_bound
    start, end = form.default_range
    assert form.fields["from"].initial == start
    assert form.fields["to"].initial == end
    assert f'value="{start:%d/%m/%Y}"' in html
    assert form.fields["language"].initial == "en"


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"from": "14/03/2026", "to": "01/03/2026"}, "to", "The end date is before the start date."),
        ({"from": "2026-02-30"}, "from", "Enter a valid date."),
        ({"language": "fr"}, "language", "Select a valid choice. fr is not one of the available choices."),
        (
            {"audience": "press"},
            "audience",
            "Select a valid choice. press is not one of the available choices.",
        ),
    ],
)
def test_progress_print_bad_choices_go_back_to_the_form_with_the_reason(
    client, tenant, progress, query, field, message
):
    sign_in(client, staff_member(tenant, Role.ADMIN))
    data = {**PERIOD, "audience": "family", "language": "en", **query}

    response = client.get(print_url(progress["patient"]), data, follow=True)

    assert response.redirect_chain[0][1] == 302
    assert response.context["form"].errors[field] == [message]
    assert not AccessLog.objects.filter(action=AccessLog.Action.PRINT).exists()


def test_progress_print_of_another_organisations_child_is_404_and_denied(client, tenant):
    other = build_progress(TenantFactory(code="OTHER"))["patient"]
    reader = sign_in(client, staff_member(tenant, Role.ADMIN))

    response = client.get(print_url(other), {**PERIOD, "audience": "family", "language": "en"})

    assert response.status_code == 404
    row = AccessLog.objects.order_by("-pk").first()
    assert (row.action, row.object_type, row.object_id, row.patient_id, row.tenant_id, row.user_id) == (
        "denied",
        "patient_progress",
        str(other.pk),
        None,
        tenant.pk,
        reader.pk,
    )
    assert client.get(options_url(other)).status_code == 404


def test_progress_print_refuses_a_user_without_a_role(client, tenant, progress):
    sign_in(client, staff_member(tenant, ""))

    response = client.get(print_url(progress["patient"]), {**PERIOD, "audience": "family", "language": "en"})

    assert response.status_code == 403
    assert last_log_rows(1)[0][0] == "denied"


def test_progress_print_runs_the_same_queries_at_two_data_sizes(client, tenant):
    small = build_progress(tenant)["patient"]
    large = build_progress(TenantFactory(code="BIG"), extra_weeks=6)["patient"]
    query = {**PERIOD, "audience": "family", "language": "en"}

    sign_in(client, staff_member(tenant, Role.ADMIN))
    with CaptureQueriesContext(connection) as few:
        small_report = client.get(print_url(small), query)
    sign_in(client, staff_member(large.tenant, Role.ADMIN))
    with CaptureQueriesContext(connection) as many:
        large_report = client.get(print_url(large), {**query, "from": "01/01/2026"})

    # 2 and 8 sessions a target, 5 and 17 attended.
    assert [len(data["labels"]) for data in small_report.context["chart_data"]] == [2, 2]
    assert [len(data["labels"]) for data in large_report.context["chart_data"]] == [8, 8]
    assert large_report.context["attendance"][0] == ("Attended", 17)
    # The session, the user, the patient, the attendance (participants, legacy appointments), one
    # per discipline with progress charts (psychology, OT, ABA), the centre, the access-log row.
    assert len(few) == len(many) == 10
