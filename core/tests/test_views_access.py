"""Who reaches which page: login for every URL, the role x page matrix, tenant scoping.

The URL patterns are found by walking the resolver, so a page added later is
covered by the anonymous test and must be added to the matrix to pass.
"""

import datetime
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from appointments.models import Appointment, Session, SessionParticipant, SessionSeries, WaitlistEntry
from appointments.notes.services import NoteService
from appointments.reminders.models import Reminder
from appointments.session_service import SessionService
from core.middleware import PAGES_WITHOUT_TENANT
from core.models import Clinic, Consent, Guardian, Patient, ProviderLeave, User
from core.permissions import SPECIALTY_OF_ROLE
from core.tests.factories import (
    ClinicFactory,
    ConsentFactory,
    GuardianFactory,
    ProviderFactory,
    TenantFactory,
)
from core.tests.view_helpers import (
    booked,
    consented_patient,
    group_series,
    group_session,
    legacy_appointment,
    staff_member,
    superuser,
    work_in,
)
from psychology.models import PsychologySession

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

Role = User.Role
# Reachable without logging in, on purpose: signing in, choosing the language
# on the login page, the load balancer's health check (no data, config/health.py), a
# family's confirm-or-cancel link (the signed token is the key; the one public page with a
# child's booking, appointments/tests/test_family_link.py) and the SMS gateway's replies
# (404 without the shared secret).
PUBLIC_URL_NAMES = {"login", "set_language", "healthz", "family:link", "family:sms_inbound"}
NOT_WALKED_NAMESPACES = {"admin"}  # Django admin has its own login and its own tests

# The rows' session is in a psychology clinic. Around it: its own provider
# ("session_provider", a psychologist), another psychologist (Role.PSYCHOLOGIST,
# covering), clinicians of the other disciplines, front desk, finance, administrators.
SESSION_PROVIDER = "session_provider"
EVERYONE = {
    "superuser",
    Role.ADMIN,
    Role.FRONT_DESK,
    Role.FINANCE,
    Role.PSYCHOLOGIST,
    SESSION_PROVIDER,
    Role.OCCUPATIONAL_THERAPIST,
    Role.ABA_THERAPIST,
}
STAFF = EVERYONE  # every real role sees the schedule and the patients
DESK = {"superuser", Role.ADMIN, Role.FRONT_DESK}
FINANCE = {"superuser", Role.ADMIN, Role.FINANCE}
FLOOR = {
    "superuser",
    Role.ADMIN,
    Role.FRONT_DESK,
    Role.PSYCHOLOGIST,
    SESSION_PROVIDER,
    Role.OCCUPATIONAL_THERAPIST,
    Role.ABA_THERAPIST,
}
# Start, complete, attended, no-show, group notes: the session's clinicians (its
# provider, a psychologist covering) and administrators (core.permissions.can_run_session).
CLINICAL = {"superuser", Role.ADMIN, Role.PSYCHOLOGIST, SESSION_PROVIDER}
# The rows' clinic is a psychology clinic, so its notes are read by psychologists
# and administrators; writing also needs a provider profile, which login_as gives
# clinicians (as in the clinic) and not administrators.
NOTE_READERS = {"superuser", Role.ADMIN, Role.PSYCHOLOGIST, SESSION_PROVIDER}
NOTE_WRITERS = {Role.PSYCHOLOGIST, SESSION_PROVIDER}
# Breaking the glass (core.break_glass): the clinician roles, whatever their discipline.
CLINICIANS = {Role.PSYCHOLOGIST, SESSION_PROVIDER, Role.OCCUPATIONAL_THERAPIST, Role.ABA_THERAPIST}
ROLES = [*sorted(EVERYONE), "no_role"]

# URL name -> (method, roles allowed). "no_role" (a user whose role is not one of
# ours) is allowed nowhere but the home page.
MATRIX = {
    "home": ("get", EVERYONE | {"no_role"}),
    "logout": ("post", EVERYONE | {"no_role"}),
    "password_change": ("get", EVERYONE | {"no_role"}),
    "password_change_done": ("get", EVERYONE | {"no_role"}),
    "appointments:session_list": ("get", STAFF),
    "appointments:session_create": ("get", DESK),
    "appointments:session_book_individual": ("get", DESK),
    "appointments:session_available": ("get", STAFF),
    "appointments:session_detail": ("get", STAFF),
    "appointments:session_add_patient": ("get", DESK),
    "appointments:session_start": ("post", CLINICAL),
    "appointments:session_complete": ("get", CLINICAL),  # GET asks for confirmation, POST completes
    "appointments:session_cancel": ("post", DESK),
    "appointments:session_capacity": ("post", DESK),
    "appointments:session_group_notes": ("post", CLINICAL),
    "appointments:session_reschedule": ("get", DESK),
    "appointments:session_families_told": ("post", DESK),
    "appointments:participant_confirm": ("post", DESK),
    "appointments:participant_clear_finance": ("post", FINANCE),
    "appointments:participant_check_in": ("post", FLOOR),
    "appointments:participant_attended": ("post", CLINICAL),
    "appointments:participant_no_show": ("post", CLINICAL),
    "appointments:participant_cancel": ("post", DESK),
    "appointments:participant_turned_away": ("post", DESK),
    "appointments:participant_waive_billing": ("post", FINANCE),
    "appointments:participant_confirm_billing": ("post", {*DESK, Role.FINANCE}),
    "appointments:series_list": ("get", STAFF),
    "appointments:series_create": ("get", DESK),
    "appointments:series_detail": ("get", STAFF),
    "appointments:series_enrol": ("get", DESK),  # GET finds the child, POST enrols
    "appointments:series_withdraw": ("post", DESK),
    "appointments:series_occurrence_cancel": ("post", DESK),
    "appointments:series_occurrence_move": ("post", DESK),
    "appointments:series_waitlist_add": ("post", DESK),
    "appointments:session_waitlist_add": ("get", DESK),  # GET finds the child, POST adds them
    "appointments:waitlist_accept": ("post", DESK),
    "appointments:waitlist_withdraw": ("post", DESK),
    "appointments:waitlist_family_told": ("post", DESK),
    "appointments:schedule_by_provider": ("get", STAFF),
    "appointments:schedule_by_room": ("get", STAFF),
    "appointments:calendar_week": ("get", STAFF),
    "appointments:calendar_events": ("get", STAFF),
    "appointments:calendar_move": ("post", DESK),
    "appointments:leave_list": ("get", DESK),
    "appointments:leave_create": ("get", DESK),
    "appointments:leave_detail": ("get", DESK),  # GET lists the bookings under it, POST moves them
    "appointments:free_slots": ("get", DESK),
    "appointments:appointment_list": ("get", STAFF),
    "appointments:appointment_book": ("get", DESK),
    "appointments:appointment_detail": ("get", STAFF),
    "appointments:appointment_reschedule": ("get", DESK),
    "appointments:appointment_confirm": ("post", DESK),
    "appointments:appointment_clear_finance": ("post", FINANCE),
    "appointments:appointment_check_in": ("post", FLOOR),
    "appointments:appointment_start": ("post", CLINICAL),
    "appointments:appointment_complete": ("post", CLINICAL),
    "appointments:appointment_no_show": ("post", CLINICAL),
    "appointments:appointment_cancel": ("post", DESK),
    "appointments:clearance_queue": ("get", FINANCE),
    "appointments:clearance_clear": ("post", FINANCE),  # an empty post goes back to the queue
    "appointments:reminders": ("get", DESK),
    "appointments:reminder_retry": ("post", DESK),  # a reminder not failed: a message, back to the list
    "core:patient_search": ("get", STAFF),
    "core:patient_create": ("get", DESK),
    "core:patient_lookup": ("get", DESK),  # the booking forms' patient picker
    "core:patient_chart": ("get", STAFF),
    # Whoever opens the chart may print the progress report; what it shows follows their notes access.
    "core:patient_progress_print_options": ("get", STAFF),
    "core:patient_progress_print": ("get", STAFF),  # without a choice it redirects to the form
    "core:patient_add_consent": ("get", DESK),
    "core:consent_revoke": ("post", DESK),
    "core:guardian_add": ("get", DESK),
    "core:guardian_edit": ("get", DESK),
    "core:guardian_history": ("get", DESK),
    "core:tenant_pick": ("get", {"superuser"}),
    "core:patient_break_glass": ("get", CLINICIANS),
    "two_factor": ("get", EVERYONE | {"no_role"}),
    "two_factor_verify": ("get", EVERYONE | {"no_role"}),
    "core:session_status": ("get", EVERYONE | {"no_role"}),
    "notes:participant_note_write": ("get", NOTE_WRITERS),
    "notes:note_detail": ("get", NOTE_READERS),
    "notes:note_edit": ("get", NOTE_WRITERS),
    "notes:note_autosave": ("post", NOTE_WRITERS),
    "notes:note_sign": ("post", NOTE_READERS),
    "notes:note_add_addendum": ("post", NOTE_READERS),
    # Every role has some report (appointments.reports.registry); the report page is walked with
    # the finance report (finance's too), the export with the notes queue (the clinicians' too).
    "reports:index": ("get", EVERYONE),
    "reports:report": ("get", DESK | FINANCE),
    "reports:export": ("get", DESK | CLINICIANS),
}


def walk(patterns, namespace: str = ""):
    """(namespaced name, pattern) for every URL pattern below ``patterns``."""
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace in NOT_WALKED_NAMESPACES:
                continue
            inner = ":".join(part for part in (namespace, entry.namespace) if part)
            yield from walk(entry.url_patterns, inner)
        else:
            assert isinstance(entry, URLPattern)
            yield (f"{namespace}:{entry.name}" if namespace else entry.name), entry


def walked_urls() -> dict[str, URLPattern]:
    return dict(walk(get_resolver().url_patterns))


@pytest.fixture
def rows(tenant, clinic, provider):
    """One row of each kind a URL can point to, each kind in its own id range."""
    with connection.cursor() as cursor:
        for thousands, model in enumerate(
            (
                Session,
                SessionParticipant,
                Appointment,
                Patient,
                Consent,
                PsychologySession,
                SessionSeries,
                WaitlistEntry,
                ProviderLeave,
                Guardian,
                Reminder,
            ),
            start=1,
        ):
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)",
                [model._meta.db_table, thousands * 1000],
            )
    session = group_session(provider, clinic)
    participant = booked(session)
    full = group_session(provider, clinic, hour=13, capacity=2)
    booked(full)
    booked(full)
    return {
        "waitlist": SessionService.add_to_waitlist(full, consented_patient(tenant)),
        "series": group_series(provider, clinic),
        "leave": ProviderLeave.objects.create(
            provider=provider,
            starts_at=timezone.now() + datetime.timedelta(days=30),
            ends_at=timezone.now() + datetime.timedelta(days=31),
            reason="Training",
        ),
        "session": session,
        "participant": participant,
        "appointment": legacy_appointment(provider, clinic),
        "patient": participant.patient,
        "consent": participant.patient.consents.get(),
        "guardian": GuardianFactory(patient=participant.patient),
        # A reminder as the planner writes it (pending): "Try again" answers it isn't failed.
        "reminder": Reminder.objects.create(
            tenant=tenant,
            participant=participant,
            channel=Guardian.Channel.SMS,
            scheduled_start=timezone.now() + datetime.timedelta(days=1),
            send_after=timezone.now(),
        ),
        "note": NoteService.create_note(
            PsychologySession, participant=booked(session), provider=provider, presenting_issues="Worries"
        ),
    }


# URLs whose name doesn't start with the kind of row their <pk> is.
ROW_KIND_OF = {"appointments:calendar_move": "session", "core:guardian_add": "patient"}
# URL parameters that name no row: which report, which file format.
FIXED_PARAMETERS = {
    "reports:report": {"key": "finance"},
    # Any token will do for the walks: a page about no row (a bad token's answer is the same for all).
    "family:link": {"token": "not-a-token"},
    "reports:export": {"key": "notes_queue", "fmt": "csv"},
}


def row_kind(name: str) -> str:
    """The kind of row the ``pk`` of URL ``name`` is: its name's first word (``session_detail``)."""
    return ROW_KIND_OF.get(name, name.split(":")[-1].split("_")[0])


def url_for(name: str, pattern: URLPattern, rows: dict) -> str:
    """Reverse ``name``, taking ``pk`` from the row its URL name starts with (``session_...``).

    Each kind of row has its own id range (see ``rows``), so a URL given the wrong
    kind of row answers 404 and the matrix test fails. A note's URL also names its
    discipline (``specialty``).
    """
    kwargs = {}
    for parameter in pattern.pattern.converters:
        if parameter in FIXED_PARAMETERS.get(name, {}):
            kwargs[parameter] = FIXED_PARAMETERS[name][parameter]
            continue
        assert parameter in ("pk", "specialty"), f"{name}: teach url_for about the <{parameter}> parameter"
        kind = row_kind(name)
        assert kind in rows, f"{name}: teach url_for which row <{parameter}> of this URL is"
        kwargs[parameter] = getattr(rows[kind], parameter)
    return reverse(name, kwargs=kwargs)


def login_as(client, role: str, tenant, session_provider: User | None = None) -> User:
    """Sign in a user of ``role`` working in ``tenant`` (a superuser has picked it);
    ``SESSION_PROVIDER`` signs in ``session_provider``, the user of the rows' provider."""
    if role == SESSION_PROVIDER:
        assert session_provider is not None, "login_as: whose session? (session_provider)"
        # Logging out ends every session of the user (core.privileges): the session hash
        # needs the generation the last logout left.
        session_provider.refresh_from_db(fields=["session_generation"])
        client.force_login(session_provider)
        return session_provider
    if role == "superuser":
        user = superuser()
    elif role == "no_role":
        user = staff_member(tenant, "")
    else:
        user = staff_member(tenant, role)
    if role in SPECIALTY_OF_ROLE:
        ProviderFactory(clinic=ClinicFactory(tenant=tenant, specialty=SPECIALTY_OF_ROLE[role]), user=user)
    client.force_login(user)
    if role == "superuser":
        work_in(client, tenant)
    return user


def test_every_url_of_the_site_is_in_the_matrix_or_public_on_purpose():
    names = set(walked_urls())

    assert names == set(MATRIX) | PUBLIC_URL_NAMES


def test_only_the_intended_pages_skip_the_login_requirement():
    public = {
        name
        for name, pattern in walked_urls().items()
        if getattr(pattern.callback, "login_required", True) is False
    }

    assert public == PUBLIC_URL_NAMES


def test_anonymous_is_sent_to_login_from_every_url(client, rows):
    urls = {
        name: url_for(name, pattern, rows)
        for name, pattern in walked_urls().items()
        if name not in PUBLIC_URL_NAMES
    }
    login = reverse("login")

    for method in ("get", "post"):
        outcome = {name: getattr(client, method)(url) for name, url in urls.items()}
        assert {name: (r.status_code, r.url) for name, r in outcome.items()} == {
            name: (302, f"{login}?next={url}") for name, url in urls.items()
        }


def test_login_and_language_pages_answer_anonymous_users(client):
    assert client.get(reverse("login")).status_code == 200
    assert (
        client.post(reverse("set_language"), {"language": "ar", "next": "/accounts/login/"}).status_code
        == 302
    )


def verdict(status: int) -> str | int:
    """A page answered (or redirected, after a POST): allowed; a 403: forbidden; else the status."""
    return "allowed" if status in (200, 302) else "forbidden" if status == 403 else status


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_permission_matrix_role_by_page(client, tenant, rows, name):
    method, allowed = MATRIX[name]
    url = url_for(name, walked_urls()[name], rows)

    outcome = {}
    for role in ROLES:
        login_as(client, role, tenant, session_provider=rows["session"].provider.user)
        outcome[role] = verdict(getattr(client, method)(url).status_code)
        client.logout()

    assert outcome == {role: "allowed" if role in allowed else "forbidden" for role in ROLES}


CLINICAL_URL_NAMES = sorted(name for name, (_method, allowed) in MATRIX.items() if allowed is CLINICAL)


@pytest.mark.parametrize(
    "specialty", [Clinic.Specialty.SLP, Clinic.Specialty.MEDICAL, Clinic.Specialty.NURSING]
)
def test_permission_matrix_sessions_of_a_discipline_without_clinicians_are_run_by_administrators_only(
    client, tenant, specialty
):
    # No clinician role belongs to speech therapy, medicine or nursing: not even the
    # session's own provider (a user with a clinician role here) may run it.
    clinic = ClinicFactory(tenant=tenant, specialty=specialty)
    provider = ProviderFactory(clinic=clinic, user=staff_member(tenant, Role.PSYCHOLOGIST))
    session = group_session(provider, clinic)
    rows = {
        "session": session,
        "participant": booked(session),
        "appointment": legacy_appointment(provider, clinic),
    }

    outcome = {}
    for name in CLINICAL_URL_NAMES:
        url = url_for(name, walked_urls()[name], rows)
        for role in ROLES:
            login_as(client, role, tenant, session_provider=provider.user)
            outcome[name, role] = verdict(getattr(client, MATRIX[name][0])(url).status_code)
            client.logout()

    assert len(CLINICAL_URL_NAMES) == 8
    assert outcome == {
        (name, role): "allowed" if role in ("superuser", Role.ADMIN) else "forbidden"
        for name in CLINICAL_URL_NAMES
        for role in ROLES
    }


JUNK = {
    "reason": "x" * 5000 + "\x00",
    "max_capacity": "¿",
    "group_notes": "\x00",
    "patient": "'; drop table\x00",
    "clinic": "-1",
    "provider": "1e9",
    "room": "[]",
    "scheduled_date": "0000-00-00",
    "scheduled_time": "25:61",
    "duration": "-5",
    "date_from": "2024-02-30",
    "day": "tomorrow",
    "q": "%" * 200 + "\x00",
    "service_type": "\x00",
    "signed_by": "\x00",
    "page": "99999",
    "next": "javascript:alert(1)",
}


@pytest.mark.parametrize("name", sorted(MATRIX))
def test_junk_input_never_breaks_a_page(client, rows, name):
    method, allowed = MATRIX[name]
    if "superuser" in allowed:
        writer = superuser()
        ProviderFactory(clinic=rows["session"].clinic, user=writer)  # so the note-writing pages answer too
        client.force_login(writer)
        work_in(client, rows["session"].clinic.tenant)  # else every page redirects to the organisation picker
    else:
        # A page for clinicians only (breaking the glass): the rows' own psychologist.
        login_as(client, SESSION_PROVIDER, rows["session"].clinic.tenant, rows["session"].provider.user)
    url = url_for(name, walked_urls()[name], rows)

    statuses = {getattr(client, method)(url, JUNK).status_code, client.post(url, JUNK).status_code}

    assert statuses <= {200, 302, 405}


def test_forbidden_page_says_why_in_the_sites_layout(client, tenant):
    login_as(client, Role.FINANCE, tenant)

    response = client.get(reverse("appointments:session_create"))

    assert response.status_code == 403
    assert "Your role does not allow this page or action." in response.content.decode()


def row_url_names() -> list[str]:
    return sorted(name for name, pattern in walked_urls().items() if "pk" in pattern.pattern.converters)


def test_every_row_url_of_another_organisation_is_404(client, rows):
    foreign_admin = staff_member(TenantFactory(code="OTHER"), Role.ADMIN)
    client.force_login(foreign_admin)

    outcome = {}
    for name in row_url_names():
        method = MATRIX[name][0]
        outcome[name] = getattr(client, method)(url_for(name, walked_urls()[name], rows)).status_code

    assert outcome == dict.fromkeys(row_url_names(), 404)


def test_every_row_url_with_an_unknown_id_is_404(client, tenant):
    client.force_login(staff_member(tenant, Role.ADMIN))
    missing = dict.fromkeys(
        (
            "session",
            "participant",
            "appointment",
            "patient",
            "consent",
            "series",
            "waitlist",
            "leave",
            "reminder",
            "guardian",
        ),
        SimpleNamespace(pk=987654),
    )
    missing["note"] = SimpleNamespace(pk=987654, specialty=Clinic.Specialty.PSYCHOLOGY)

    outcome = {}
    for name in row_url_names():
        outcome[name] = getattr(client, MATRIX[name][0])(
            url_for(name, walked_urls()[name], missing)
        ).status_code

    assert outcome == dict.fromkeys(row_url_names(), 404)


def test_superuser_sees_only_the_organisation_they_picked(client, rows):
    other = TenantFactory(code="OTHER")
    foreign_clinic = ClinicFactory(tenant=other)
    foreign = group_session(ProviderFactory(clinic=foreign_clinic), foreign_clinic)
    client.force_login(superuser())

    first = client.get(reverse("appointments:session_list"))
    client.post(reverse("core:tenant_pick"), {"tenant": other.pk})
    listed = client.get(reverse("appointments:session_list")).context["page_obj"].object_list

    assert first.url == reverse("core:tenant_pick") + "?next=%2Fappointments%2Fsessions%2F"
    assert set(listed) == {foreign}
    assert client.get(foreign.get_absolute_url()).status_code == 200
    assert client.get(rows["session"].get_absolute_url()).status_code == 404


def test_user_without_organisation_sees_no_rows(client, rows):
    client.force_login(staff_member(None, Role.FRONT_DESK))

    listed = client.get(reverse("appointments:session_list")).context["page_obj"].object_list

    assert list(listed) == []
    assert client.get(rows["session"].get_absolute_url()).status_code == 404
    assert client.get(reverse("core:patient_chart", args=[rows["patient"].pk])).status_code == 404


def test_consent_rows_follow_the_patients_organisation(client, tenant):
    foreign_patient = consented_patient(TenantFactory(code="OTHER"))
    ConsentFactory(patient=foreign_patient)
    client.force_login(staff_member(tenant, Role.FRONT_DESK))

    response = client.post(reverse("core:consent_revoke", args=[foreign_patient.consents.first().pk]))

    assert response.status_code == 404
    assert foreign_patient.consents.filter(revoked_at__isnull=False).count() == 0


def test_superuser_of_no_organisation_is_sent_to_the_organisation_picker_from_every_staff_page(client, rows):
    client.force_login(superuser())
    staff_pages = {
        name: url_for(name, pattern, rows)
        for name, pattern in walked_urls().items()
        if name not in PUBLIC_URL_NAMES | PAGES_WITHOUT_TENANT
    }
    pick = reverse("core:tenant_pick")

    outcome = {name: getattr(client, MATRIX[name][0])(url) for name, url in staff_pages.items()}

    assert {name: (r.status_code, r.url) for name, r in outcome.items()} == {
        name: (302, f"{pick}?{urlencode({'next': url})}") for name, url in staff_pages.items()
    }
