"""Home page by role and the patient pages (search, chart, registration, consents)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from appointments.selectors import (
    appointments_on,
    clearance_queue_appointments,
    clearance_queue_participants,
    participant_status_counts,
    sessions_on,
)
from core.forms import ConsentForm, PatientForm, PatientSearchForm
from core.models import User
from core.note_access import patient_notes_context
from core.patient_service import PatientService
from core.permissions import (
    CLINICIAN_ROLES,
    Capability,
    access_consent,
    access_patient,
    is_admin,
    require_capability,
)
from core.selectors import chart_for_patient, search_patients

PAGE_SIZE = 25
QUEUE_SIZE = 50


def _posted(request: HttpRequest):
    """Form data of a POST (even an empty one, so its errors show), None on GET."""
    return request.POST if request.method == "POST" else None


def _schedule_today(user: User, provider_user: User | None = None) -> dict:
    today = timezone.localdate()
    sessions = list(sessions_on(user, today, provider_user))
    return {
        "today": today,
        "sessions": sessions,
        "appointments": list(appointments_on(user, today, provider_user)),
        "status_counts": participant_status_counts(user, today, provider_user),
        "open_group_seats": sum(s.available_spots for s in sessions if s.is_group and s.is_open),
    }


def _clearance_queue(user: User) -> dict:
    today = timezone.localdate()
    participants = clearance_queue_participants(user, today)
    appointments = clearance_queue_appointments(user, today)
    return {
        "today": today,
        "queue_participants": list(participants[:QUEUE_SIZE]),
        "queue_appointments": list(appointments[:QUEUE_SIZE]),
        "queue_total": participants.count() + appointments.count(),
        "queue_today": participants.filter(session__scheduled_date=today).count()
        + appointments.filter(scheduled_date=today).count(),
    }


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Front desk: today's schedule; clinician: my sessions today; finance: clearance queue; admin: both."""
    user = request.user
    if is_admin(user):
        context = {"view": "admin", **_schedule_today(user), **_clearance_queue(user)}
    elif user.role == User.Role.FINANCE:
        context = {"view": "finance", **_clearance_queue(user)}
    elif user.role in CLINICIAN_ROLES:
        context = {"view": "clinician", **_schedule_today(user, provider_user=user)}
    elif user.role == User.Role.FRONT_DESK:
        context = {"view": "front_desk", **_schedule_today(user)}
    else:
        context = {"view": "no_role", "today": timezone.localdate()}
    return render(request, "core/home.html", context)


@require_capability(Capability.VIEW_PATIENTS)
@require_GET
def patient_search(request: HttpRequest) -> HttpResponse:
    form = PatientSearchForm(request.GET)
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    page_obj = Paginator(search_patients(request.user, query), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "core/patient_search.html", {"form": form, "query": query, "page_obj": page_obj})


@require_capability(Capability.REGISTER_PATIENTS)
def patient_create(request: HttpRequest) -> HttpResponse:
    form = PatientForm(_posted(request), user=request.user)
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        tenant = fields.pop("tenant", None) or request.user.tenant
        try:
            patient = PatientService.register_patient(tenant=tenant, **fields, user=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Patient %(name)s registered.") % {"name": patient.full_name_en})
            return redirect("core:patient_chart", pk=patient.pk)
    return render(request, "core/patient_create.html", {"form": form})


@require_capability(Capability.VIEW_PATIENTS)
@require_GET
def patient_chart(request: HttpRequest, pk: int) -> HttpResponse:
    patient = access_patient(request.user, pk)
    context = {
        "patient": patient,
        "chart": chart_for_patient(patient, timezone.localdate()),
        **patient_notes_context(patient, request.user),
    }
    return render(request, "core/patient_chart.html", context)


@require_capability(Capability.MANAGE_CONSENTS)
def patient_add_consent(request: HttpRequest, pk: int) -> HttpResponse:
    patient = access_patient(request.user, pk, Capability.MANAGE_CONSENTS)
    form = ConsentForm(
        _posted(request), initial={"signed_on": timezone.localdate(), "signed_by": patient.guardian_name}
    )
    if request.method == "POST" and form.is_valid():
        try:
            PatientService.add_consent(
                patient,
                consent_type=form.cleaned_data["consent_type"],
                signed_by=form.cleaned_data["signed_by"],
                signed_at=form.signed_at(),
                expires_at=form.expires_at(),
                user=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Consent recorded."))
            return redirect("core:patient_chart", pk=patient.pk)
    return render(request, "core/patient_add_consent.html", {"patient": patient, "form": form})


@require_capability(Capability.MANAGE_CONSENTS)
@require_POST
def consent_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    consent = access_consent(request.user, pk)
    try:
        PatientService.revoke_consent(consent, user=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Consent revoked."))
    return redirect("core:patient_chart", pk=consent.patient_id)
