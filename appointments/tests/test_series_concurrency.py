"""Series under simultaneous requests: real threads on committed rows, released by a barrier."""

import datetime
from collections import Counter

import pytest

from appointments.exceptions import SeriesClashError
from appointments.models import SeriesEnrolment, Session, SessionParticipant
from appointments.series_service import DateClash, SeriesService
from appointments.tests.threads import run_together
from core.tests.factories import PatientFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("frozen_today")]

TUESDAYS = [datetime.date(2026, 3, 17) + datetime.timedelta(weeks=i) for i in range(3)]


def test_series_concurrency_two_enrolments_race_for_the_last_seat(provider, clinic):
    series = SeriesService.create_series(
        session_type=Session.SessionType.GROUP,
        provider=provider,
        clinic=clinic,
        service_type="Social Skills Group",
        start_date=TUESDAYS[0],
        scheduled_time=datetime.time(10),
        occurrence_count=3,
        max_capacity=2,
    )
    SeriesService.enrol_patient(series, PatientFactory(tenant=clinic.tenant))
    racers = [PatientFactory(tenant=clinic.tenant) for _ in range(2)]

    outcomes = run_together(
        [lambda child=child: SeriesService.enrol_patient(series, child) for child in racers]
    )

    assert Counter(type(outcome).__name__ for outcome in outcomes) == {
        "SeriesEnrolment": 1,
        "SeriesClashError": 1,
    }
    refused = next(outcome for outcome in outcomes if isinstance(outcome, SeriesClashError))
    assert refused.clashes == [DateClash(day, ("Full (2/2).",)) for day in TUESDAYS]
    winner = next(outcome for outcome in outcomes if isinstance(outcome, SeriesEnrolment))
    assert SeriesEnrolment.objects.count() == 2
    for session in series.sessions.all():
        assert session.current_capacity == 2
    seated = SessionParticipant.objects.filter(session__series=series).values_list("patient_id", flat=True)
    assert Counter(seated)[winner.patient_id] == 3
    assert set(seated) & {child.pk for child in racers} == {winner.patient_id}
