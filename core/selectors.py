"""Read queries of the patient pages: tenant-scoped, fixed numbers of queries."""

from django.db.models import Q, QuerySet

from core.models import Patient, User
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
