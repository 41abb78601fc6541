"""The guardian pages of the chart: add, edit, and who changed what and when.

Front desk and administrators (``Capability.REGISTER_PATIENTS``, the capability that edits
patients) write through ``GuardianService``; another organisation's patient or guardian is a 404.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from core import bidi
from core.forms import GuardianForm
from core.guardian_service import GuardianDetails, GuardianService
from core.models import Guardian
from core.permissions import Capability, StaffRequest, access_guardian, access_patient, require_capability
from core.selectors import guardian_history


def _posted(request: HttpRequest) -> QueryDict | None:
    return request.POST if request.method == "POST" else None


def _saved(request: StaffRequest, guardian: Guardian, message: str) -> HttpResponse:
    messages.success(request, bidi.with_isolates(message, {"name": guardian.name}))
    return redirect("core:patient_chart", pk=guardian.patient_id)


@require_capability(Capability.REGISTER_PATIENTS)
def guardian_add(request: StaffRequest, pk: int) -> HttpResponse:
    patient = access_patient(request.user, pk, Capability.REGISTER_PATIENTS)
    is_first = not patient.guardians.exists()
    form = GuardianForm(
        _posted(request), initial={"is_primary": is_first, "may_receive_appointment_info": True}
    )
    if request.method == "POST" and form.is_valid():
        try:
            guardian = GuardianService.add_guardian(
                patient, GuardianDetails(**form.cleaned_data), user=request.user
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return _saved(request, guardian, _("Guardian %(name)s added."))
    return render(request, "core/guardian_form.html", {"patient": patient, "form": form, "guardian": None})


@require_capability(Capability.REGISTER_PATIENTS)
def guardian_edit(request: StaffRequest, pk: int) -> HttpResponse:
    guardian = access_guardian(request.user, pk)
    form = GuardianForm(_posted(request), initial=GuardianForm.initial_of(guardian))
    if request.method == "POST" and form.is_valid():
        try:
            GuardianService.update_guardian(guardian, GuardianDetails(**form.cleaned_data), user=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return _saved(request, guardian, _("Guardian %(name)s saved."))
    context = {"patient": guardian.patient, "form": form, "guardian": guardian}
    return render(request, "core/guardian_form.html", context)


@require_capability(Capability.REGISTER_PATIENTS)
@require_GET
def guardian_history_page(request: StaffRequest, pk: int) -> HttpResponse:
    guardian = access_guardian(request.user, pk)
    context = {"patient": guardian.patient, "guardian": guardian, "versions": guardian_history(guardian)}
    return render(request, "core/guardian_history.html", context)
