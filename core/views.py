"""The patient pages: search, registration and consents (the chart shows bookings: it is in appointments);
the page where a superuser picks the organisation they work in; and the session's time left."""

from typing import cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core import bidi, clock
from core.form_fields import LocalPathField
from core.forms import ConsentForm, PatientForm, PatientSearchForm, TenantPickForm
from core.middleware import ACTING_TENANT_SESSION_KEY
from core.models import Tenant
from core.patient_service import PatientService
from core.permissions import (
    Capability,
    StaffRequest,
    access_consent,
    access_patient,
    effective_tenant_id,
    require_capability,
)
from core.selectors import search_patients
from core.session_timeout import seconds_left

PAGE_SIZE = 25


def _posted(request: HttpRequest) -> QueryDict | None:
    """Form data of a POST (even an empty one, so its errors show), None on GET."""
    return request.POST if request.method == "POST" else None


@require_capability(Capability.VIEW_PATIENTS)
@require_GET
def patient_search(request: StaffRequest) -> HttpResponse:
    form = PatientSearchForm(request.GET)
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    page_obj = Paginator(search_patients(request.user, query), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "core/patient_search.html", {"form": form, "query": query, "page_obj": page_obj})


@require_capability(Capability.REGISTER_PATIENTS)
def patient_create(request: StaffRequest) -> HttpResponse:
    form = PatientForm(_posted(request), user=request.user)
    if request.method == "POST" and form.is_valid():
        # A valid PatientForm has the organisation the user works in.
        tenant = cast(Tenant, form.tenant)
        try:
            patient = PatientService.register_patient(tenant=tenant, **form.cleaned_data, user=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, bidi.with_isolates(_("Patient %(name)s registered."), {"name": patient.full_name})
            )
            return redirect("core:patient_chart", pk=patient.pk)
    return render(request, "core/patient_create.html", {"form": form})


@require_capability(Capability.MANAGE_CONSENTS)
def patient_add_consent(request: StaffRequest, pk: int) -> HttpResponse:
    patient = access_patient(request.user, pk, Capability.MANAGE_CONSENTS)
    primary = patient.guardians.filter(is_primary=True).first()
    form = ConsentForm(
        _posted(request), initial={"signed_on": clock.today(), "signed_by": primary.name if primary else ""}
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
def consent_revoke(request: StaffRequest, pk: int) -> HttpResponse:
    consent = access_consent(request.user, pk)
    try:
        PatientService.revoke_consent(consent, user=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Consent revoked."))
    return redirect("core:patient_chart", pk=consent.patient_id)


def tenant_pick(request: StaffRequest) -> HttpResponse:
    """A superuser picks the organisation whose staff pages they work in (kept in the session)."""
    if not request.user.is_superuser:
        # Staff work in their own organisation; there is nothing to pick.
        raise PermissionDenied
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    # A page of this site only: another site's address, or one without a "/" (which
    # redirect() would look up as a URL name and fail on), goes home instead.
    next_field = LocalPathField(allowed_hosts={request.get_host()}, require_https=request.is_secure())
    try:
        next_url = next_field.clean(next_url) or reverse("home")
    except ValidationError:
        next_url = reverse("home")
    form = TenantPickForm(_posted(request), initial={"tenant": effective_tenant_id(request.user)})
    if request.method == "POST" and form.is_valid():
        tenant = form.cleaned_data["tenant"]
        request.session[ACTING_TENANT_SESSION_KEY] = tenant.pk
        messages.success(
            request, bidi.with_isolates(_("You are working in %(organisation)s."), {"organisation": tenant})
        )
        return redirect(next_url)
    return render(request, "core/tenant_pick.html", {"form": form, "next": next_url})


@require_http_methods(["GET", "POST"])
def session_status(request: StaffRequest) -> JsonResponse:
    """How long the session has left (``static/js/idle.js``).

    The page asks with a background GET, which doesn't count as activity; "Stay signed
    in" POSTs, which does (``core.session_timeout``).
    """
    return JsonResponse({"seconds_left": seconds_left(request)})
