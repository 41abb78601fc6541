"""The seed's "How It Works" / Example 2 flow and Example 3 queries, as written, on real PostgreSQL."""

import datetime
import re
from datetime import date, timedelta

import pytest
from django.utils import timezone

from appointments.models import Session, SessionParticipant
from appointments.session_service import SessionService
from core.models import User
from core.tests.factories import ConsentFactory, PatientFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]


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


def test_seed_example_3_queries_group_sessions_and_available_ones(clinic, provider):
    # given one open group, one full group and one individual session in the next month
    today = date.today()
    open_group = SessionService.create_group_session(
        provider=provider,
        clinic=clinic,
        scheduled_date=today + timedelta(days=1),
        scheduled_time=datetime.time(10, 0),
        duration=60,
        service_type="Group Therapy",
        max_capacity=8,
    )
    full_group = SessionService.create_group_session(
        provider=provider,
        clinic=clinic,
        scheduled_date=today + timedelta(days=2),
        scheduled_time=datetime.time(10, 0),
        duration=60,
        service_type="Group Therapy",
        max_capacity=2,
    )
    for _ in range(2):
        SessionService.add_patient_to_session(
            session=full_group, patient=PatientFactory(tenant=clinic.tenant)
        )
    SessionService.create_individual_session(
        provider=provider,
        clinic=clinic,
        patient=PatientFactory(tenant=clinic.tenant),
        scheduled_date=today + timedelta(days=3),
        scheduled_time=datetime.time(10, 0),
        duration=60,
        service_type="Individual Therapy",
    )

    # when the seed's queries run
    group_sessions = Session.objects.filter(
        session_type=Session.SessionType.GROUP, status=Session.Status.SCHEDULED
    )
    available = SessionService.get_available_group_sessions(
        clinic=clinic, date_from=date.today(), date_to=date.today() + timedelta(days=30)
    )

    # then every scheduled group is listed, and only the one with seats is available
    assert set(group_sessions) == {open_group, full_group}
    assert list(available) == [open_group]
