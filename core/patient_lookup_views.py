"""The booking forms' patient picker (``static/js/patient_picker.js``) asks here: JSON, not a page."""

from django.http import JsonResponse
from django.utils.formats import date_format
from django.views.decorators.http import require_GET

from core.forms import PatientSearchForm
from core.models import Patient
from core.permissions import Capability, StaffRequest, require_capability
from core.selectors import lookup_patients


def picker_row(patient: Patient) -> dict[str, int | str]:
    """What the picker shows of one child: the name in the page's language, then the other one."""
    name = patient.full_name
    return {
        "id": patient.pk,
        "mrn": patient.mrn,
        "name": name,
        "name_other": patient.full_name_ar if name == patient.full_name_en else patient.full_name_en,
        "date_of_birth": date_format(patient.date_of_birth, "SHORT_DATE_FORMAT"),
        # search_patients prefetches the primary guardian (a list of at most one).
        "phone": next((guardian.phone for guardian in patient.primary_guardians), ""),  # type: ignore[attr-defined]
    }


@require_capability(Capability.BOOK)
@require_GET
def patient_lookup(request: StaffRequest) -> JsonResponse:
    """``?q=``: up to 20 children of the user's organisation, from 2 characters (else none).

    Each search writes one access-log row (``logs_access`` in core/urls.py), the query kept in it.
    """
    form = PatientSearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    return JsonResponse(
        {"results": [picker_row(patient) for patient in lookup_patients(request.user, query)]}
    )
