"""The schedule screens name the children; a full group says "Full (8/8)"; an individual session's
page has no seat bar or group notes; the session page prints as a sign-in sheet.

The five schedule screens: the front desk's home (today's schedule), a clinician's home (my sessions
today), the session list and the two day views. Each runs the same number of queries for a few
sessions as for many (one prefetch of the participants with their patients).
"""

import datetime

import pytest
from django.conf import settings
from django.urls import reverse

from appointments.models import Session, SessionParticipant
from appointments.session_service import SessionService
from core.models import User
from core.tests.factories import ClinicFactory, ProviderFactory, TenantFactory
from core.tests.view_helpers import (
    booked,
    consented_patient,
    group_session,
    legacy_appointment,
    staff_member,
    today,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]
Role = User.Role

CANCEL_REASON = "Family moved away"
SCHEDULE_SCREENS = (
    "appointments:session_list",
    "appointments:schedule_by_provider",
    "appointments:schedule_by_room",
)


@pytest.fixture
def desk(client, tenant):
    client.force_login(staff_member(tenant, Role.FRONT_DESK))
    return client


def child(tenant, first: str, last: str, first_ar: str, last_ar: str):
    return consented_patient(
        tenant, first_name_en=first, last_name_en=last, first_name_ar=first_ar, last_name_ar=last_ar
    )


@pytest.fixture
def morning_group(tenant, provider, clinic, room) -> dict:
    """Today's 09:00 group: Noura booked, Omar confirmed, Lina cancelled."""
    session = group_session(provider, clinic, hour=9, capacity=4, room=room)
    noura = booked(session, child(tenant, "Noura", "Al-Harbi", "نورة", "الحربي"))
    omar = SessionService.confirm_participant(booked(session, child(tenant, "Omar", "Hassan", "عمر", "حسن")))
    lina = booked(session, child(tenant, "Lina", "Khalid", "لينا", "خالد"))
    SessionService.cancel_participant(lina, CANCEL_REASON)
    return {"session": session, "noura": noura, "omar": omar, "lina": lina}


def html_of(client, name: str, **query) -> str:
    response = client.get(reverse(name), query)
    assert response.status_code == 200
    return response.content.decode()


def child_row(participant: SessionParticipant) -> str:
    """The start of a child's line in a schedule row (its status badge follows the name)."""
    return f'data-child="{participant.patient.mrn}" data-child-status="{participant.status}"'


# The children on every schedule screen


@pytest.mark.parametrize("name", ["home", *SCHEDULE_SCREENS])
def test_schedule_screens_name_each_child_with_their_status(desk, morning_group, name):
    html = html_of(desk, name)

    for key, status_label in (("noura", "Booked"), ("omar", "Confirmed"), ("lina", "Cancelled")):
        participant = morning_group[key]
        assert child_row(participant) in html
        row = html[html.index(child_row(participant)) :].split("</li>", 1)[0]
        assert participant.patient.full_name_en in row
        assert f'data-status="{participant.status}">{status_label}</span>' in row
    # The cancelled child is struck through; the others are not.
    assert '<span class="text-body-secondary text-decoration-line-through">Lina Khalid</span>' in html
    assert "<span>Noura Al-Harbi</span>" in html


def test_clinician_home_names_the_children_of_my_sessions_today(client, provider, morning_group):
    client.force_login(provider.user)

    html = html_of(client, "home")

    assert "<span>Omar Hassan</span>" in html
    assert child_row(morning_group["omar"]) in html


@pytest.mark.parametrize("name", ["home", *SCHEDULE_SCREENS])
def test_schedule_screens_name_the_children_in_arabic_on_arabic_pages(desk, morning_group, name):
    desk.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"

    html = html_of(desk, name)

    assert "<span>نورة الحربي</span>" in html
    assert '<span class="text-body-secondary text-decoration-line-through">لينا خالد</span>' in html
    assert "Noura Al-Harbi" not in html


def test_schedule_screens_say_when_nobody_is_booked(desk, provider, clinic):
    session = group_session(provider, clinic, hour=9)

    html = html_of(desk, "appointments:schedule_by_provider")

    assert f'data-children="{session.pk}"' not in html
    assert "Nobody is booked yet." in html


def test_day_views_show_the_legacy_appointments_patient(desk, tenant, provider, clinic):
    patient = child(tenant, "Sara", "Ali", "سارة", "علي")
    legacy_appointment(provider, clinic, patient, hour=15)

    for name in ("appointments:schedule_by_provider", "appointments:schedule_by_room", "home"):
        assert "Sara Ali" in html_of(desk, name)


def test_schedule_screens_hide_other_organisations_children(desk, morning_group):
    elsewhere_clinic = ClinicFactory(tenant=TenantFactory(code="ELSEWHERE"))
    elsewhere = group_session(ProviderFactory(clinic=elsewhere_clinic), elsewhere_clinic, hour=9)
    stranger = booked(elsewhere)

    for name in ("home", *SCHEDULE_SCREENS):
        assert stranger.patient.mrn not in html_of(desk, name)


# Query counts: constant with the number of sessions and children


def fill_the_day(tenant, clinic, sessions: int, children: int) -> None:
    """``sessions`` groups today across two providers, ``children`` in each, and as many legacy
    appointments as sessions (each with its own provider, so nothing overlaps)."""
    providers = [ProviderFactory(clinic=clinic), ProviderFactory(clinic=clinic)]
    for number in range(sessions):
        session = group_session(providers[number % 2], clinic, hour=7 + number // 2, capacity=children + 1)
        for _ in range(children):
            booked(session)
        legacy_appointment(ProviderFactory(clinic=clinic), clinic, hour=12 + number % 4)


SIZES = [(2, 1), (6, 4)]


@pytest.mark.parametrize(("sessions", "children"), SIZES)
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # session + user, today's sessions, their children, today's appointments, participant
        # counts, the no-shows to review, the reminders to follow up, the tenant, the access-log row
        ("home", 10),
        # session + user, the tenant, clinic and provider choices, page rows (and whether more
        # follow), their children, the access-log row
        ("appointments:session_list", 8),
        # session + user, the tenant, the day's sessions, their children, the day's appointments,
        # the access-log row
        ("appointments:schedule_by_provider", 7),
        ("appointments:schedule_by_room", 7),
    ],
)
def test_schedule_screens_query_count_does_not_grow(
    desk, tenant, clinic, name, expected, sessions, children, django_assert_num_queries
):
    fill_the_day(tenant, clinic, sessions, children)

    with django_assert_num_queries(expected):
        response = desk.get(reverse(name))

    assert response.content.decode().count("data-child=") == sessions * children


@pytest.mark.parametrize(("sessions", "children"), SIZES)
def test_clinician_home_query_count_does_not_grow(
    client, tenant, clinic, sessions, children, django_assert_num_queries
):
    mine = ProviderFactory(clinic=clinic)
    for number in range(sessions):
        session = group_session(mine, clinic, hour=7 + number, capacity=children + 1)
        for _ in range(children):
            booked(session)
    client.force_login(mine.user)

    # session + user, my sessions today, their children, my appointments today, participant counts,
    # the tenant, the access-log row
    with django_assert_num_queries(8):
        response = client.get(reverse("home"))

    assert response.content.decode().count("data-child=") == sessions * children


# "Full (8/8)" in place of the booking button


@pytest.fixture
def full_and_open(tenant, provider, clinic) -> tuple[Session, Session]:
    full = group_session(provider, clinic, hour=9, capacity=8)
    for _ in range(8):
        booked(full)
    return full, group_session(provider, clinic, hour=11, capacity=8)


def add_patient_link(session: Session) -> str:
    return f'href="{reverse("appointments:session_add_patient", args=[session.pk])}"'


FULL_BADGE = '<span class="badge text-bg-danger align-self-center" data-testid="full">Full (8/8)</span>'


@pytest.mark.parametrize("name", ["home", *SCHEDULE_SCREENS])
def test_schedule_screens_say_full_instead_of_the_add_patient_button(desk, full_and_open, name):
    full, open_session = full_and_open

    html = html_of(desk, name)

    assert FULL_BADGE in html
    assert add_patient_link(full) not in html
    assert add_patient_link(open_session) in html


def test_session_page_of_a_full_group_says_full_8_of_8(desk, full_and_open):
    full, open_session = full_and_open

    full_html = desk.get(full.get_absolute_url()).content.decode()
    open_html = desk.get(open_session.get_absolute_url()).content.decode()

    assert FULL_BADGE in full_html
    assert add_patient_link(full) not in full_html
    assert "Full (" not in open_html
    assert add_patient_link(open_session) in open_html


def test_full_in_arabic_keeps_its_numbers(desk, full_and_open):
    desk.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"

    html = html_of(desk, "appointments:session_list")

    assert 'data-testid="full">ممتلئة (8/8)</span>' in html


def test_available_sessions_page_offers_add_patient_on_the_open_group(desk, clinic, full_and_open):
    full, open_session = full_and_open

    html = html_of(
        desk,
        "appointments:session_available",
        clinic=clinic.pk,
        date_from=today().isoformat(),
        date_to=today().isoformat(),
    )

    assert add_patient_link(open_session) in html
    assert full.get_absolute_url() not in html  # the page lists groups with a free seat only


@pytest.mark.parametrize("role", [Role.FINANCE, Role.PSYCHOLOGIST])
def test_staff_who_cannot_book_see_full_but_no_add_patient_button(client, tenant, full_and_open, role):
    full, open_session = full_and_open
    client.force_login(staff_member(tenant, role))

    html = html_of(client, "appointments:session_list")

    assert FULL_BADGE in html
    assert "Add patient" not in html
    assert 'data-testid="full"' in client.get(full.get_absolute_url()).content.decode()


def test_closed_full_group_shows_neither_full_nor_add_patient(desk, full_and_open):
    full, _open_session = full_and_open
    SessionService.cancel_session(full, "Provider ill")

    html = html_of(desk, "appointments:session_list", status=Session.Status.CANCELLED)

    assert 'data-testid="full"' not in html
    assert add_patient_link(full) not in html


# The individual session's page


@pytest.fixture
def individual(tenant, provider, clinic) -> Session:
    return SessionService.create_individual_session(
        provider=provider,
        clinic=clinic,
        patient=child(tenant, "Noura", "Al-Harbi", "نورة", "الحربي"),
        scheduled_date=today() + datetime.timedelta(days=1),
        scheduled_time=datetime.time(9, 0),
        duration=45,
        service_type="Assessment",
    )


def test_individual_session_page_has_no_seat_bar_full_badge_or_group_notes(client, provider, individual):
    client.force_login(provider.user)  # who runs the session: the reader of its group notes

    html = client.get(individual.get_absolute_url()).content.decode()

    assert "Seats taken" not in html
    assert "capacity-bar" not in html
    assert 'data-testid="full"' not in html
    assert 'id="group-notes"' not in html
    assert "Group notes" not in html


def test_group_session_page_keeps_its_seat_bar_and_group_notes(client, provider, morning_group):
    client.force_login(provider.user)

    html = client.get(morning_group["session"].get_absolute_url()).content.decode()

    assert "Seats taken" in html
    assert f'data-capacity="{morning_group["session"].pk}">2/4</span>' in html
    assert 'id="group-notes"' in html


# The sign-in sheet (printed only) and the print stylesheet


def sign_in_sheet(html: str) -> str:
    start = html.index('<section class="d-none d-print-block sign-in-sheet"')
    return html[start : html.index("</section>", start)]


def test_session_page_prints_a_sign_in_sheet_of_the_active_children(desk, morning_group):
    html = desk.get(morning_group["session"].get_absolute_url()).content.decode()

    sheet = sign_in_sheet(html)
    for key in ("noura", "omar"):
        participant = morning_group[key]
        row = sheet[sheet.index(f'data-sign-in="{participant.patient.mrn}"') :].split("</tr>", 1)[0]
        assert f"<td>{participant.patient.full_name_en}</td>" in row
        assert f'<td class="font-monospace">{participant.appointment_number}</td>' in row
        assert '<td class="sign-in-line"></td>' in row
    assert morning_group["lina"].patient.mrn not in sheet
    assert "Lina Khalid" not in sheet


def test_sign_in_sheet_names_the_children_in_arabic(desk, morning_group):
    desk.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"

    sheet = sign_in_sheet(desk.get(morning_group["session"].get_absolute_url()).content.decode())

    assert "<td>نورة الحربي</td>" in sheet
    assert "Noura" not in sheet


def test_sign_in_sheet_of_an_empty_session_says_nobody_is_booked(desk, provider, clinic):
    session = group_session(provider, clinic, hour=9)

    sheet = sign_in_sheet(desk.get(session.get_absolute_url()).content.decode())

    assert "data-sign-in" not in sheet
    assert '<td colspan="3">Nobody is booked yet.</td>' in sheet


def test_every_page_links_the_print_stylesheet_for_print_only(desk):
    html = html_of(desk, "home")

    assert '<link rel="stylesheet" href="/static/css/print.css" media="print">' in html
