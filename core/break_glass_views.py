"""The break-the-glass page: a clinician gives a reason and reads one child's other notes for an hour."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.formats import time_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from core.break_glass import GRANT_DURATION, active_grant, can_break_glass, start_break_glass
from core.forms import BreakGlassForm
from core.models import Patient
from core.permissions import StaffRequest


@require_http_methods(["GET", "POST"])
def patient_break_glass(request: StaffRequest, pk: int) -> HttpResponse:
    """GET: what breaking the glass means, and the reason form; POST: start the grant, back to the chart.

    404 for another organisation's patient, as for an unknown one (whoever asks); then 403
    for anyone but a clinician (administrators read every note already).
    """
    patient = get_object_or_404(Patient.objects.for_user(request.user), pk=pk)
    if not can_break_glass(request.user):
        raise PermissionDenied
    grant = active_grant(request.user, patient.pk)
    form = BreakGlassForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and grant is None and form.is_valid():
        try:
            grant = start_break_glass(user=request.user, patient=patient, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            form.add_error("reason", error)
        else:
            until = time_format(localtime(grant.expires_at))
            message = _(
                "Break-the-glass access until %(time)s: you may read this child's notes of every discipline."
            )
            messages.warning(request, message % {"time": until})
            return redirect("core:patient_chart", pk=patient.pk)
    context = {
        "patient": patient,
        "form": form,
        "grant": grant,
        "minutes": int(GRANT_DURATION.total_seconds() // 60),
    }
    return render(request, "core/patient_break_glass.html", context)
