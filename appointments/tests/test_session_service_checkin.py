"""SessionService.check_in_participant and clear_finance: the gates at the front desk."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.utils import timezone
from django.utils.formats import date_format

from appointments.exceptions import CheckInBlocked, InvalidTransition
from appointments.models import SessionParticipant
from appointments.session_service import SessionService
from appointments.tests.factories import GroupSessionFactory, ParticipantFactory, finance_clerk
from core.clock import today as clinic_today
from core.models import Clinic, Consent
from core.tests.factories import ClinicFactory, ConsentFactory, ProviderFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]


def clinic_midday(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(12, 0), tzinfo=timezone.get_default_timezone())


def short(day: datetime.date) -> str:
    return date_format(day, "SHORT_DATE_FORMAT")


@pytest.fixture
def clerk(tenant):
    return finance_clerk(tenant)


@pytest.fixture
def participant(provider, clinic):
    return ParticipantFactory(session=GroupSessionFactory(provider=provider, clinic=clinic))


def finance_message(participant):
    name = participant.patient.full_name_en
    return f"Finance clearance is missing for {name}: ask finance to clear the visit."


def test_check_in_participant_refused_without_finance_clearance(participant):
    ConsentFactory(patient=participant.patient)

    with pytest.raises(CheckInBlocked) as refused:
        SessionService.check_in_participant(participant)

    assert refused.value.messages == [finance_message(participant)]
    participant.refresh_from_db()
    assert participant.status == SessionParticipant.Status.BOOKED
    assert participant.arrived_at is None


def test_check_in_participant_refused_without_any_consent(participant, clerk):
    SessionService.clear_finance(participant, user=clerk)

    with pytest.raises(CheckInBlocked) as refused:
        SessionService.check_in_participant(participant)

    assert refused.value.messages == [f"No valid consent on file for {participant.patient.full_name_en}."]


def test_check_in_participant_refused_with_expired_consent(participant, clerk):
    expired_on = clinic_today() - datetime.timedelta(days=10)
    ConsentFactory(patient=participant.patient, expires_at=clinic_midday(expired_on))
    SessionService.clear_finance(participant, user=clerk)

    with pytest.raises(CheckInBlocked) as refused:
        SessionService.check_in_participant(participant)

    assert refused.value.messages == [
        f"The consent of {participant.patient.full_name_en} expired on {short(expired_on)}."
    ]


def test_check_in_participant_refused_with_revoked_consent(participant, clerk):
    revoked_on = clinic_today() - datetime.timedelta(days=2)
    ConsentFactory(patient=participant.patient, revoked_at=clinic_midday(revoked_on))
    SessionService.clear_finance(participant, user=clerk)

    with pytest.raises(CheckInBlocked) as refused:
        SessionService.check_in_participant(participant)

    assert refused.value.messages == [
        f"The consent of {participant.patient.full_name_en} was revoked on {short(revoked_on)}."
    ]


def test_check_in_participant_refused_with_consent_revoked_earlier_today(participant, clerk):
    ConsentFactory(patient=participant.patient, revoked_at=timezone.now())
    SessionService.clear_finance(participant, user=clerk)

    with pytest.raises(CheckInBlocked) as refused:
        SessionService.check_in_participant(participant)

    assert refused.value.messages == [
        f"The consent of {participant.patient.full_name_en} was revoked on {short(clinic_today())}."
    ]


def test_check_in_participant_refused_with_consent_signed_after_the_session_day(provider, clinic, clerk):
    yesterday = clinic_today() - datetime.timedelta(days=1)
    participant = ParticipantFactory(
        session=GroupSessionFactory(provider=provider, clinic=clinic, scheduled_date=yesterday)
    )
    ConsentFactory(patient=participant.patient, signed_at=timezone.now())
    SessionService.clear_finance(participant, user=clerk)

    with pytest.raises(CheckInBlocked) as refused:
        SessionService.check_in_participant(participant)

    assert refused.value.messages == [
        f"No valid consent on file for {participant.patient.full_name_en} on {short(yesterday)}."
    ]


def test_check_in_participant_both_missing_names_both(participant):
    with pytest.raises(CheckInBlocked) as refused:
        SessionService.check_in_participant(participant)

    assert refused.value.messages == [
        finance_message(participant),
        f"No valid consent on file for {participant.patient.full_name_en}.",
    ]


def test_check_in_participant_accepted_with_finance_and_consent(participant, clerk):
    ConsentFactory(patient=participant.patient)
    SessionService.clear_finance(participant, user=clerk)

    returned = SessionService.check_in_participant(participant, user=clerk)

    assert returned is participant
    participant.refresh_from_db()
    assert participant.status == SessionParticipant.Status.ARRIVED
    assert participant.consent_verified
    assert participant.consent_verified_at is not None
    assert participant.arrived_at is not None
    assert participant.history.latest().history_user == clerk


def test_check_in_participant_accepted_with_a_newer_consent_beside_an_expired_one(participant, clerk):
    long_ago = clinic_today() - datetime.timedelta(days=800)
    ConsentFactory(
        patient=participant.patient,
        signed_at=clinic_midday(long_ago),
        expires_at=clinic_midday(long_ago + datetime.timedelta(days=365)),
    )
    ConsentFactory(
        patient=participant.patient, signed_at=clinic_midday(long_ago + datetime.timedelta(days=366))
    )
    SessionService.clear_finance(participant, user=clerk)

    SessionService.check_in_participant(participant)

    assert participant.status == SessionParticipant.Status.ARRIVED


def test_check_in_participant_accepted_in_an_in_progress_session(participant, clerk):
    ConsentFactory(patient=participant.patient)
    SessionService.clear_finance(participant, user=clerk)
    SessionService.start_session(participant.session)

    SessionService.check_in_participant(participant)

    assert participant.status == SessionParticipant.Status.ARRIVED


def test_check_in_participant_accepted_after_the_session_day(provider, clinic, clerk):
    last_week = clinic_today() - datetime.timedelta(days=7)
    participant = ParticipantFactory(
        session=GroupSessionFactory(provider=provider, clinic=clinic, scheduled_date=last_week)
    )
    ConsentFactory(patient=participant.patient, signed_at=clinic_midday(last_week))
    SessionService.clear_finance(participant, user=clerk)

    SessionService.check_in_participant(participant)

    assert participant.status == SessionParticipant.Status.ARRIVED


def test_check_in_participant_specialty_consent_covers_its_own_clinic(provider, clinic, clerk):
    participant = ParticipantFactory(session=GroupSessionFactory(provider=provider, clinic=clinic))
    ConsentFactory(patient=participant.patient, consent_type=Consent.ConsentType.PSYCHOLOGY)
    SessionService.clear_finance(participant, user=clerk)

    SessionService.check_in_participant(participant)

    assert participant.consent_verified


def test_check_in_participant_specialty_consent_does_not_cover_another_clinic(tenant, clerk):
    ot_clinic = ClinicFactory(tenant=tenant, specialty=Clinic.Specialty.OT)
    participant = ParticipantFactory(
        session=GroupSessionFactory(clinic=ot_clinic, provider=ProviderFactory(clinic=ot_clinic))
    )
    ConsentFactory(patient=participant.patient, consent_type=Consent.ConsentType.PSYCHOLOGY)
    SessionService.clear_finance(participant, user=clerk)

    with pytest.raises(CheckInBlocked) as refused:
        SessionService.check_in_participant(participant)

    assert refused.value.messages == [f"No valid consent on file for {participant.patient.full_name_en}."]


def test_check_in_participant_refused_on_cancelled_session(participant, clerk):
    ConsentFactory(patient=participant.patient)
    SessionService.clear_finance(participant, user=clerk)
    SessionService.cancel_session(participant.session, reason="Therapist ill")

    with pytest.raises(CheckInBlocked) as refused:
        SessionService.check_in_participant(participant)

    assert refused.value.messages == ["Check-in is closed: the session is cancelled."]


def test_check_in_participant_refused_on_completed_session(participant, clerk):
    ConsentFactory(patient=participant.patient)
    SessionService.clear_finance(participant, user=clerk)
    SessionService.complete_session(participant.session)

    with pytest.raises(CheckInBlocked) as refused:
        SessionService.check_in_participant(participant)

    assert refused.value.messages == ["Check-in is closed: the session is completed."]
    participant.refresh_from_db()
    assert participant.status == SessionParticipant.Status.NO_SHOW


def test_check_in_participant_refused_before_the_session_day(provider, clinic, clerk):
    tomorrow = clinic_today() + datetime.timedelta(days=1)
    participant = ParticipantFactory(
        session=GroupSessionFactory(provider=provider, clinic=clinic, scheduled_date=tomorrow)
    )
    ConsentFactory(patient=participant.patient)
    SessionService.clear_finance(participant, user=clerk)

    with pytest.raises(CheckInBlocked) as refused:
        SessionService.check_in_participant(participant)

    assert refused.value.messages == [f"Check-in opens on the day of the visit ({short(tomorrow)})."]


def test_check_in_participant_opens_at_midnight_clinic_time_whatever_zone_is_active(provider, clinic, clerk):
    visit_day = datetime.date(2025, 11, 15)
    participant = ParticipantFactory(
        session=GroupSessionFactory(provider=provider, clinic=clinic, scheduled_date=visit_day)
    )
    ConsentFactory(
        patient=participant.patient, signed_at=clinic_midday(visit_day - datetime.timedelta(days=90))
    )
    SessionService.clear_finance(participant, user=clerk)
    # 21:30 UTC on the 14th is 00:30 on the 15th in Riyadh: the visit day has begun.
    just_after_midnight = datetime.datetime(2025, 11, 14, 21, 30, tzinfo=datetime.UTC)

    with time_machine.travel(just_after_midnight, tick=False), timezone.override("UTC"):
        SessionService.check_in_participant(participant)

    assert participant.status == SessionParticipant.Status.ARRIVED


def test_check_in_participant_clinic_without_requirements_checks_in_directly(tenant):
    open_clinic = ClinicFactory(tenant=tenant, requires_finance_clearance=False, requires_consent=False)
    participant = ParticipantFactory(
        session=GroupSessionFactory(clinic=open_clinic, provider=ProviderFactory(clinic=open_clinic))
    )

    SessionService.check_in_participant(participant)

    participant.refresh_from_db()
    assert participant.status == SessionParticipant.Status.ARRIVED
    assert not participant.finance_cleared
    assert not participant.consent_verified
    assert participant.consent_verified_at is None


def test_check_in_participant_clinic_without_requirements_still_records_a_valid_consent(tenant):
    open_clinic = ClinicFactory(tenant=tenant, requires_finance_clearance=False, requires_consent=False)
    participant = ParticipantFactory(
        session=GroupSessionFactory(clinic=open_clinic, provider=ProviderFactory(clinic=open_clinic))
    )
    ConsentFactory(patient=participant.patient)

    SessionService.check_in_participant(participant)

    assert participant.consent_verified


def test_check_in_participant_clinic_needing_only_consent_ignores_finance(tenant):
    consent_clinic = ClinicFactory(tenant=tenant, requires_finance_clearance=False)
    participant = ParticipantFactory(
        session=GroupSessionFactory(clinic=consent_clinic, provider=ProviderFactory(clinic=consent_clinic))
    )

    with pytest.raises(CheckInBlocked) as refused:
        SessionService.check_in_participant(participant)

    assert refused.value.messages == [f"No valid consent on file for {participant.patient.full_name_en}."]


def test_check_in_participant_twice_raises_invalid_transition(participant, clerk):
    ConsentFactory(patient=participant.patient)
    SessionService.clear_finance(participant, user=clerk)
    SessionService.check_in_participant(participant)

    with pytest.raises(InvalidTransition) as refused:
        SessionService.check_in_participant(participant)

    assert refused.value.messages == [f"{participant.patient.full_name_en} is already checked in."]


def test_check_in_participant_cancelled_booking_raises_invalid_transition(participant, clerk):
    ConsentFactory(patient=participant.patient)
    SessionService.clear_finance(participant, user=clerk)
    SessionService.cancel_participant(participant, reason="Family travelling")

    with pytest.raises(InvalidTransition) as refused:
        SessionService.check_in_participant(participant)

    assert refused.value.messages == [
        f"{participant.patient.full_name_en} can't be checked in: the booking is marked cancelled."
    ]


def test_check_in_participant_no_show_raises_invalid_transition(participant):
    SessionService.mark_participant_no_show(participant)

    with pytest.raises(InvalidTransition) as refused:
        SessionService.check_in_participant(participant)

    assert refused.value.messages == [
        f"{participant.patient.full_name_en} can't be checked in: the booking is marked no-show."
    ]


def test_clear_finance_records_who_and_when(participant, clerk):
    SessionService.clear_finance(participant, user=clerk)

    participant.refresh_from_db()
    assert participant.finance_cleared
    assert participant.finance_cleared_by == clerk
    assert participant.finance_cleared_at is not None
    assert participant.history.latest().history_user == clerk


def test_clear_finance_twice_keeps_the_first_clearance(participant, clerk, tenant):
    SessionService.clear_finance(participant, user=clerk)
    first_at = participant.finance_cleared_at

    SessionService.clear_finance(participant, user=finance_clerk(tenant))

    participant.refresh_from_db()
    assert participant.finance_cleared_by == clerk
    assert participant.finance_cleared_at == first_at
    assert participant.history.count() == 2


def test_clear_finance_cancelled_participant_refused(participant, clerk):
    SessionService.cancel_participant(participant, reason="Booked by mistake")

    with pytest.raises(InvalidTransition) as refused:
        SessionService.clear_finance(participant, user=clerk)

    assert refused.value.messages == ["Finance can't clear a participation that is cancelled."]


@pytest.mark.parametrize(("others", "consents"), [(0, 1), (12, 4)])
def test_check_in_participant_takes_four_statements_whatever_is_booked(
    provider, clinic, clerk, django_assert_num_queries, others, consents
):
    session = GroupSessionFactory(provider=provider, clinic=clinic, max_capacity=20)
    participant = ParticipantFactory(session=session)
    for _ in range(others):
        ParticipantFactory(session=session)
    for _ in range(consents):
        ConsentFactory(patient=participant.patient)
    SessionService.clear_finance(participant, user=clerk)

    # Lock the session and the participant, read the consents, update the participant with
    # its history row; the test's transaction adds a savepoint pair.
    with django_assert_num_queries(4 + 2):
        SessionService.check_in_participant(participant, user=clerk)

    assert participant.status == SessionParticipant.Status.ARRIVED
    latest = participant.history.latest()
    assert latest.history_user == clerk
    assert latest.history_type == "~"
    assert (latest.status, latest.arrived_at, latest.consent_verified, latest.finance_cleared) == (
        SessionParticipant.Status.ARRIVED,
        participant.arrived_at,
        True,
        True,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT row_hash FROM appointments_historicalsessionparticipant WHERE history_id = %s",
            [latest.history_id],
        )
        assert cursor.fetchone()[0] is not None
