"""Read queries of the patient pages: tenant-scoped, fixed numbers of queries."""

import datetime
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from appointments.models import Appointment, SessionParticipant
from appointments.selectors import patient_appointments, patient_participations
from core.models import Consent, Patient, User
from core.permissions import scope_to_tenant

SEARCHED_FIELDS = ("mrn", "first_name_en", "last_name_en", "first_name_ar", "last_name_ar")


def search_patients(user: User, query: str) -> QuerySet[Patient]:
    """Patients whose MRN or English/Arabic names contain every word of ``query``."""
    patients = scope_to_tenant(Patient.objects.all(), user)
    for word in query.split():
        matches_word = Q()
        for field in SEARCHED_FIELDS:
            matches_word |= Q(**{f"{field}__icontains": word})
        patients = patients.filter(matches_word)
    return patients.order_by("last_name_en", "first_name_en", "pk")


@dataclass
class PatientChart:
    upcoming_participations: list[SessionParticipant]
    past_participations: list[SessionParticipant]
    upcoming_appointments: list[Appointment]
    past_appointments: list[Appointment]
    consents: list[Consent]


def chart_for_patient(patient: Patient, today: datetime.date) -> PatientChart:
    """Bookings split at ``today`` (today counts as upcoming; past ones newest first), consents."""
    participations = list(patient_participations(patient))
    appointments = list(patient_appointments(patient))
    consents = list(patient.consents.order_by("-signed_at", "pk"))
    for consent in consents:
        consent.valid_today = consent.is_valid_on(today)
    return PatientChart(
        upcoming_participations=[p for p in participations if p.session.scheduled_date >= today],
        past_participations=[p for p in reversed(participations) if p.session.scheduled_date < today],
        upcoming_appointments=[a for a in appointments if a.scheduled_date >= today],
        past_appointments=[a for a in reversed(appointments) if a.scheduled_date < today],
        consents=consents,
    )
