"""seed_demo: the demo organisation is complete, idempotent and safe by default."""

import pytest
from django.core.management import CommandError, call_command

from appointments.models import Appointment, Session, SessionParticipant
from core.models import Consent, Patient, User

pytestmark = pytest.mark.django_db


def _counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (User, Patient, Consent, Session, SessionParticipant, Appointment)
    }


def test_seed_demo_creates_every_status_once(capsys):
    # when
    call_command("seed_demo", "--force", verbosity=0)
    first = _counts()
    call_command("seed_demo", "--force", verbosity=0)

    # then
    assert _counts() == first
    assert first["Patient"] == 60
    assert Patient.objects.exclude(first_name_ar="").count() == 60
    assert set(Session.objects.values_list("status", flat=True)) == set(Session.Status.values)
    assert set(Session.objects.values_list("session_type", flat=True)) == set(Session.SessionType.values)
    assert set(SessionParticipant.objects.values_list("status", flat=True)) == set(
        SessionParticipant.Status.values
    )
    assert set(Appointment.objects.values_list("status", flat=True)) == set(Appointment.Status.values)
    assert {role for role in User.objects.values_list("role", flat=True)} == set(User.Role.values)
    output = capsys.readouterr().out
    assert "Demo data already loaded; nothing changed." in output
    assert "frontdesk / demo12345" in output


def test_seed_demo_dry_run_writes_nothing(capsys):
    before = _counts()

    call_command("seed_demo", "--force", "--dry-run", verbosity=0)

    assert _counts() == before
    assert "Dry run (rolled back): would create 60 patients" in capsys.readouterr().out


def test_seed_demo_refuses_known_passwords_without_debug():
    with pytest.raises(CommandError, match="Refusing to create demo logins with DEBUG off"):
        call_command("seed_demo", verbosity=0)
