"""The front desk's leave pages (list, record, the bookings a leave covers) and the free-slot search.

Thin views: a form, one service call, a domain error on the form or in messages, redirect.
Leave and free slots are the front desk's and administrators' (``Capability.BOOK``); a
leave of another organisation is answered as an unknown one (404).
"""

import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from appointments.exceptions import SchedulingError
from appointments.leave_forms import FreeSlotsForm, LeaveFilterForm, LeaveForm, LeaveMovesForm
from appointments.leave_selectors import LeaveBooking, leave_to_list
from appointments.leave_service import (
    LeaveError,
    MoveResult,
    bookings_under_leave,
    move_bookings,
    record_leave,
)
from appointments.session_service import SessionService
from core import bidi, clock
from core.forms import PatientSearchForm
from core.models import Patient, ProviderLeave, User
from core.permissions import Capability, StaffRequest, check_capability, require_capability
from core.selectors import search_patients
from core.service_names import service_name

PAGE_SIZE = 25
PATIENT_RESULTS = 20
FREE_SLOT_LIMIT = 20


def _posted(request: HttpRequest) -> QueryDict | None:
    return request.POST if request.method == "POST" else None


def access_leave(user: User, pk: int) -> ProviderLeave:
    """Leave ``pk`` for the front desk: 403 for other roles, 404 outside the user's organisation."""
    check_capability(user, Capability.BOOK)
    leave = ProviderLeave.objects.for_user(user).select_related("provider__user", "created_by")
    return get_object_or_404(leave, pk=pk)


@require_capability(Capability.BOOK)
@require_GET
def leave_list(request: StaffRequest) -> HttpResponse:
    form = LeaveFilterForm(request.GET, user=request.user)
    leave = leave_to_list(request.user, now=clock.now(), provider=form.provider_filter())
    page_obj = Paginator(leave, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "appointments/leave_list.html", {"form": form, "page_obj": page_obj})


@require_capability(Capability.BOOK)
@require_http_methods(["GET", "POST"])
def leave_create(request: StaffRequest) -> HttpResponse:
    form = LeaveForm(_posted(request), user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            leave = record_leave(**form.leave_values(), user=request.user)
        except LeaveError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Leave recorded. Any booking inside it is listed below."))
            return redirect("appointments:leave_detail", pk=leave.pk)
    return render(request, "appointments/leave_create.html", {"form": form})


def _booking_label(request: HttpRequest, booking: LeaveBooking) -> str:
    return _("%(day)s %(time)s %(service)s (%(children)s)") % {
        "day": date_format(booking.scheduled_date, "D d/m/Y"),
        "time": time_format(booking.scheduled_time, "H:i"),
        "service": service_name(request, booking.booking.service_type),
        "children": ", ".join(patient.full_name for patient in booking.patients) or _("no child booked"),
    }


def _report(request: HttpRequest, result: MoveResult) -> None:
    words = {"booking": _booking_label(request, result.booking)}
    moved_to = result.moved_to
    if not result.ok:
        messages.error(
            request,
            bidi.with_isolates(
                _("%(booking)s: refused: %(reasons)s"), {**words, "reasons": " ".join(result.errors)}
            ),
        )
    elif moved_to is None:
        messages.success(request, bidi.with_isolates(_("%(booking)s: cancelled."), words))
    else:
        messages.success(
            request,
            bidi.with_isolates(
                _("%(booking)s: moved to %(day)s %(time)s with %(provider)s."),
                {
                    **words,
                    "day": date_format(moved_to, "D d/m/Y"),
                    "time": time_format(moved_to, "H:i"),
                    "provider": result.provider,
                },
            ),
        )


@require_capability(Capability.BOOK)
@require_http_methods(["GET", "POST"])
def leave_detail(request: StaffRequest, pk: int) -> HttpResponse:
    """The leave and every booking under it; a post moves or cancels the chosen ones, each reported."""
    leave = access_leave(request.user, pk)
    bookings = bookings_under_leave(leave)
    form = LeaveMovesForm(_posted(request), leave=leave, bookings=bookings, user=request.user)
    if request.method == "POST" and form.is_valid():
        for result in move_bookings(leave, items=form.items(), user=request.user):
            _report(request, result)
        return redirect("appointments:leave_detail", pk=leave.pk)
    return render(request, "appointments/leave_detail.html", {"leave": leave, "form": form})


def _booking_links(form: FreeSlotsForm, slot: datetime.datetime) -> dict[str, str]:
    """The booking forms prefilled with the slot, the clinic, the provider and room chosen and,
    for an individual session, the one child chosen."""
    data = form.cleaned_data
    local = timezone.localtime(slot, timezone.get_default_timezone())
    initial = {
        "clinic": data["clinic"].pk,
        "scheduled_date": local.date().isoformat(),
        "scheduled_time": local.strftime("%H:%M"),
        "duration": data["duration"],
    }
    for name in ("provider", "room"):
        if data[name] is not None:
            initial[name] = data[name].pk
    individual = dict(initial)
    if len(data["patients"]) == 1:
        individual["patient"] = data["patients"][0].mrn
    return {
        "individual": f"{reverse('appointments:session_book_individual')}?{urlencode(individual)}",
        "group": f"{reverse('appointments:session_create')}?{urlencode(initial)}",
    }


@require_capability(Capability.BOOK)
@require_GET
def free_slots(request: StaffRequest) -> HttpResponse:
    """Free start times for a booking: every rule applied (``SessionService.find_free_slots``)."""
    form = FreeSlotsForm(request.GET if "clinic" in request.GET else None, user=request.user)
    slots = None
    if form.is_valid():
        try:
            found = SessionService.find_free_slots(**form.search(), limit=FREE_SLOT_LIMIT)
        except SchedulingError as error:
            form.add_error(None, error)
        else:
            slots = [{"at": slot, "links": _booking_links(form, slot)} for slot in found]
    chosen: list[Patient] = list(form.cleaned_data.get("patients", [])) if form.is_bound else []
    search = PatientSearchForm(request.GET)
    query = search.cleaned_data["q"].strip() if search.is_valid() else ""
    found_patients = []
    if query:
        found_patients = list(
            search_patients(request.user, query).exclude(pk__in=[p.pk for p in chosen])[:PATIENT_RESULTS]
        )
    context = {
        "form": form,
        "slots": slots,
        "chosen_patients": chosen,
        "search": search,
        "query": query,
        "found_patients": found_patients,
    }
    return render(request, "appointments/free_slots.html", context)
