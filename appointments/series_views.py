"""The front desk's pages for recurring series: list, create (its plan first), detail and its actions.

Views are thin: parse a form, call one ``SeriesService`` method, show a domain error on the
form or as messages, redirect. Reading needs the schedule (every staff role); creating,
enrolling, withdrawing, cancelling and moving need booking (``Capability.BOOK``).
"""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from appointments.access import access_series
from appointments.exceptions import SchedulingError, SeriesClashError
from appointments.models import Session
from appointments.series_forms import (
    EnrolForm,
    FollowingField,
    OccurrenceCancelForm,
    OccurrenceMoveForm,
    SeriesCreateForm,
    SeriesFilterForm,
    WithdrawForm,
)
from appointments.series_selectors import (
    filter_series,
    series_enrolments,
    series_occurrences,
    series_skipped_dates,
    series_visible_to,
)
from appointments.series_service import DateClash, SeriesPlan, SeriesService
from core import bidi
from core.forms import PatientSearchForm
from core.models import Patient, normalise_mrn
from core.permissions import (
    Capability,
    StaffRequest,
    can_read_group_notes,
    has_capability,
    require_capability,
)
from core.selectors import search_patients

PAGE_SIZE = 25
PATIENT_RESULTS = 20


def posted_patient(request: HttpRequest, kwargs: dict[str, Any]) -> Subquery | None:
    """The child an individual series is being planned for (its MRN posted), for the access log."""
    if request.method != "POST" or request.POST.get("session_type") != Session.SessionType.INDIVIDUAL:
        return None
    mrn = normalise_mrn(request.POST.get("patient", ""))
    if not mrn:
        return None
    patients = Patient.objects.for_user(request.user).filter(mrn=mrn)
    return Subquery(patients.order_by("pk").values("pk")[:1])


def _report(request: HttpRequest, error: ValidationError) -> None:
    """A refusal as messages; a SeriesClashError has one per date, with every reason."""
    for message in error.messages:
        messages.error(request, message)


def _action_input(request: HttpRequest, form: forms.Form) -> dict[str, Any]:
    """What was typed with an action; bad input is a ValidationError shown as messages."""
    if not form.is_valid():
        raise ValidationError(
            [
                _("%(field)s: %(error)s") % {"field": form.fields[name].label or name, "error": error}
                for name, errors in form.errors.items()
                for error in errors
            ]
        )
    return form.cleaned_data


# List and create


@require_capability(Capability.VIEW_SCHEDULE)
@require_GET
def series_list(request: StaffRequest) -> HttpResponse:
    form = SeriesFilterForm(request.GET, user=request.user)
    series = filter_series(series_visible_to(request.user), **form.filters())
    page_obj = Paginator(series, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "appointments/series_list.html", {"form": form, "page_obj": page_obj})


def _plan_context(plan: SeriesPlan, clashes: list[DateClash]) -> dict[str, Any]:
    """What the plan shows: each clashing date (to skip, ticked), the dates already skipped, the holidays."""
    return {"plan": plan, "clashes": clashes, "skipped": plan.skipped, "holidays": plan.holidays}


@require_capability(Capability.BOOK)
@require_http_methods(["GET", "POST"])
def series_create(request: StaffRequest) -> HttpResponse:
    """GET: the form. POST: the plan first when a date clashes or is a holiday; "Create, skipping
    these dates" (``confirm``) creates, skipping the dates ticked. A clash left unticked is
    refused by the service and listed again; nothing is created."""
    form = SeriesCreateForm(request.POST if request.method == "POST" else None, user=request.user)
    context: dict[str, Any] = {"form": form}
    if request.method == "POST" and form.is_valid():
        try:
            plan = SeriesService.plan_series(**form.plan_kwargs())
        except SchedulingError as error:
            form.add_error(None, error)
            return render(request, "appointments/series_create.html", context)
        planned = [*plan.dates, *(clash.date for clash in plan.clashes)]
        if planned and not form.check_last_date(max(planned)):
            return render(request, "appointments/series_create.html", context)
        if "confirm" not in request.POST and (plan.clashes or plan.holidays):
            context.update(_plan_context(plan, plan.clashes))
            return render(request, "appointments/series_create.html", context)
        try:
            series = SeriesService.create_series(**form.create_kwargs(), user=request.user)
        except SeriesClashError as error:
            # The page lists the dates one by one, each to skip: the form says so once.
            form.add_error(
                None, _("Some dates can't be booked: skip them, or change the series, then try again.")
            )
            context.update(_plan_context(plan, error.clashes))
        except SchedulingError as error:
            form.add_error(None, error)
        else:
            created = series.sessions.count()
            messages.success(
                request,
                ngettext("%(count)d session created.", "%(count)d sessions created.", created)
                % {"count": created},
            )
            return redirect(series)
    return render(request, "appointments/series_create.html", context)


# Detail


@require_capability(Capability.VIEW_SCHEDULE)
@require_GET
def series_detail(request: StaffRequest, pk: int) -> HttpResponse:
    series = access_series(request.user, pk)
    enrolments = series_enrolments(series)
    context = {
        "series": series,
        "occurrences": series_occurrences(series),
        "skipped_dates": series_skipped_dates(series),
        "active_enrolments": [enrolment for enrolment in enrolments if enrolment.is_active],
        "withdrawn_enrolments": [enrolment for enrolment in enrolments if not enrolment.is_active],
        "may_book": has_capability(request.user, Capability.BOOK),
        "shows_group_notes": can_read_group_notes(
            request.user, series.clinic.specialty, series.provider.user_id
        ),
        "following_choices": FollowingField().choices,
    }
    return render(request, "appointments/series_detail.html", context)


# Actions


@require_capability(Capability.BOOK)
@require_http_methods(["GET", "POST"])
def series_enrol(request: StaffRequest, pk: int) -> HttpResponse:
    """GET: find the child. POST: the dates they can't have (a clash, a full session) listed
    first, each to skip; "Enrol, skipping these dates" (``confirm``) enrols in the rest."""
    series = access_series(request.user, pk, Capability.BOOK)
    form = EnrolForm(request.POST if request.method == "POST" else None, user=request.user)
    clashes: list[DateClash] = []
    patient = None
    if request.method == "POST" and form.is_valid():
        patient = form.cleaned_data["patient"]
        try:
            if "confirm" not in request.POST:
                clashes = SeriesService.preview_enrolment(series, patient)
            if not clashes:
                SeriesService.enrol_patient(
                    series, patient, skip_dates=form.cleaned_data["skip_dates"], user=request.user
                )
        except SeriesClashError as error:
            form.add_error(None, _("Some dates can't be booked for this child: skip them, then try again."))
            clashes = error.clashes
        except SchedulingError as error:
            form.add_error(None, error)
        else:
            if not clashes:
                messages.success(
                    request,
                    bidi.with_isolates(
                        _("%(patient)s is enrolled in the series."), {"patient": patient.full_name}
                    ),
                )
                return redirect(series)
    search = PatientSearchForm(request.GET)
    query = search.cleaned_data["q"].strip() if search.is_valid() else ""
    context = {
        "series": series,
        "form": form,
        "patient": patient,
        "clashes": clashes,
        "search": search,
        "query": query,
        "results": list(search_patients(request.user, query)[:PATIENT_RESULTS]) if query else [],
        "enrolled_patient_ids": set(
            series.enrolments.filter(withdrawn_at__isnull=True).values_list("patient_id", flat=True)
        ),
    }
    return render(request, "appointments/series_enrol.html", context)


@require_capability(Capability.BOOK)
@require_POST
def series_withdraw(request: StaffRequest, pk: int) -> HttpResponse:
    series = access_series(request.user, pk, Capability.BOOK)
    try:
        data = _action_input(request, WithdrawForm(request.POST, series=series))
        SeriesService.withdraw_patient(series, data["patient"], data["reason"], user=request.user)
    except ValidationError as error:
        _report(request, error)
    else:
        messages.success(
            request,
            bidi.with_isolates(
                _("%(patient)s is withdrawn from the rest of the series."),
                {"patient": data["patient"].full_name},
            ),
        )
    return redirect(series)


@require_capability(Capability.BOOK)
@require_POST
def series_occurrence_cancel(request: StaffRequest, pk: int) -> HttpResponse:
    series = access_series(request.user, pk, Capability.BOOK)
    try:
        data = _action_input(request, OccurrenceCancelForm(request.POST, series=series))
        cancelled = SeriesService.cancel_occurrences(
            data["session"], data["reason"], following=data["following"], user=request.user
        )
    except ValidationError as error:
        _report(request, error)
    else:
        messages.success(
            request,
            ngettext("%(count)d session cancelled.", "%(count)d sessions cancelled.", len(cancelled))
            % {"count": len(cancelled)},
        )
    return redirect(series)


@require_capability(Capability.BOOK)
@require_POST
def series_occurrence_move(request: StaffRequest, pk: int) -> HttpResponse:
    series = access_series(request.user, pk, Capability.BOOK)
    try:
        data = _action_input(request, OccurrenceMoveForm(request.POST, series=series))
        moved = SeriesService.move_occurrences(
            data["session"],
            scheduled_date=data["scheduled_date"],
            scheduled_time=data["scheduled_time"],
            following=data["following"],
            reason=data["reason"],
            user=request.user,
        )
    except ValidationError as error:
        _report(request, error)
    else:
        messages.success(
            request,
            ngettext(
                "%(count)d session moved; every child keeps their booking. Tell the families.",
                "%(count)d sessions moved; every child keeps their booking. Tell the families.",
                len(moved),
            )
            % {"count": len(moved)},
        )
    return redirect(series)
