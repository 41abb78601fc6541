"""Scheduling pages for staff.

Views are thin: parse a form, call one service method, show a domain error on
the form or as a message, redirect (post/redirect/get). Who may do what is
decided by ``core.permissions`` through ``require_capability`` and the
``access_*`` helpers.
"""

import datetime
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_stubs_ext import StrOrPromise

from appointments import slot_suggestions, timing
from appointments.access import (
    access_appointment,
    access_appointment_for_clinical_action,
    access_participant,
    access_participant_for_clinical_action,
    access_session,
    access_session_for_clinical_action,
)
from appointments.appointment_service import AppointmentService
from appointments.exceptions import SchedulingError
from appointments.forms import (
    AddPatientForm,
    AppointmentBookForm,
    AppointmentFilterForm,
    AvailableSessionsForm,
    CancelForm,
    CapacityForm,
    DayForm,
    GroupSessionCreateForm,
    GroupSessionNotesForm,
    IndividualSessionForm,
    NextPageForm,
    ParticipantCancelForm,
    RescheduleForm,
    SessionCancelForm,
    SessionFilterForm,
    SessionRescheduleForm,
    WaiveBillingForm,
)
from appointments.models import Appointment, Session, SessionParticipant
from appointments.notes.access import session_notes_context
from appointments.selectors import (
    appointments_visible_to,
    completion_preview,
    day_schedule,
    filter_appointments,
    filter_sessions,
    outcome_counts,
    session_participants,
    session_waitlist,
    sessions_visible_to,
)
from appointments.series_selectors import series_position
from appointments.session_service import SessionService
from core import bidi, clock
from core.forms import PatientSearchForm
from core.models import User
from core.paging import page_without_count
from core.permissions import Capability, StaffRequest, require_capability
from core.selectors import search_patients

PAGE_SIZE = 25
PATIENT_RESULTS = 20
AVAILABLE_DAYS_AHEAD = 30


def _posted(request: HttpRequest) -> QueryDict | None:
    """Form data of a POST (even an empty one, so its errors show), None on GET."""
    return request.POST if request.method == "POST" else None


def _redirect_back(request: HttpRequest, fallback: str) -> HttpResponse:
    """Back to the page the action was taken on (``next``) if it is one of ours, else ``fallback``."""
    form = NextPageForm(request.POST, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    return redirect(form.next_page() or fallback)


def _report(request: HttpRequest, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


def _action_input(request: HttpRequest, form_class: type[forms.Form]) -> dict[str, Any]:
    """What was typed with a one-click action; bad input is a ValidationError shown as messages."""
    form = form_class(request.POST)
    if not form.is_valid():
        raise ValidationError(
            [
                _("%(field)s: %(error)s") % {"field": form.fields[name].label, "error": error}
                for name, errors in form.errors.items()
                for error in errors
            ]
        )
    return form.cleaned_data


def _cancel_reason(request: HttpRequest) -> str:
    """The reason typed with a cancel button."""
    return _action_input(request, CancelForm)["reason"]


def _page(request: HttpRequest, rows):
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


# What the week calendar's click on a free slot (static/js/calendar.js) and the "Next free"
# links after a refusal (appointments.slot_suggestions) fill in on a booking form.
SLOT_PREFILL = (
    "clinic",
    "provider",
    "room",
    "scheduled_date",
    "scheduled_time",
    "duration",
    "service_type",
    "max_capacity",
)


def _slot_prefill(request: HttpRequest) -> dict[str, str]:
    """A booking form's first values from the query string; the form checks them once posted."""
    return {name: request.GET[name] for name in SLOT_PREFILL if name in request.GET}


def _with_default_start(query: dict, key: str = "date_from"):
    """List filters start today unless the user chose otherwise (an empty value means no limit)."""
    data = query.copy()
    if key not in data:
        data[key] = clock.today().isoformat()
    return data


# Sessions


@require_capability(Capability.VIEW_SCHEDULE)
@require_GET
def session_list(request: StaffRequest) -> HttpResponse:
    form = SessionFilterForm(_with_default_start(request.GET), user=request.user)
    sessions = filter_sessions(sessions_visible_to(request.user), **form.filters())
    # Cleared dates list every session there ever was: paged without counting them.
    page_obj = page_without_count(sessions, request.GET.get("page"), PAGE_SIZE)
    return render(request, "appointments/session_list.html", {"form": form, "page_obj": page_obj})


@require_capability(Capability.BOOK)
def session_create(request: StaffRequest) -> HttpResponse:
    form = GroupSessionCreateForm(_posted(request), user=request.user, initial=_slot_prefill(request))
    next_free = None
    if request.method == "POST" and form.is_valid():
        try:
            session = SessionService.create_group_session(**form.cleaned_data, user=request.user)
        except SchedulingError as error:
            next_free = slot_suggestions.next_free(request, form.cleaned_data, error, SLOT_PREFILL)
            form.add_error(None, error)
        else:
            messages.success(request, _("Group session created."))
            return redirect(session)
    return render(request, "appointments/session_create.html", {"form": form, "next_free": next_free})


@require_capability(Capability.BOOK)
def session_book_individual(request: StaffRequest) -> HttpResponse:
    form = IndividualSessionForm(
        _posted(request),
        user=request.user,
        initial={"patient": request.GET.get("patient", ""), **_slot_prefill(request)},
    )
    next_free = None
    if request.method == "POST" and form.is_valid():
        try:
            session = SessionService.create_individual_session(**form.cleaned_data, user=request.user)
        except SchedulingError as error:
            next_free = slot_suggestions.next_free(
                request, form.cleaned_data, error, (*SLOT_PREFILL, "patient")
            )
            form.add_error(None, error)
        else:
            messages.success(request, _("Individual session booked."))
            return redirect(session)
    context = {"form": form, "next_free": next_free}
    return render(request, "appointments/session_book_individual.html", context)


@require_capability(Capability.VIEW_SCHEDULE)
@require_GET
def session_available(request: StaffRequest) -> HttpResponse:
    today = clock.today()
    form = AvailableSessionsForm(
        request.GET if "clinic" in request.GET else None,
        user=request.user,
        initial={"date_from": today, "date_to": today + datetime.timedelta(days=AVAILABLE_DAYS_AHEAD)},
    )
    page_obj = None
    if form.is_valid():
        page_obj = _page(request, SessionService.get_available_group_sessions(**form.cleaned_data))
    return render(request, "appointments/session_available.html", {"form": form, "page_obj": page_obj})


@require_capability(Capability.VIEW_SCHEDULE)
@require_GET
def session_detail(request: StaffRequest, pk: int) -> HttpResponse:
    session = access_session(request.user, pk)
    participants = session_participants(session)
    now = clock.now()
    context = {
        "session": session,
        "participants": participants,
        "series_position": series_position(session),
        "waitlist": session_waitlist(session, participants),
        # The clinical buttons by the time of day (appointments.timing): Start from the
        # clinic's lead before the start, Complete and No-show from the start.
        "may_start": timing.may_start(session, now),
        "start_opens_at": timing.start_opens_at(session),
        "has_begun": timing.has_begun(session, now),
        "notes_form": GroupSessionNotesForm(instance=session),
        "capacity_form": CapacityForm(initial={"max_capacity": session.max_capacity}),
        "session_cancel_form": SessionCancelForm(),
        "participant_cancel_form": ParticipantCancelForm(auto_id=False),
        **session_notes_context(session, request.user, participants),
    }
    return render(request, "appointments/session_detail.html", context)


@require_capability(Capability.BOOK)
def session_add_patient(request: StaffRequest, pk: int) -> HttpResponse:
    session = access_session(request.user, pk, Capability.BOOK)
    form = AddPatientForm(_posted(request), user=request.user)
    if request.method == "POST" and form.is_valid():
        patient = form.cleaned_data["patient"]
        try:
            participant = SessionService.add_patient_to_session(session, patient, user=request.user)
        except SchedulingError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                bidi.with_isolates(
                    _("%(patient)s was added with appointment number %(number)s."),
                    {"patient": patient.full_name, "number": participant.appointment_number},
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
    }
    return render(request, "appointments/session_add_patient.html", context)


def _session_action(
    capability: Capability,
    run: Callable[[StaffRequest, Session], object],
    done: StrOrPromise,
    access: Callable[[User, int], Session] | None = None,
) -> Callable[[StaffRequest, int], HttpResponse]:
    """A one-click POST on a session: run the service step, report, go back to the session.

    ``access`` fetches and authorises the session (default: ``access_session`` with ``capability``).
    """

    @require_capability(capability)
    @require_POST
    def view(request: StaffRequest, pk: int) -> HttpResponse:
        if access:
            session = access(request.user, pk)
        else:
            session = access_session(request.user, pk, capability)
        try:
            run(request, session)
        except ValidationError as error:
            _report(request, error)
        else:
            messages.success(request, done)
        return redirect(session)

    return view


def _start_session(request: StaffRequest, session: Session) -> Session:
    timing.refuse_early_start(session, clock.now())
    return SessionService.start_session(session, user=request.user)


session_start = _session_action(
    Capability.RUN_SESSION,
    _start_session,
    gettext_lazy("Session started."),
    access=access_session_for_clinical_action,
)


@require_capability(Capability.RUN_SESSION)
@require_http_methods(["GET", "POST"])
def session_complete(request: StaffRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation, listing who becomes attended, turned away or a no-show; POST completes.

    Only the session's clinicians and administrators, from its start time (``timing``).
    """
    session = access_session_for_clinical_action(request.user, pk)
    try:
        timing.refuse_before_the_start(session, clock.now(), timing.Step.COMPLETE)
        if request.method == "POST":
            SessionService.complete_session(session, user=request.user)
    except SchedulingError as error:
        _report(request, error)
        return redirect(session)
    if request.method == "POST":
        messages.success(
            request,
            _("Session completed: %(attended)d attended, %(no_show)d no-show, %(turned_away)d turned away.")
            % outcome_counts(session),
        )
        return redirect(session)
    if not session.is_open:
        messages.info(
            request,
            _("The session is %(status)s; there is nothing to complete.")
            % {"status": session.get_status_display().lower()},
        )
        return redirect(session)
    context = {"session": session, "preview": completion_preview(session)}
    return render(request, "appointments/session_complete.html", context)


def _cancel_session(request: StaffRequest, session: Session) -> Session:
    data = _action_input(request, SessionCancelForm)
    return SessionService.cancel_session(
        session, data["reason"], user=request.user, category=data["category"]
    )


session_cancel = _session_action(Capability.BOOK, _cancel_session, gettext_lazy("Session cancelled."))


@require_capability(Capability.BOOK)
@require_POST
def session_capacity(request: StaffRequest, pk: int) -> HttpResponse:
    session = access_session(request.user, pk, Capability.BOOK)
    form = CapacityForm(request.POST)
    if not form.is_valid():
        for message in form.errors["max_capacity"]:
            messages.error(request, _("Capacity: %(error)s") % {"error": message})
        return redirect(session)
    try:
        SessionService.change_capacity(session, form.cleaned_data["max_capacity"], user=request.user)
    except SchedulingError as error:
        _report(request, error)
    else:
        messages.success(request, _("Capacity changed."))
    return redirect(session)


@require_capability(Capability.RUN_SESSION)
@require_POST
def session_group_notes(request: StaffRequest, pk: int) -> HttpResponse:
    session = access_session_for_clinical_action(request.user, pk)
    form = GroupSessionNotesForm(request.POST, instance=session)
    if not form.is_valid():
        for error in form.errors["group_notes"]:
            messages.error(request, _("Group notes: %(error)s") % {"error": error})
        return redirect(session)
    try:
        SessionService.update_group_notes(session, form.cleaned_data["group_notes"], user=request.user)
    except SchedulingError as error:
        _report(request, error)
    else:
        messages.success(request, _("Group notes saved."))
    return redirect(session)


@require_capability(Capability.BOOK)
def session_reschedule(request: StaffRequest, pk: int) -> HttpResponse:
    session = access_session(request.user, pk, Capability.BOOK)
    form = SessionRescheduleForm(_posted(request), user=request.user, session=session)
    if request.method == "POST" and form.is_valid():
        try:
            SessionService.reschedule_session(session, **form.cleaned_data, user=request.user)
        except SchedulingError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Session moved; every child keeps their booking. Tell the families, then record it here."),
            )
            return redirect(session)
    return render(request, "appointments/session_reschedule.html", {"session": session, "form": form})


session_families_told = _session_action(
    Capability.BOOK,
    lambda request, session: SessionService.mark_families_told(session, user=request.user),
    gettext_lazy("Recorded: the families know the session moved."),
)


def _participant_action(
    capability: Capability,
    run: Callable[[StaffRequest, SessionParticipant], object],
    done: StrOrPromise,
    access: Callable[[User, int], SessionParticipant] | None = None,
) -> Callable[[StaffRequest, int], HttpResponse]:
    """A one-click POST on a participant, from the session page or a work queue (``next``).

    ``access`` fetches and authorises the participant (default: ``access_participant``).
    """

    @require_capability(capability)
    @require_POST
    def view(request: StaffRequest, pk: int) -> HttpResponse:
        if access:
            participant = access(request.user, pk)
        else:
            participant = access_participant(request.user, pk, capability)
        try:
            run(request, participant)
        except ValidationError as error:
            _report(request, error)
        else:
            messages.success(request, bidi.with_isolates(done, {"patient": participant.patient.full_name}))
        return _redirect_back(request, participant.session.get_absolute_url())

    return view


participant_confirm = _participant_action(
    Capability.BOOK,
    lambda request, participant: SessionService.confirm_participant(participant, user=request.user),
    gettext_lazy("%(patient)s is confirmed."),
)
participant_clear_finance = _participant_action(
    Capability.CLEAR_FINANCE,
    lambda request, participant: SessionService.clear_finance(participant, user=request.user),
    gettext_lazy("%(patient)s is cleared by finance."),
)
participant_check_in = _participant_action(
    Capability.CHECK_IN,
    lambda request, participant: SessionService.check_in_participant(participant, user=request.user),
    gettext_lazy("%(patient)s is checked in."),
)
participant_attended = _participant_action(
    Capability.RUN_SESSION,
    lambda request, participant: SessionService.mark_participant_attended(participant, user=request.user),
    gettext_lazy("%(patient)s attended."),
    access=access_participant_for_clinical_action,
)


def _mark_no_show(request: StaffRequest, participant: SessionParticipant) -> SessionParticipant:
    timing.refuse_before_the_start(participant.session, clock.now(), timing.Step.NO_SHOW)
    return SessionService.mark_participant_no_show(participant, user=request.user)


participant_no_show = _participant_action(
    Capability.RUN_SESSION,
    _mark_no_show,
    gettext_lazy("%(patient)s is marked as no-show."),
    access=access_participant_for_clinical_action,
)


def _cancel_participant(request: StaffRequest, participant: SessionParticipant) -> SessionParticipant:
    data = _action_input(request, ParticipantCancelForm)
    return SessionService.cancel_participant(
        participant,
        data["reason"],
        user=request.user,
        cancelled_by=data["cancelled_by"],
        category=data["category"],
    )


participant_cancel = _participant_action(
    Capability.BOOK, _cancel_participant, gettext_lazy("The booking of %(patient)s is cancelled.")
)
# Freeing the seat of a child refused at check-in is the front desk's, as cancelling is.
participant_turned_away = _participant_action(
    Capability.BOOK,
    lambda request, participant: SessionService.mark_turned_away(participant, user=request.user),
    gettext_lazy("%(patient)s is marked as turned away; the seat is free."),
)
participant_waive_billing = _participant_action(
    Capability.WAIVE_BILLING,
    lambda request, participant: SessionService.waive_billing(
        participant, reason=_action_input(request, WaiveBillingForm)["reason"], user=request.user
    ),
    gettext_lazy("The charge for %(patient)s is waived."),
)
participant_confirm_billing = _participant_action(
    Capability.CONFIRM_BILLING,
    lambda request, participant: SessionService.confirm_billing(participant, user=request.user),
    gettext_lazy("The no-show of %(patient)s is confirmed as billable."),
)


# Day schedule


def _schedule(request: StaffRequest, group_by: str) -> HttpResponse:
    form = DayForm(request.GET)
    day = (form.cleaned_data["day"] if form.is_valid() else None) or clock.today()
    context = {
        "form": form,
        "day": day,
        "previous_day": day - datetime.timedelta(days=1),
        "next_day": day + datetime.timedelta(days=1),
        "group_by": group_by,
        "columns": day_schedule(request.user, day, group_by),
    }
    return render(request, "appointments/schedule_day.html", context)


@require_capability(Capability.VIEW_SCHEDULE)
@require_GET
def schedule_by_provider(request: StaffRequest) -> HttpResponse:
    return _schedule(request, "provider")


@require_capability(Capability.VIEW_SCHEDULE)
@require_GET
def schedule_by_room(request: StaffRequest) -> HttpResponse:
    return _schedule(request, "room")


# Legacy appointments


@require_capability(Capability.VIEW_SCHEDULE)
@require_GET
def appointment_list(request: StaffRequest) -> HttpResponse:
    form = AppointmentFilterForm(_with_default_start(request.GET), user=request.user)
    appointments = filter_appointments(appointments_visible_to(request.user), **form.filters())
    context = {"form": form, "page_obj": page_without_count(appointments, request.GET.get("page"), PAGE_SIZE)}
    return render(request, "appointments/appointment_list.html", context)


@require_capability(Capability.BOOK)
def appointment_book(request: StaffRequest) -> HttpResponse:
    form = AppointmentBookForm(
        _posted(request),
        user=request.user,
        initial={"patient": request.GET.get("patient", ""), **_slot_prefill(request)},
    )
    next_free = None
    if request.method == "POST" and form.is_valid():
        try:
            appointment = AppointmentService.book_appointment(**form.cleaned_data, user=request.user)
        except SchedulingError as error:
            next_free = slot_suggestions.next_free(
                request, form.cleaned_data, error, (*SLOT_PREFILL, "patient")
            )
            form.add_error(None, error)
        else:
            messages.success(
                request,
                bidi.with_isolates(
                    _("Appointment %(number)s booked."), {"number": appointment.appointment_number}
                ),
            )
            return redirect(appointment)
    return render(request, "appointments/appointment_book.html", {"form": form, "next_free": next_free})


@require_capability(Capability.VIEW_SCHEDULE)
@require_GET
def appointment_detail(request: StaffRequest, pk: int) -> HttpResponse:
    appointment = access_appointment(request.user, pk)
    return render(request, "appointments/appointment_detail.html", {"appointment": appointment})


@require_capability(Capability.BOOK)
def appointment_reschedule(request: StaffRequest, pk: int) -> HttpResponse:
    appointment = access_appointment(request.user, pk, Capability.BOOK)
    form = RescheduleForm(
        _posted(request),
        user=request.user,
        appointment=appointment,
        initial={"scheduled_date": appointment.scheduled_date, "scheduled_time": appointment.scheduled_time},
    )
    if request.method == "POST" and form.is_valid():
        try:
            AppointmentService.reschedule(appointment, **form.cleaned_data, user=request.user)
        except SchedulingError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Appointment rescheduled; confirm it again with the family."))
            return redirect(appointment)
    return render(
        request, "appointments/appointment_reschedule.html", {"appointment": appointment, "form": form}
    )


def _appointment_action(
    capability: Capability,
    run: Callable[[StaffRequest, Appointment], object],
    done: StrOrPromise,
    access: Callable[[User, int], Appointment] | None = None,
) -> Callable[[StaffRequest, int], HttpResponse]:
    """A one-click POST on a legacy appointment.

    ``access`` fetches and authorises the appointment (default: ``access_appointment``).
    """

    @require_capability(capability)
    @require_POST
    def view(request: StaffRequest, pk: int) -> HttpResponse:
        if access:
            appointment = access(request.user, pk)
        else:
            appointment = access_appointment(request.user, pk, capability)
        try:
            run(request, appointment)
        except ValidationError as error:
            _report(request, error)
        else:
            messages.success(request, bidi.with_isolates(done, {"number": appointment.appointment_number}))
        return _redirect_back(request, appointment.get_absolute_url())

    return view


appointment_confirm = _appointment_action(
    Capability.BOOK,
    lambda request, appointment: AppointmentService.confirm(appointment, user=request.user),
    gettext_lazy("Appointment %(number)s is confirmed."),
)
appointment_clear_finance = _appointment_action(
    Capability.CLEAR_FINANCE,
    lambda request, appointment: AppointmentService.clear_finance(appointment, user=request.user),
    gettext_lazy("Appointment %(number)s is cleared by finance."),
)
appointment_check_in = _appointment_action(
    Capability.CHECK_IN,
    lambda request, appointment: AppointmentService.check_in(appointment, user=request.user),
    gettext_lazy("Appointment %(number)s: the patient is checked in."),
)
appointment_start = _appointment_action(
    Capability.RUN_SESSION,
    lambda request, appointment: AppointmentService.start(appointment, user=request.user),
    gettext_lazy("Appointment %(number)s started."),
    access=access_appointment_for_clinical_action,
)
appointment_complete = _appointment_action(
    Capability.RUN_SESSION,
    lambda request, appointment: AppointmentService.complete(appointment, user=request.user),
    gettext_lazy("Appointment %(number)s completed."),
    access=access_appointment_for_clinical_action,
)
appointment_no_show = _appointment_action(
    Capability.RUN_SESSION,
    lambda request, appointment: AppointmentService.mark_no_show(appointment, user=request.user),
    gettext_lazy("Appointment %(number)s is marked as no-show."),
    access=access_appointment_for_clinical_action,
)
appointment_cancel = _appointment_action(
    Capability.BOOK,
    lambda request, appointment: AppointmentService.cancel(
        appointment, _cancel_reason(request), user=request.user
    ),
    gettext_lazy("Appointment %(number)s is cancelled."),
)
