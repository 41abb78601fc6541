"""core.break_glass: who may start a grant, for how long, and the administrators' acknowledgement."""

import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError

from core import clock
from core.break_glass import (
    GRANT_DURATION,
    acknowledge_grant,
    active_grant,
    can_break_glass,
    start_break_glass,
)
from core.models import BreakGlassGrant, User
from core.tests.factories import PatientFactory, TenantFactory
from core.tests.view_helpers import staff_member, superuser

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

Role = User.Role
REASON = "Crisis call from the school; the ABA therapist is on leave"


@pytest.fixture
def child(tenant):
    return PatientFactory(tenant=tenant)


@pytest.fixture
def psychologist(tenant):
    return staff_member(tenant, Role.PSYCHOLOGIST)


def refusal(call) -> str:
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value.code


@pytest.mark.parametrize("role", [Role.PSYCHOLOGIST, Role.OCCUPATIONAL_THERAPIST, Role.ABA_THERAPIST])
def test_start_gives_a_clinician_sixty_minutes_from_now(tenant, child, role):
    clinician = staff_member(tenant, role)

    grant = start_break_glass(user=clinician, patient=child, reason=f"\n {REASON} ")

    assert (grant.tenant, grant.user, grant.patient, grant.reason) == (tenant, clinician, child, REASON)
    assert grant.started_at <= clock.now()
    assert grant.expires_at - grant.started_at == GRANT_DURATION == datetime.timedelta(minutes=60)
    assert grant.history.get().history_user == clinician
    assert active_grant(clinician, child.pk) == grant


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.FINANCE, Role.ADMIN, ""])
def test_start_is_refused_to_anyone_but_a_clinician(tenant, child, role):
    user = staff_member(tenant, role)

    assert refusal(lambda: start_break_glass(user=user, patient=child, reason=REASON)) == "not_clinician"
    assert not BreakGlassGrant.objects.exists()


def test_start_is_refused_to_a_superuser_and_an_inactive_clinician(tenant, child):
    inactive = staff_member(tenant, Role.PSYCHOLOGIST, is_active=False)
    root = superuser()
    root.role = Role.PSYCHOLOGIST
    root.acting_tenant_id = tenant.pk

    assert refusal(lambda: start_break_glass(user=root, patient=child, reason=REASON)) == "not_clinician"
    assert refusal(lambda: start_break_glass(user=inactive, patient=child, reason=REASON)) == "not_clinician"
    assert not can_break_glass(staff_member(None, Role.PSYCHOLOGIST))


def test_start_is_refused_for_another_organisations_patient(psychologist):
    foreign_child = PatientFactory(tenant=TenantFactory(code="OTHER"))

    code = refusal(lambda: start_break_glass(user=psychologist, patient=foreign_child, reason=REASON))

    assert code == "other_tenant"
    assert not BreakGlassGrant.objects.exists()


@pytest.mark.parametrize(
    ("reason", "code"),
    [("", "reason_required"), (" \n\t ", "reason_required"), ("x" * 2001, "reason_too_long")],
)
def test_start_needs_a_reason(psychologist, child, reason, code):
    assert refusal(lambda: start_break_glass(user=psychologist, patient=child, reason=reason)) == code
    assert not BreakGlassGrant.objects.exists()


def test_start_refuses_a_second_grant_while_one_runs_and_allows_one_after(psychologist, child):
    first = start_break_glass(user=psychologist, patient=child, reason=REASON)

    with pytest.raises(ValidationError) as caught:
        start_break_glass(user=psychologist, patient=child, reason=REASON)
    with time_machine.travel(first.expires_at, tick=False):
        second = start_break_glass(user=psychologist, patient=child, reason=REASON)

    assert caught.value.code == "already_running"
    assert "until" in caught.value.messages[0]
    assert second.started_at == first.expires_at


def test_active_grant_is_the_holders_for_that_patient_until_it_expires(tenant, psychologist, child):
    grant = start_break_glass(user=psychologist, patient=child, reason=REASON)
    colleague = staff_member(tenant, Role.PSYCHOLOGIST)

    with time_machine.travel(grant.expires_at - datetime.timedelta(microseconds=1), tick=False):
        running = active_grant(psychologist, child.pk)
    with time_machine.travel(grant.expires_at, tick=False):
        expired = active_grant(psychologist, child.pk)

    assert running == grant
    assert expired is None
    assert active_grant(colleague, child.pk) is None
    assert active_grant(psychologist, PatientFactory(tenant=tenant).pk) is None


def test_active_grant_ends_when_the_holder_changes_organisation(psychologist, child):
    start_break_glass(user=psychologist, patient=child, reason=REASON)
    psychologist.tenant = TenantFactory(code="OTHER")
    psychologist.save()

    assert active_grant(psychologist, child.pk) is None


def test_acknowledge_records_the_administrator_once(tenant, psychologist, child):
    grant = start_break_glass(user=psychologist, patient=child, reason=REASON)
    admin = staff_member(tenant, Role.ADMIN)
    other_admin = staff_member(tenant, Role.ADMIN)

    acknowledged = acknowledge_grant(grant.pk, user=admin)
    with pytest.raises(ValidationError) as again:
        acknowledge_grant(grant.pk, user=other_admin)

    grant.refresh_from_db()
    assert grant.acknowledged_by == admin
    assert grant.started_at <= grant.acknowledged_at <= clock.now()
    assert acknowledged.acknowledged_at == grant.acknowledged_at
    assert again.value.code == "already_acknowledged"
    assert grant.history.latest().history_user == admin
    assert grant.history.latest().acknowledged_by == admin


def test_acknowledge_is_refused_to_non_administrators_and_other_organisations(tenant, psychologist, child):
    grant = start_break_glass(user=psychologist, patient=child, reason=REASON)
    foreign_admin = staff_member(TenantFactory(code="OTHER"), Role.ADMIN)

    codes = {
        role: refusal(lambda role=role: acknowledge_grant(grant.pk, user=staff_member(tenant, role)))
        for role in (Role.FRONT_DESK, Role.FINANCE, Role.PSYCHOLOGIST)
    }
    codes["own"] = refusal(lambda: acknowledge_grant(grant.pk, user=psychologist))
    codes["foreign admin"] = refusal(lambda: acknowledge_grant(grant.pk, user=foreign_admin))
    codes["unknown"] = refusal(lambda: acknowledge_grant(987654, user=staff_member(tenant, Role.ADMIN)))

    assert codes == {
        Role.FRONT_DESK: "not_admin",
        Role.FINANCE: "not_admin",
        Role.PSYCHOLOGIST: "not_admin",
        "own": "not_admin",
        "foreign admin": "not_found",
        "unknown": "not_found",
    }
    grant.refresh_from_db()
    assert grant.acknowledged_at is None


def test_acknowledge_by_a_superuser_of_the_platform(psychologist, child):
    grant = start_break_glass(user=psychologist, patient=child, reason=REASON)
    root = superuser()

    assert acknowledge_grant(grant.pk, user=root).acknowledged_by == root
