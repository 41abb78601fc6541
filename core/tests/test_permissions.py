"""The role rules of ``core.permissions`` on their own, without the database: who runs a session."""

import pytest
from django.contrib.auth.models import AnonymousUser

from core.models import Clinic, User
from core.permissions import can_read_group_notes, can_run_session, has_capability

Role = User.Role
Specialty = Clinic.Specialty
PROVIDER_USER_ID = 7


def user(role: str, pk: int = 1, **fields) -> User:
    return User(pk=pk, username=f"user{pk}", role=role, **fields)


@pytest.mark.parametrize(
    ("who", "specialty", "runs"),
    [
        # its own provider, a clinician covering in its discipline, an administrator
        (user(Role.PSYCHOLOGIST, pk=PROVIDER_USER_ID), Specialty.PSYCHOLOGY, True),
        (user(Role.PSYCHOLOGIST), Specialty.PSYCHOLOGY, True),
        (user(Role.OCCUPATIONAL_THERAPIST), Specialty.OT, True),
        (user(Role.ABA_THERAPIST), Specialty.ABA, True),
        (user(Role.ADMIN), Specialty.PSYCHOLOGY, True),
        (user(Role.FRONT_DESK, is_superuser=True), Specialty.PSYCHOLOGY, True),
        # its provider counts even when their role is of another discipline
        (user(Role.OCCUPATIONAL_THERAPIST, pk=PROVIDER_USER_ID), Specialty.PSYCHOLOGY, True),
        # clinicians of another discipline, front desk and finance: never
        (user(Role.OCCUPATIONAL_THERAPIST), Specialty.PSYCHOLOGY, False),
        (user(Role.ABA_THERAPIST), Specialty.PSYCHOLOGY, False),
        (user(Role.FRONT_DESK), Specialty.PSYCHOLOGY, False),
        (user(Role.FINANCE), Specialty.PSYCHOLOGY, False),
        (user(Role.FRONT_DESK, pk=PROVIDER_USER_ID), Specialty.PSYCHOLOGY, False),
        (user(""), Specialty.PSYCHOLOGY, False),
        # disciplines no clinician role belongs to: administrators only, not even the provider
        (user(Role.PSYCHOLOGIST, pk=PROVIDER_USER_ID), Specialty.SLP, False),
        (user(Role.PSYCHOLOGIST), Specialty.MEDICAL, False),
        (user(Role.ADMIN), Specialty.NURSING, True),
        # no longer active, or not signed in
        (user(Role.PSYCHOLOGIST, pk=PROVIDER_USER_ID, is_active=False), Specialty.PSYCHOLOGY, False),
        (user(Role.ADMIN, is_active=False), Specialty.PSYCHOLOGY, False),
        (AnonymousUser(), Specialty.PSYCHOLOGY, False),
    ],
)
def test_can_run_session_belongs_to_its_clinicians_and_administrators(who, specialty, runs):
    assert can_run_session(who, specialty, PROVIDER_USER_ID) is runs


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.FINANCE])
def test_can_run_session_capability_is_not_the_front_desks_or_finances(role):
    assert has_capability(user(role), "run_session") is False


@pytest.mark.parametrize(
    ("who", "specialty", "reads"),
    [
        (user(Role.PSYCHOLOGIST), Specialty.PSYCHOLOGY, True),
        (user(Role.ADMIN), Specialty.SLP, True),
        (user(Role.OCCUPATIONAL_THERAPIST, pk=PROVIDER_USER_ID), Specialty.PSYCHOLOGY, True),
        (user(Role.OCCUPATIONAL_THERAPIST), Specialty.PSYCHOLOGY, False),
        (user(Role.FRONT_DESK), Specialty.PSYCHOLOGY, False),
        (user(Role.FINANCE), Specialty.PSYCHOLOGY, False),
        (user(Role.PSYCHOLOGIST, pk=PROVIDER_USER_ID), Specialty.SLP, False),
        (AnonymousUser(), Specialty.PSYCHOLOGY, False),
    ],
)
def test_can_read_group_notes_follows_the_discipline(who, specialty, reads):
    assert can_read_group_notes(who, specialty, PROVIDER_USER_ID) is reads
