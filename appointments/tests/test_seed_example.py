"""The seed's "How It Works" / Example 2 flow, as written, on real PostgreSQL."""

import datetime
import re

import pytest
from django.utils import timezone

from appointments.models import Session, SessionParticipant
from appointments.session_service import SessionService
from core.models import User
from core.tests.factories import ConsentFactory, PatientFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_seed_example_2_group_session_end_to_end(clinic, provider):
    # given three consented patients and a finance clerk
    patients = [PatientFactory(tenant=clinic.tenant) for _ in range(3)]
    for patient in patients:
        ConsentFactory(patient=patient)
    clerk = UserFactory(tenant=clinic.tenant, role=User.Role.FINANCE)

    # when the seed's steps run
    session = SessionService.create_group_session(
        provider=provider,
        clinic=clinic,
        scheduled_date=datetime.date(2025, 11, 15),
        scheduled_time=datetime.time(14, 0),
        duration=90,
        service_type="Social Skills Group",
        max_capacity=6,
        group_notes="Focus on peer interaction skills",
    )
    participants = [SessionService.add_patient_to_session(session=session, patient=p) for p in patients]
    for participant in participants:
        SessionService.clear_finance(participant, user=clerk)
        SessionService.check_in_participant(participant)
    for participant in participants:
        SessionService.mark_participant_attended(participant)
    SessionService.complete_session(session)

    # then numbers are sequential, everyone attended, the session completed, history kept
    year = timezone.localdate().year
    numbers = [p.appointment_number for p in participants]
    assert all(re.fullmatch(rf"APT-AGDAR-{year}-\d{{5}}", n) for n in numbers)
    assert [int(n[-5:]) for n in numbers] == [1, 2, 3]
    session.refresh_from_db()
    assert session.status == Session.Status.COMPLETED
    assert session.current_capacity == 3
    assert session.available_spots == 3
    assert set(session.participants.values_list("status", flat=True)) == {SessionParticipant.Status.ATTENDED}
    history = participants[0].history.order_by("history_date").values_list("status", flat=True)
    assert list(history) == ["booked", "booked", "arrived", "attended"]
    assert participants[0].history.filter(history_user=clerk).exists()
    assert list(session.history.order_by("history_date").values_list("status", flat=True)) == [
        "scheduled",
        "completed",
    ]
