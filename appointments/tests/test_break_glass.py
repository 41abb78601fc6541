"""Break the glass on the pages: a clinician's grant opens one child's other notes, read only, for an hour."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from appointments.notes.services import NoteService
from appointments.tests.factories import under_way
from core import clock
from core.access_log import read_under_break_glass
from core.break_glass import GRANT_DURATION, start_break_glass
from core.models import AccessLog, BreakGlassGrant, Clinic, User
from core.tests.factories import ClinicFactory, ProviderFactory, TenantFactory
from core.tests.view_helpers import booked, consented_patient, group_session, staff_member
from ot.models import OTSession
from psychology.models import PsychologySession

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

Role = User.Role
OT_CONTENT = {"activities": "Obstacle course", "sensory_observations": "Seeks deep pressure"}
REASON = "Child in crisis at the front desk; OT colleague away today"


@pytest.fixture
def child(tenant):
    return consented_patient(tenant)


@pytest.fixture
def ot_note(tenant, child):
    ot_clinic = ClinicFactory(tenant=tenant, specialty=Clinic.Specialty.OT)
    ot_provider = ProviderFactory(clinic=ot_clinic)
    participant = booked(group_session(ot_provider, ot_clinic), child)
    return NoteService.create_note(OTSession, participant=participant, provider=ot_provider, **OT_CONTENT)


@pytest.fixture
def psychologist(provider):
    """A psychologist with a provider profile (the conftest's clinic is a psychology clinic)."""
    return provider.user


def note_url(note, action: str = "detail") -> str:
    return reverse(f"notes:note_{action}", args=[note.specialty, note.pk])


def chart_url(patient) -> str:
    return reverse("core:patient_chart", args=[patient.pk])


def break_glass_url(patient) -> str:
    return reverse("core:patient_break_glass", args=[patient.pk])


def test_other_disciplines_note_is_refused_before_the_grant_and_read_only_after(
    client, psychologist, child, ot_note
):
    client.force_login(psychologist)
    before = client.get(note_url(ot_note))

    start_break_glass(user=psychologist, patient=child, reason=REASON)
    after = client.get(note_url(ot_note))

    assert before.status_code == 403
    assert after.status_code == 200
    html = after.content.decode()
    assert "Obstacle course" in html
    assert 'data-testid="break-glass-read"' in html
    for action in ("edit", "sign", "add_addendum"):
        assert note_url(ot_note, action) not in html
    assert read_under_break_glass(after.wsgi_request.user)
    assert not read_under_break_glass(before.wsgi_request.user)


def test_a_read_under_the_grant_is_logged_as_break_glass(client, psychologist, child, ot_note):
    client.force_login(psychologist)
    start_break_glass(user=psychologist, patient=child, reason=REASON)

    client.get(note_url(ot_note))

    row = AccessLog.objects.get(object_type="ot_note")
    assert (row.action, row.user, row.patient_id, row.object_id) == (
        AccessLog.Action.BREAK_GLASS,
        psychologist,
        child.pk,
        str(ot_note.pk),
    )


def test_own_discipline_read_is_not_a_break_glass_read_while_a_grant_runs(
    client, psychologist, provider, clinic, child, ot_note
):
    own = NoteService.create_note(
        PsychologySession,
        participant=booked(group_session(provider, clinic, hour=14), child),
        provider=provider,
        presenting_issues="Worries",
    )
    client.force_login(psychologist)
    start_break_glass(user=psychologist, patient=child, reason=REASON)

    response = client.get(note_url(own))

    assert response.status_code == 200
    assert not read_under_break_glass(response.wsgi_request.user)
    assert AccessLog.objects.get(object_type="psychology_note").action == AccessLog.Action.VIEW


def test_the_chart_lists_the_other_disciplines_notes_only_under_the_grant(
    client, psychologist, child, ot_note
):
    client.force_login(psychologist)
    before = client.get(chart_url(child))

    start_break_glass(user=psychologist, patient=child, reason=REASON)
    after = client.get(chart_url(child))

    assert ot_note not in before.context["notes"]
    assert 'data-testid="break-glass"' in before.content.decode()
    assert not read_under_break_glass(before.wsgi_request.user)
    assert ot_note in after.context["notes"]
    assert 'data-testid="break-glass-running"' in after.content.decode()
    assert read_under_break_glass(after.wsgi_request.user)
    assert AccessLog.objects.filter(object_type="patient", action=AccessLog.Action.BREAK_GLASS).count() == 1


def test_the_grant_never_opens_writing_signing_or_addenda(client, psychologist, child, ot_note):
    signed = NoteService.create_note(
        OTSession,
        participant=under_way(
            booked(
                group_session(ot_note.provider, ot_note.session.clinic, hour=15),
                consented_patient(child.tenant),
            )
        ),
        provider=ot_note.provider,
        activities="Swing",
    )
    start_break_glass(user=psychologist, patient=signed.patient, reason=REASON)
    start_break_glass(user=psychologist, patient=child, reason=REASON)
    signed = NoteService.sign_note(signed, user=signed.provider.user)
    client.force_login(psychologist)

    outcome = {
        "edit": client.get(note_url(ot_note, "edit")).status_code,
        "edit_post": client.post(note_url(ot_note, "edit"), {"version": ot_note.version}).status_code,
        "sign": client.post(note_url(ot_note, "sign"), {"version": ot_note.version}).status_code,
        "sign_page": client.get(note_url(ot_note, "sign")).status_code,
        "addendum": client.post(
            note_url(signed, "add_addendum"), {"text": "Seen", "version": signed.version}
        ).status_code,
        "write": client.get(
            reverse("notes:participant_note_write", args=[ot_note.session_participant_id])
        ).status_code,
    }

    assert outcome == dict.fromkeys(outcome, 403)
    ot_note.refresh_from_db()
    assert not ot_note.is_signed
    assert signed.addenda.count() == 0


def test_the_grant_ends_after_sixty_minutes(client, psychologist, child, ot_note):
    grant = start_break_glass(user=psychologist, patient=child, reason=REASON)

    # Signed in afresh at each moment: the grant's end is under test, not the session's.
    with time_machine.travel(grant.started_at + GRANT_DURATION - datetime.timedelta(seconds=1), tick=False):
        client.force_login(psychologist)
        last_second = client.get(note_url(ot_note)).status_code
    with time_machine.travel(grant.started_at + GRANT_DURATION, tick=False):
        client.force_login(psychologist)
        expired = client.get(note_url(ot_note)).status_code
        chart = client.get(chart_url(child))

    assert grant.expires_at - grant.started_at == datetime.timedelta(minutes=60)
    assert (last_second, expired) == (200, 403)
    assert ot_note not in chart.context["notes"]


def test_a_grant_opens_only_its_own_childs_notes(client, psychologist, tenant, child, ot_note):
    other_child = consented_patient(tenant)
    start_break_glass(user=psychologist, patient=other_child, reason=REASON)
    client.force_login(psychologist)

    assert client.get(note_url(ot_note)).status_code == 403


def test_a_grant_ends_when_its_holder_is_no_longer_a_clinician(client, psychologist, child, ot_note):
    start_break_glass(user=psychologist, patient=child, reason=REASON)
    psychologist.role = Role.FRONT_DESK
    psychologist.save()
    client.force_login(psychologist)

    assert client.get(note_url(ot_note)).status_code == 403


@pytest.mark.parametrize("role", [Role.PSYCHOLOGIST, Role.OCCUPATIONAL_THERAPIST, Role.ABA_THERAPIST])
def test_page_starts_a_grant_for_a_clinician_with_a_reason(client, tenant, child, role):
    clinician = staff_member(tenant, role)
    client.force_login(clinician)

    form = client.get(break_glass_url(child))
    response = client.post(break_glass_url(child), {"reason": f"  {REASON}  "})

    assert form.status_code == 200
    assert response.status_code == 302
    assert response.url == chart_url(child)
    grant = BreakGlassGrant.objects.get()
    assert (grant.user, grant.patient, grant.tenant, grant.reason) == (clinician, child, tenant, REASON)
    assert grant.history.get().history_user == clinician
    assert grant.expires_at == grant.started_at + GRANT_DURATION
    assert 'data-testid="break-glass-running"' in client.get(break_glass_url(child)).content.decode()


@pytest.mark.parametrize("reason", ["", "   ", "\x00", "x" * 2001])
def test_page_refuses_a_missing_or_unusable_reason(client, psychologist, child, reason):
    client.force_login(psychologist)

    response = client.post(break_glass_url(child), {"reason": reason})

    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    assert not BreakGlassGrant.objects.exists()


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.FINANCE, Role.ADMIN, ""])
def test_page_is_forbidden_to_anyone_but_a_clinician(client, tenant, child, role):
    client.force_login(staff_member(tenant, role))

    assert client.get(break_glass_url(child)).status_code == 403
    assert client.post(break_glass_url(child), {"reason": REASON}).status_code == 403
    assert 'data-testid="break-glass"' not in client.get(chart_url(child)).content.decode()
    assert not BreakGlassGrant.objects.exists()


def test_page_answers_another_organisations_patient_as_unknown(client, psychologist):
    foreign_child = consented_patient(TenantFactory(code="OTHER"))
    client.force_login(psychologist)

    assert client.post(break_glass_url(foreign_child), {"reason": REASON}).status_code == 404
    assert client.get(reverse("core:patient_break_glass", args=[987654])).status_code == 404
    assert not BreakGlassGrant.objects.exists()


def test_page_with_a_running_grant_starts_no_second_one(client, psychologist, child):
    client.force_login(psychologist)
    client.post(break_glass_url(child), {"reason": REASON})

    again = client.post(break_glass_url(child), {"reason": "Again"})

    assert again.status_code == 200
    assert BreakGlassGrant.objects.count() == 1
    assert clock.now() < BreakGlassGrant.objects.get().expires_at
