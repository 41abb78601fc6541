"""Read queries of the patient pages: tenant-scoped, fixed numbers of queries."""

from django.db.models import Q, QuerySet

from core.models import Patient, User, normalise_mrn

NAME_FIELDS = ("first_name_en", "last_name_en", "first_name_ar", "last_name_ar")


def search_patients(user: User, query: str) -> QuerySet[Patient]:
    """Patients whose MRN or English/Arabic names contain every word of ``query``.

    An MRN typed with Arabic digits finds the MRN (stored with ASCII digits).
    """
    patients = Patient.objects.for_user(user)
    for word in query.split():
        matches_word = Q(mrn__icontains=normalise_mrn(word))
        for field in NAME_FIELDS:
            matches_word |= Q(**{f"{field}__icontains": word})
        patients = patients.filter(matches_word)
    return patients.order_by("last_name_en", "first_name_en", "pk")
