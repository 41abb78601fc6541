"""The waiting list's pages: put a child on a full session's (or a series') list, and act on an entry.

Views are thin: parse a form, call one ``SessionService`` method, show a domain error on the
form or as messages, redirect. All of it is the front desk's (``Capability.BOOK``); the list
itself is shown on the session page, to everyone who sees the session. Reordering the list
is for administrators, in Django admin.
"""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.formats import date_format, time_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST
from django_stubs_ext import StrOrPromise

from appointments.access import access_series, access_session
from appointments.exceptions import SchedulingError
from appointments.forms import AddPatientForm, CancelForm, NextPageForm
from appointments.models import SessionParticipant, WaitlistEntry
from appointments.session_service import SessionService
from core import bidi
from core.forms import PatientSearchForm
from core.models import User
from core.permissions import Capability, StaffRequest, check_capability, require_capability
from core.selectors import search_patients

PATIENT_RESULTS = 20


def access_waitlist_entry(user: User, pk: int) -> WaitlistEntry:
    """Entry ``pk`` for a front-desk action: 403 for other roles, 404 outside the user's organisation."""
    check_capability(user, Capability.BOOK)
    entries = WaitlistEntry.objects.for_user(user).select_related("session", "patient")
    return get_object_or_404(entries, pk=pk)


def _redirect_back(request: HttpRequest, fallback: str) -> HttpResponse:
    """Back to the page the action was taken on (``next``) if it is one of ours, else ``fallback``."""
    form = NextPageForm(request.POST, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return redirect(form.next_page() or fallback)


def _report(request: HttpRequest, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


@require_capability(Capability.BOOK)
@require_http_methods(["GET", "POST"])
def session_waitlist_add(request: StaffRequest, pk: int) -> HttpResponse:
    """GET: find the child (by English or Arabic name, or MRN). POST: put them on the list."""
    session = access_session(request.user, pk, Capability.BOOK)
    form = AddPatientForm(request.POST if request.method == "POST" else None, user=request.user)
    if request.method == "POST" and form.is_valid():
        patient = form.cleaned_data["patient"]
        try:
            entry = SessionService.add_to_waitlist(session, patient, user=request.user)
        except SchedulingError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                bidi.with_isolates(
                    _("%(patient)s is on the waiting list, number %(position)d."),
                    {"patient": patient.full_name, "position": entry.position},
                ),
            )
            return redirect(session)
    search = PatientSearchForm(request.GET)
    query = search.cleaned_data["q"].strip() if search.is_valid() else ""
    context = {
        "session": session,
        "form": form,
        "search": search,
        "query": query,
        "results": list(search_patients(request.user, query)[:PATIENT_RESULTS]) if query else [],
        "booked_patient_ids": set(
            session.participants.exclude(status__in=SessionParticipant.INACTIVE_STATUSES).values_list(
                "patient_id", flat=True
            )
        ),
        "waiting_patient_ids": set(
            session.waitlist_entries.filter(status__in=WaitlistEntry.OPEN_STATUSES).values_list(
                "patient_id", flat=True
            )
        ),
    }
    return render(request, "appointments/session_waitlist_add.html", context)


@require_capability(Capability.BOOK)
@require_POST
def series_waitlist_add(request: StaffRequest, pk: int) -> HttpResponse:
    """Put the posted child (``patient``) on the list of every remaining full session of the series."""
    series = access_series(request.user, pk, Capability.BOOK)
    form = AddPatientForm(request.POST, user=request.user)
    if not form.is_valid():
        _report(request, ValidationError(form.errors["patient"].as_data()))
        return _redirect_back(request, series.get_absolute_url())
    patient = form.cleaned_data["patient"]
    try:
        entries = SessionService.add_to_series_waitlist(series, patient, user=request.user)
    except SchedulingError as error:
        _report(request, error)
        return _redirect_back(request, series.get_absolute_url())
    messages.success(
        request,
        bidi.with_isolates(
            ngettext(
                "%(patient)s is on the waiting list of %(count)d session of the series.",
                "%(patient)s is on the waiting list of %(count)d sessions of the series.",
                len(entries),
            ),
            {"patient": patient.full_name, "count": len(entries)},
        ),
    )
    if entries.free_sessions:
        slots = ", ".join(
            f"{date_format(session.scheduled_date, 'd/m/Y')} {time_format(session.scheduled_time, 'H:i')}"
            for session in entries.free_sessions
        )
        messages.warning(
            request,
            bidi.with_isolates(_("A seat is free on %(slots)s: book those instead."), {"slots": slots}),
        )
    return _redirect_back(request, series.get_absolute_url())


def _entry_action(
    run: Callable[[StaffRequest, WaitlistEntry], object], done: StrOrPromise
) -> Callable[[StaffRequest, int], HttpResponse]:
    """A one-click POST on a waiting-list entry, from the session page (or ``next``)."""

    @require_capability(Capability.BOOK)
    @require_POST
    def view(request: StaffRequest, pk: int) -> HttpResponse:
        entry = access_waitlist_entry(request.user, pk)
        try:
            run(request, entry)
        except ValidationError as error:
            _report(request, error)
        else:
            messages.success(request, bidi.with_isolates(done, {"patient": entry.patient.full_name}))
        return _redirect_back(request, entry.session.get_absolute_url())

    return view


def _withdraw(request: StaffRequest, entry: WaitlistEntry) -> WaitlistEntry:
    form = CancelForm(request.POST)
    if not form.is_valid():
        raise ValidationError(
            [
                _("%(field)s: %(error)s") % {"field": form.fields[name].label, "error": error}
                for name, errors in form.errors.items()
                for error in errors
            ]
        )
    return SessionService.withdraw_from_waitlist(entry, form.cleaned_data["reason"], user=request.user)


waitlist_accept = _entry_action(
    lambda request, entry: SessionService.accept_waitlist_offer(entry, user=request.user),
    gettext_lazy("%(patient)s accepted the seat and is booked."),
)
waitlist_withdraw = _entry_action(_withdraw, gettext_lazy("%(patient)s is off the waiting list."))
waitlist_family_told = _entry_action(
    lambda request, entry: SessionService.mark_waitlist_family_told(entry, user=request.user),
    gettext_lazy("Recorded: the family of %(patient)s knows about the seat."),
)
