"""Django admin for scheduling: sessions, participants, legacy appointments, number counters.

Statuses, seats and numbers are written only by ``SessionService`` and
``AppointmentService``. Admin forms only check their input; ``save_model`` and
``save_formset`` call the service when the page saves, and a refusal is shown on
the form with what was typed, nothing saved (``core.admin.ServiceAdmin``). Admin
actions call it row by row, so one refusal is reported and the other rows still
go through.
"""

from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Count, Max, Min, Model, Q, QuerySet
from django.forms.models import BaseInlineFormSet, model_to_dict, modelform_factory
from django.template.response import TemplateResponse
from django.utils.formats import date_format, time_format
from django.utils.translation import gettext, ngettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise
from simple_history.admin import SimpleHistoryAdmin

from appointments import timing
from appointments.appointment_service import AppointmentService
from appointments.exceptions import SchedulingError
from appointments.forms import SessionRescheduleForm, check_slot_window
from appointments.models import (
    Appointment,
    AppointmentNumberCounter,
    CheckInRefusal,
    SeriesEnrolment,
    SeriesSkippedDate,
    Session,
    SessionParticipant,
    SessionSeries,
    WaitlistEntry,
)
from appointments.notes.selectors import session_has_notes
from appointments.selectors import with_seats_taken, with_waiting_position
from appointments.session_service import SessionService
from appointments.workflow import copy_state
from core import clock
from core.access_logging import AccessLoggedAdminMixin
from core.admin import (
    ProviderListFilter,
    ServiceAdmin,
    TenantScopedAdmin,
    TenantScopedInline,
    refused_on,
)
from core.admin_input import ReadableAutocompleteSelect
from core.admin_paging import LargeListAdminMixin
from core.audit_admin import ReadOnlyAdminMixin
from core.models import Patient, User
from core.permissions import StaffRequest

PATIENT_SEARCH_FIELDS = ("mrn", "first_name_en", "last_name_en", "first_name_ar", "last_name_ar")


def admin_cancel_reason(user: User) -> str:
    return gettext("Cancelled from admin by %(user)s") % {"user": user.get_username()}


def service_action(
    description: StrOrPromise, operation: Callable[[Any, User], object], done_message: StrOrPromise
) -> Callable[[admin.ModelAdmin, StaffRequest, QuerySet], None]:
    """An admin action running ``operation(row, acting_user)`` on each selected row.

    A row is of the admin's model, which the action can't name: ``operation`` takes Any.

    ``done_message`` is an ``ngettext_lazy(..., "count")`` message for the rows that went through.
    """

    @admin.action(description=description)
    def action(modeladmin: admin.ModelAdmin, request: StaffRequest, queryset: QuerySet) -> None:
        apply_to_each(
            modeladmin,
            request,
            queryset,
            lambda obj: operation(obj, request.user),
            lambda count: done_message % {"count": count},
        )

    return action


def apply_to_each(
    modeladmin: admin.ModelAdmin,
    request,
    queryset: QuerySet,
    operation: Callable[[Model], object],
    done_message: Callable[[int], str],
) -> None:
    """Run ``operation`` on every selected row, reporting each refusal without stopping the rest."""
    done = 0
    # Primary-key order: the services lock rows, and a fixed order keeps two admins from deadlocking.
    for obj in queryset.order_by("pk"):
        try:
            operation(obj)
        except SchedulingError as error:
            modeladmin.message_user(request, f"{obj}: {' '.join(error.messages)}", messages.ERROR)
        else:
            done += 1
    if done:
        modeladmin.message_user(request, done_message(done), messages.SUCCESS)


# The clinical actions keep to the session page's time of day (appointments.timing); the
# services themselves refuse only a day not yet come.


def start_in_time(session: Session, user: User) -> Session:
    """Start no earlier than the clinic's ``start_lead_minutes`` before the start."""
    timing.refuse_early_start(session, clock.now())
    return SessionService.start_session(session, user=user)


def complete_in_time(session: Session, user: User) -> Session:
    """Complete from the session's start time."""
    timing.refuse_before_the_start(session, clock.now(), timing.Step.COMPLETE)
    return SessionService.complete_session(session, user=user)


def mark_no_show_in_time(participant: SessionParticipant, user: User) -> SessionParticipant:
    """Mark a no-show from the session's start time."""
    timing.refuse_before_the_start(participant.session, clock.now(), timing.Step.NO_SHOW)
    return SessionService.mark_participant_no_show(participant, user=user)


class ServiceFormAdmin(TenantScopedAdmin, ServiceAdmin):
    """Add and change pages written only by a service, which each admin's ``save_model`` calls.

    Every field of the form becomes a plain form field (declared on the form, excluded
    from the model), so Django neither copies the input onto the model nor validates
    the model with it: the service does both, and ``save_model`` gives ``obj`` the
    saved state. (Django 5.2's model validation would also crash on the no-overlap
    exclusion constraints, whose condition names ``status``, a field these forms leave out.)

    Their rows change only through the services: simple-history's revert, which would
    write a past version back past them, is removed (``TenantScopedAdmin.history_revert``).
    """

    history_revert = False

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)
        fields = form_class.base_fields
        # modelform_factory builds a new class per request, so acting_user doesn't leak between users.
        declared = type(form_class.__name__, (form_class,), {**fields, "acting_user": request.user})
        return modelform_factory(self.model, form=declared, fields=list(fields), exclude=list(fields))


class ServiceForm(forms.ModelForm):
    """An admin form for a service call: ``clean()`` may check the input, never write.

    ``save_model`` hands ``cleaned_data`` to the service; a refusal is shown on this form.
    """

    acting_user = None  # the staff member filling the form in

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Plain form fields (see ServiceFormAdmin) aren't filled from the instance by Django.
        self.initial = model_to_dict(self.instance, fields=list(self.fields)) | self.initial


# Sessions ----------------------------------------------------------------------------


class SessionCreateForm(ServiceForm):
    patient = forms.ModelChoiceField(
        queryset=Patient.objects.all(),
        required=False,
        label=_("patient"),
        help_text=_("Individual sessions only: the patient booked into its one seat."),
        # The patient becomes the session's participant, so the participant's patient
        # field drives the admin's patient search (by MRN or name).
        widget=ReadableAutocompleteSelect(SessionParticipant._meta.get_field("patient"), admin.site),
    )

    class Meta:
        model = Session
        fields = (
            "session_type",
            "service_type",
            "clinic",
            "provider",
            "room",
            "scheduled_date",
            "scheduled_time",
            "duration",
            "max_capacity",
            "group_notes",
        )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["patient"].queryset = Patient.objects.for_user(self.acting_user)

    def clean(self):
        cleaned_data = super().clean()
        check_slot_window(self, clinic=cleaned_data.get("clinic"), duration=cleaned_data.get("duration"))
        if self.errors or cleaned_data["session_type"] != Session.SessionType.INDIVIDUAL:
            return cleaned_data
        errors = {}
        if cleaned_data.get("patient") is None:
            errors["patient"] = _("Choose the patient of this individual session.")
        if cleaned_data["max_capacity"] != 1:
            errors["max_capacity"] = _("An individual session has exactly one seat.")
        if cleaned_data["group_notes"]:
            errors["group_notes"] = _("Group notes are only for group sessions.")
        if errors:
            raise forms.ValidationError(errors)
        return cleaned_data


SLOT_FIELDS = ("provider", "clinic", "room", "scheduled_date", "scheduled_time", "duration", "service_type")


class SessionChangeForm(ServiceForm):
    class Meta:
        model = Session
        fields = ("max_capacity", "group_notes")


class SessionParticipantInline(TenantScopedInline, admin.TabularInline):
    """The session's participants, read-only: their statuses change through actions."""

    model = SessionParticipant
    fields = (
        "appointment_number",
        "patient",
        "status",
        "finance_cleared",
        "consent_verified",
        "booked_at",
        "arrived_at",
        "cancel_reason",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = _("participants")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("patient")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AddParticipantFormSet(BaseInlineFormSet):
    """New rows, each booked by ``SessionAdmin.save_formset`` through the service."""


class AddParticipantInline(TenantScopedInline, admin.TabularInline):
    model = SessionParticipant
    formset = AddParticipantFormSet
    fields = ("patient",)
    autocomplete_fields = ("patient",)
    extra = 1
    can_delete = False
    verbose_name = _("patient")
    verbose_name_plural = _("add patients")

    def get_queryset(self, request):
        # Only empty rows: existing participants are listed by SessionParticipantInline.
        return super().get_queryset(request).none()

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Session)
class SessionAdmin(AccessLoggedAdminMixin, LargeListAdminMixin, ServiceFormAdmin):
    access_log_patient_path = None  # a group session is about many children
    # Changelists open on the newest rows.
    ordering = ("-scheduled_date", "-scheduled_time", "-pk")
    list_display = (
        "service_type",
        "seats",
        "session_type",
        "status",
        "scheduled_date",
        "scheduled_time",
        "provider",
        "clinic",
        "room",
    )
    # The clinic and provider filters offer the organisation's (listing those present in the
    # list would read every row), the date filter ranges; no date hierarchy, which reads
    # every row's date to offer the years.
    list_filter = (
        "status",
        "session_type",
        "clinic",
        ("provider", ProviderListFilter),
        "scheduled_date",
    )
    list_select_related = ("provider__user", "clinic", "room__clinic")
    search_fields = (
        "service_type",
        "provider__user__first_name",
        "provider__user__last_name",
        *(f"participants__patient__{name}" for name in PATIENT_SEARCH_FIELDS),
    )
    actions = ("start_sessions", "complete_sessions", "cancel_sessions", "reschedule_session")
    add_fieldsets = (
        (
            None,
            {
                "fields": (
                    "session_type",
                    "service_type",
                    "clinic",
                    "provider",
                    "room",
                    ("scheduled_date", "scheduled_time", "duration"),
                    "max_capacity",
                    "patient",
                    "group_notes",
                )
            },
        ),
    )
    change_fieldsets = (
        (
            None,
            {
                "fields": (
                    "session_type",
                    "service_type",
                    "status",
                    ("seats", "max_capacity"),
                    "clinic",
                    "provider",
                    "room",
                    ("scheduled_date", "scheduled_time", "duration"),
                    "group_notes",
                )
            },
        ),
        (
            _("Timeline"),
            {
                "fields": (
                    ("created_by", "created_at", "updated_at"),
                    ("started_at", "completed_at", "cancelled_at"),
                    "cancel_reason",
                    ("moved_from_date", "moved_from_time", "moved_at", "families_told_at"),
                )
            },
        ),
    )
    fixed_after_creation = (
        "session_type",
        "service_type",
        "status",
        "seats",
        "clinic",
        "provider",
        "room",
        "scheduled_date",
        "scheduled_time",
        "duration",
        "created_by",
        "created_at",
        "updated_at",
        "started_at",
        "completed_at",
        "cancelled_at",
        "cancel_reason",
        "moved_from_date",
        "moved_from_time",
        "moved_at",
        "families_told_at",
    )

    def get_queryset(self, request):
        # Ordered explicitly so the autocomplete's pagination is stable.
        return with_seats_taken(super().get_queryset(request)).order_by(
            "scheduled_date", "scheduled_time", "pk"
        )

    def get_fieldsets(self, request, obj=None):
        return self.add_fieldsets if obj is None else self.change_fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = SessionCreateForm if obj is None else SessionChangeForm
        return super().get_form(request, obj, change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        if obj.is_group and obj.is_open:
            return self.fixed_after_creation
        return (*self.fixed_after_creation, "max_capacity")

    def get_inlines(self, request, obj):
        if obj is None:
            return []
        if obj.is_open:
            return [SessionParticipantInline, AddParticipantInline, WaitlistEntryInline]
        return [SessionParticipantInline, WaitlistEntryInline]

    def save_model(self, request, obj, form, change):
        data, user = form.cleaned_data, request.user
        with refused_on(form):
            if change:
                if "max_capacity" in form.changed_data:
                    SessionService.change_capacity(obj, data["max_capacity"], user=user)
                if "group_notes" in form.changed_data:
                    SessionService.update_group_notes(obj, data["group_notes"], user=user)
                return
            slot = {name: data[name] for name in SLOT_FIELDS}
            if data["session_type"] == Session.SessionType.GROUP:
                session = SessionService.create_group_session(
                    **slot, max_capacity=data["max_capacity"], group_notes=data["group_notes"], user=user
                )
            else:
                session = SessionService.create_individual_session(**slot, patient=data["patient"], user=user)
        copy_state(obj, session)

    def save_formset(self, request, form, formset, change):
        if not isinstance(formset, AddParticipantFormSet):
            super().save_formset(request, form, formset, change)
            return
        formset.save(commit=False)  # collects the new rows, for the change message too
        for row in formset.saved_forms:
            with refused_on(row, "patient"):
                participant = SessionService.add_patient_to_session(
                    form.instance, row.cleaned_data["patient"], user=request.user
                )
            copy_state(row.instance, participant)  # the change message names the booked participant

    def get_deleted_objects(self, objs, request):
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        # Notes cascade with their session in the database; the admin refuses instead,
        # listing them as protected so Django shows "cannot delete" and deletes nothing.
        protected = [
            *protected,
            *(
                gettext("Clinical notes of %(session)s") % {"session": session}
                for session in objs
                if session_has_notes(session)
            ),
        ]
        return deleted, model_count, perms_needed, protected

    @admin.display(description=_("taken/capacity"), ordering="seats_taken")
    def seats(self, session: Session) -> str:
        return session.capacity_display

    start_sessions = service_action(
        _("Start the selected sessions"),
        start_in_time,
        ngettext_lazy("%(count)d session started.", "%(count)d sessions started.", "count"),
    )

    complete_sessions = service_action(
        _("Complete the selected sessions"),
        complete_in_time,
        ngettext_lazy("%(count)d session completed.", "%(count)d sessions completed.", "count"),
    )

    cancel_sessions = service_action(
        _("Cancel the selected sessions"),
        lambda session, user: SessionService.cancel_session(session, admin_cancel_reason(user), user=user),
        ngettext_lazy("%(count)d session cancelled.", "%(count)d sessions cancelled.", "count"),
    )

    @admin.action(description=_("Reschedule the selected session"))
    def reschedule_session(self, request: StaffRequest, queryset: QuerySet) -> TemplateResponse | None:
        """An intermediate page asks where one session moves, then ``SessionService.reschedule_session``.

        The page posts the action again with the form (``apply``); a refusal shows on it with
        what was typed. The page's form is the staff page's, so both keep the same rules.
        """
        selected = list(queryset.order_by("pk")[:2])
        if len(selected) != 1:
            self.message_user(request, gettext("Choose one session to reschedule."), messages.WARNING)
            return None
        session = selected[0]
        applying = "apply" in request.POST
        form = SessionRescheduleForm(
            request.POST if applying else None, user=request.user, session=session, refuse_past=False
        )
        if applying and form.is_valid():
            try:
                SessionService.reschedule_session(session, **form.cleaned_data, user=request.user)
            except SchedulingError as error:
                form.add_error(None, error)
            else:
                self.message_user(
                    request,
                    gettext(
                        "%(service)s moved to %(day)s %(time)s; every child keeps their booking. "
                        "Tell the families."
                    )
                    % {
                        "service": session.service_type,
                        "day": date_format(session.scheduled_date, "l j F Y"),
                        "time": time_format(session.scheduled_time, "H:i"),
                    },
                    messages.SUCCESS,
                )
                return None
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Reschedule a session"),
            "opts": self.model._meta,
            "session": session,
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "appointments/admin/session_reschedule.html", context)


# Participants ------------------------------------------------------------------------


class WaiveBillingAdminForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for waiving"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class SessionParticipantCreateForm(ServiceForm):
    class Meta:
        model = SessionParticipant
        fields = ("session", "patient")


class CheckInRefusalInline(TenantScopedInline, admin.TabularInline):
    """The participant's refused check-ins: audit records, read-only."""

    model = CheckInRefusal
    fields = ("refused_at", "gate", "message", "refused_by")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("refused_by")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SessionParticipant)
class SessionParticipantAdmin(AccessLoggedAdminMixin, LargeListAdminMixin, ServiceFormAdmin):
    """Participants are booked through the service and never edited by hand afterwards."""

    form = SessionParticipantCreateForm
    # Changelists open on the newest rows.
    ordering = ("-session__scheduled_date", "-session__scheduled_time", "-pk")
    list_display = (
        "appointment_number",
        "patient",
        "session",
        "status",
        "finance_cleared",
        "consent_verified",
        "cancelled_by",
        "is_late_cancellation",
        "billable",
        "billing_review_pending",
    )
    list_filter = (
        "status",
        "finance_cleared",
        "consent_verified",
        "cancelled_by",
        "cancel_category",
        "is_late_cancellation",
        "billable",
        "billing_review_pending",
        "session__clinic",
        "session__scheduled_date",
    )
    list_select_related = ("patient", "session")
    search_fields = (
        "appointment_number",
        "session__service_type",
        *(f"patient__{name}" for name in PATIENT_SEARCH_FIELDS),
    )
    autocomplete_fields = ("session", "patient")
    actions = (
        "confirm_participants",
        "clear_finance",
        "check_in_participants",
        "mark_attended",
        "mark_no_show",
        "cancel_participants",
        "mark_turned_away",
        "confirm_billing",
        "waive_billing",
    )
    # The page of one participant: read-only, as Django shows a page its user may not change;
    # it changes through the actions.
    view_fieldsets = (
        (None, {"fields": ("appointment_number", "session", "patient", ("status", "turned_away_at"))}),
        (
            _("Cancellation and billing"),
            {
                "fields": (
                    ("cancelled_by", "cancel_category", "is_late_cancellation"),
                    ("cancelled_at", "cancel_reason"),
                    ("billable", "billing_review_pending"),
                    ("billing_waived_by", "billing_waived_at"),
                    "billing_waived_reason",
                )
            },
        ),
    )

    def get_fieldsets(self, request, obj=None):
        return super().get_fieldsets(request, obj) if obj is None else self.view_fieldsets

    def get_inlines(self, request, obj):
        # A booked participant's refused check-ins; the add page books one, and has none.
        return [] if obj is None else [CheckInRefusalInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # Appointment numbers are never reused: cancel the participation instead.
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        with refused_on(form):
            participant = SessionService.add_patient_to_session(
                data["session"], data["patient"], user=request.user
            )
        copy_state(obj, participant)

    confirm_participants = service_action(
        _("Confirm the selected participants"),
        lambda participant, user: SessionService.confirm_participant(participant, user=user),
        ngettext_lazy("%(count)d participant confirmed.", "%(count)d participants confirmed.", "count"),
    )

    clear_finance = service_action(
        _("Clear finance for the selected participants"),
        lambda participant, user: SessionService.clear_finance(participant, user=user),
        ngettext_lazy(
            "Finance cleared for %(count)d participant.",
            "Finance cleared for %(count)d participants.",
            "count",
        ),
    )

    check_in_participants = service_action(
        _("Check in the selected participants"),
        lambda participant, user: SessionService.check_in_participant(participant, user=user),
        ngettext_lazy("%(count)d participant checked in.", "%(count)d participants checked in.", "count"),
    )

    mark_attended = service_action(
        _("Mark the selected participants as attended"),
        lambda participant, user: SessionService.mark_participant_attended(participant, user=user),
        ngettext_lazy(
            "%(count)d participant marked attended.", "%(count)d participants marked attended.", "count"
        ),
    )

    mark_no_show = service_action(
        _("Mark the selected participants as no-show"),
        mark_no_show_in_time,
        ngettext_lazy(
            "%(count)d participant marked no-show.", "%(count)d participants marked no-show.", "count"
        ),
    )

    cancel_participants = service_action(
        _("Cancel the selected participants"),
        lambda participant, user: SessionService.cancel_participant(
            participant, admin_cancel_reason(user), user=user
        ),
        ngettext_lazy("%(count)d participant cancelled.", "%(count)d participants cancelled.", "count"),
    )

    mark_turned_away = service_action(
        _("Mark the selected participants as turned away (refused at check-in)"),
        lambda participant, user: SessionService.mark_turned_away(participant, user=user),
        ngettext_lazy(
            "%(count)d participant marked turned away.", "%(count)d participants marked turned away.", "count"
        ),
    )

    confirm_billing = service_action(
        _("Confirm the selected auto-closed no-shows as billable"),
        lambda participant, user: SessionService.confirm_billing(participant, user=user),
        ngettext_lazy(
            "%(count)d no-show confirmed as billable.", "%(count)d no-shows confirmed as billable.", "count"
        ),
    )

    @admin.action(description=_("Waive the charge of the selected participants"))
    def waive_billing(self, request: StaffRequest, queryset: QuerySet) -> TemplateResponse | None:
        """An intermediate page asks why, then ``SessionService.waive_billing`` waives each row.

        The page posts the action again with the reason (``apply``); each row refused (not
        billable, already waived) is reported and the others are waived.
        """
        applying = "apply" in request.POST
        form = WaiveBillingAdminForm(request.POST if applying else None)
        if applying and form.is_valid():
            reason = form.cleaned_data["reason"]

            def waive(participant: Any) -> SessionParticipant:
                return SessionService.waive_billing(participant, reason=reason, user=request.user)

            apply_to_each(
                self,
                request,
                queryset,
                waive,
                lambda count: ngettext(
                    "The charge of %(count)d participant waived.",
                    "The charges of %(count)d participants waived.",
                    count,
                )
                % {"count": count},
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Waive the charge"),
            "opts": self.model._meta,
            "participants": queryset.select_related("patient", "session").order_by("pk"),
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "appointments/admin/participant_waive_billing.html", context)


@admin.register(CheckInRefusal)
class CheckInRefusalAdmin(AccessLoggedAdminMixin, ReadOnlyAdminMixin, TenantScopedAdmin):
    """Refused check-ins across the clinic: who tried, when, at which gate and what they were told.

    Audit records written by ``SessionService.check_in_participant``: nobody adds,
    changes or deletes one here.
    """

    access_log_patient_path = "participant__patient"
    list_display = ("refused_at", "participant", "patient", "gate", "refused_by", "message")
    # Changelists open on the newest rows.
    ordering = ("-refused_at", "-pk")
    list_filter = ("gate", ("participant__session__clinic", admin.RelatedOnlyFieldListFilter), "refused_at")
    list_select_related = ("participant__patient", "participant__session", "refused_by")
    search_fields = (
        "participant__appointment_number",
        *(f"participant__patient__{name}" for name in PATIENT_SEARCH_FIELDS),
    )
    date_hierarchy = "refused_at"
    fields = ("participant", "gate", "message", "refused_at", "refused_by")
    readonly_fields = fields
    actions = None

    @admin.display(description=_("patient"), ordering="participant__patient__last_name_en")
    def patient(self, refusal: CheckInRefusal) -> Patient:
        return refusal.participant.patient


# Waiting list ------------------------------------------------------------------------


class WaitlistEntryInline(TenantScopedInline, admin.TabularInline):
    """The session's waiting list, read-only: it changes through the pages and the entries' admin."""

    model = WaitlistEntry
    fields = (
        "patient",
        "status",
        "priority",
        "added_at",
        "offer_expires_at",
        "resolved_at",
        "family_told_at",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = _("waiting list")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("patient")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class WaitlistReorderForm(forms.Form):
    position = forms.IntegerField(label=_("New position"), min_value=1)
    reason = forms.CharField(
        label=_("Reason for the new order"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(AccessLoggedAdminMixin, ReadOnlyAdminMixin, TenantScopedAdmin, SimpleHistoryAdmin):
    """Waiting-list entries: written by ``SessionService`` (the pages add, withdraw and accept);
    here administrators read them, their history, and move a waiting child with a reason."""

    history_revert = False
    # Changelists open on the newest rows.
    ordering = ("-added_at", "-pk")
    list_display = (
        "session",
        "patient",
        "status",
        "position",
        "added_at",
        "offer_expires_at",
        "resolved_at",
        "family_told_at",
    )
    list_filter = ("status", ("session__clinic", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("session", "patient")
    search_fields = ("session__service_type", *(f"patient__{name}" for name in PATIENT_SEARCH_FIELDS))
    date_hierarchy = "added_at"
    fields = (
        "session",
        "patient",
        "series",
        ("status", "priority"),
        ("added_at", "added_by"),
        ("offered_at", "offer_expires_at"),
        ("resolved_at", "participant"),
        "family_told_at",
    )
    readonly_fields = (
        "session",
        "patient",
        "series",
        "status",
        "priority",
        "added_at",
        "added_by",
        "offered_at",
        "offer_expires_at",
        "resolved_at",
        "participant",
        "family_told_at",
    )
    actions = ("reorder_entry",)

    def get_queryset(self, request):
        return with_waiting_position(super().get_queryset(request))

    @admin.display(description=_("position"))
    def position(self, entry: WaitlistEntry) -> int | None:
        return entry.position

    @admin.action(description=_("Move the selected waiting child to another position"))
    def reorder_entry(self, request: StaffRequest, queryset: QuerySet) -> TemplateResponse | None:
        """An intermediate page asks for the new position and why, then ``SessionService.reorder_waitlist``.

        The page posts the action again with the form (``apply``); a refusal shows on it with
        what was typed. The reason is kept in the entry's history.
        """
        selected = list(queryset.select_related("session", "patient").order_by("pk")[:2])
        if len(selected) != 1:
            self.message_user(request, gettext("Choose one waiting child to move."), messages.WARNING)
            return None
        entry = selected[0]
        applying = "apply" in request.POST
        form = WaitlistReorderForm(request.POST if applying else None, initial={"position": entry.position})
        if applying and form.is_valid():
            try:
                SessionService.reorder_waitlist(entry, **form.cleaned_data, user=request.user)
            except SchedulingError as error:
                form.add_error(None, error)
            else:
                self.message_user(
                    request,
                    gettext("%(patient)s is now number %(position)d on the waiting list.")
                    % {"patient": entry.patient.full_name, "position": form.cleaned_data["position"]},
                    messages.SUCCESS,
                )
                return None
        waiting = with_waiting_position(
            WaitlistEntry.objects.filter(session=entry.session, status=WaitlistEntry.Status.WAITING)
        ).select_related("patient")
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Move a waiting child"),
            "opts": self.model._meta,
            "entry": entry,
            "waiting": waiting.order_by("priority", "pk"),
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "appointments/admin/waitlist_reorder.html", context)


# Series ------------------------------------------------------------------------------


class SeriesSessionInline(TenantScopedInline, admin.TabularInline):
    """The series' sessions, read-only: each moves or is cancelled through the series pages or
    its own admin page."""

    model = Session
    fields = ("scheduled_date", "scheduled_time", "duration", "status", "seats", "provider", "room")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = _("sessions")

    def get_queryset(self, request):
        return (
            with_seats_taken(super().get_queryset(request))
            .select_related("provider__user", "room__clinic")
            .order_by("scheduled_date", "scheduled_time", "pk")
        )

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("taken/capacity"))
    def seats(self, session: Session) -> str:
        return session.capacity_display


class SeriesEnrolmentInline(TenantScopedInline, admin.TabularInline):
    """The children enrolled, read-only: ``SeriesService`` enrols and withdraws them."""

    model = SeriesEnrolment
    fields = ("patient", "enrolled_at", "enrolled_by", "withdrawn_at", "withdrawn_by", "withdraw_reason")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = _("enrolled children")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("patient", "enrolled_by", "withdrawn_by")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class SeriesSkippedDateInline(TenantScopedInline, admin.TabularInline):
    """The dates of the rule with no session (holiday, clash skipped, cancelled), read-only."""

    model = SeriesSkippedDate
    fields = ("date", "why", "detail")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("skipped dates")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SessionSeries)
class SessionSeriesAdmin(AccessLoggedAdminMixin, ReadOnlyAdminMixin, TenantScopedAdmin, SimpleHistoryAdmin):
    """Series, read-only: ``SeriesService`` creates them with their sessions, and enrols, withdraws,
    cancels and moves; the admin shows each with its sessions, children and skipped dates."""

    access_log_patient_path = "patient"  # an individual series' child; a group's children are enrolled
    history_revert = False
    list_display = (
        "name",
        "clinic",
        "provider",
        "frequency",
        "dates",
        "session_count",
        "enrolled_count",
    )
    list_filter = (
        "frequency",
        "session_type",
        ("clinic", admin.RelatedOnlyFieldListFilter),
        ("provider", ProviderListFilter),
    )
    list_select_related = ("clinic", "provider__user")
    search_fields = ("title", "service_type", *(f"patient__{name}" for name in PATIENT_SEARCH_FIELDS))
    date_hierarchy = "start_date"
    fields = (
        ("title", "service_type"),
        ("session_type", "max_capacity", "patient"),
        "clinic",
        ("provider", "room"),
        ("frequency", "start_date", "scheduled_time", "duration"),
        ("occurrence_count", "end_date"),
        "group_notes",
        ("created_by", "created_at"),
    )
    readonly_fields = (
        "title",
        "service_type",
        "session_type",
        "max_capacity",
        "patient",
        "clinic",
        "provider",
        "room",
        "frequency",
        "start_date",
        "scheduled_time",
        "duration",
        "occurrence_count",
        "end_date",
        "group_notes",
        "created_by",
        "created_at",
    )
    inlines = (SeriesSessionInline, SeriesEnrolmentInline, SeriesSkippedDateInline)

    def get_queryset(self, request):
        # Counting groups the rows, which drops Meta.ordering: order explicitly.
        return (
            super()
            .get_queryset(request)
            .annotate(
                session_count=Count("sessions", distinct=True),
                enrolled_count=Count(
                    "enrolments", filter=Q(enrolments__withdrawn_at__isnull=True), distinct=True
                ),
                first_date=Min("sessions__scheduled_date"),
                last_date=Max("sessions__scheduled_date"),
            )
            .order_by("-start_date", "scheduled_time", "pk")
        )

    @admin.display(description=_("series"), ordering="title")
    def name(self, series: SessionSeries) -> str:
        return str(series)

    @admin.display(description=_("dates"), ordering="first_date")
    def dates(self, series: SessionSeries) -> str:
        if series.first_date is None:  # type: ignore[attr-defined]
            return ""
        first, last = series.first_date, series.last_date  # type: ignore[attr-defined]
        return f"{date_format(first, 'd/m/Y')} - {date_format(last, 'd/m/Y')}"

    @admin.display(description=_("sessions"), ordering="session_count")
    def session_count(self, series: SessionSeries) -> int:
        return series.session_count  # type: ignore[attr-defined]

    @admin.display(description=_("enrolled"), ordering="enrolled_count")
    def enrolled_count(self, series: SessionSeries) -> int:
        return series.enrolled_count  # type: ignore[attr-defined]


@admin.register(SeriesEnrolment)
class SeriesEnrolmentAdmin(AccessLoggedAdminMixin, ReadOnlyAdminMixin, TenantScopedAdmin, SimpleHistoryAdmin):
    """Enrolments, read-only: ``SeriesService`` enrols a child in a group series and withdraws them."""

    history_revert = False
    list_display = ("series", "patient", "enrolled_at", "enrolled_by", "withdrawn_at", "withdrawn_by")
    # Changelists open on the newest rows.
    ordering = ("-enrolled_at", "-pk")
    list_filter = (("series__clinic", admin.RelatedOnlyFieldListFilter),)
    list_select_related = ("series", "patient", "enrolled_by", "withdrawn_by")
    search_fields = (
        "series__title",
        "series__service_type",
        *(f"patient__{name}" for name in PATIENT_SEARCH_FIELDS),
    )
    date_hierarchy = "enrolled_at"
    fields = (
        "series",
        "patient",
        ("enrolled_at", "enrolled_by"),
        ("withdrawn_at", "withdrawn_by"),
        "withdraw_reason",
    )
    readonly_fields = (
        "series",
        "patient",
        "enrolled_at",
        "enrolled_by",
        "withdrawn_at",
        "withdrawn_by",
        "withdraw_reason",
    )


@admin.register(SeriesSkippedDate)
class SeriesSkippedDateAdmin(AccessLoggedAdminMixin, ReadOnlyAdminMixin, TenantScopedAdmin):
    """Skipped dates, read-only: written with their series, or when an occurrence is cancelled.

    Logged: a date an individual series skipped for a clash names the child booked elsewhere.
    """

    access_log_patient_path = "series__patient"
    list_display = ("date", "series", "why", "detail")
    # Changelists open on the newest rows.
    ordering = ("-date", "-pk")
    list_filter = ("why", ("series__clinic", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("series",)
    search_fields = ("series__title", "series__service_type", "detail")
    date_hierarchy = "date"
    fields = ("series", "date", "why", "detail")
    readonly_fields = fields


# Legacy appointments -----------------------------------------------------------------


class AppointmentBookAdminForm(ServiceForm):
    class Meta:
        model = Appointment
        fields = (
            "patient",
            "service_type",
            "clinic",
            "provider",
            "room",
            "scheduled_date",
            "scheduled_time",
            "duration",
            "notes",
        )

    def clean(self):
        cleaned_data = super().clean()
        check_slot_window(self, clinic=cleaned_data.get("clinic"), duration=cleaned_data.get("duration"))
        return cleaned_data


RESCHEDULE_FIELDS = ("scheduled_date", "scheduled_time", "room", "duration")


class AppointmentRescheduleForm(ServiceForm):
    class Meta:
        model = Appointment
        fields = RESCHEDULE_FIELDS

    def clean(self):
        cleaned_data = super().clean()
        if self.changed_data:  # an unchanged slot is not a new booking
            check_slot_window(self, clinic=self.instance.clinic, duration=cleaned_data.get("duration"))
        return cleaned_data


@admin.register(Appointment)
class AppointmentAdmin(AccessLoggedAdminMixin, LargeListAdminMixin, ServiceFormAdmin):
    # Changelists open on the newest rows.
    ordering = ("-scheduled_date", "-scheduled_time", "-pk")
    list_display = (
        "appointment_number",
        "patient",
        "service_type",
        "status",
        "scheduled_date",
        "scheduled_time",
        "provider",
        "clinic",
        "finance_cleared",
        "consent_verified",
    )
    list_filter = ("status", "clinic", "finance_cleared", "scheduled_date")
    list_select_related = ("patient", "provider__user", "clinic")
    search_fields = (
        "appointment_number",
        "service_type",
        *(f"patient__{name}" for name in PATIENT_SEARCH_FIELDS),
    )
    autocomplete_fields = ("patient",)
    actions = (
        "confirm_appointments",
        "clear_finance",
        "check_in_appointments",
        "start_appointments",
        "complete_appointments",
        "mark_no_show",
        "cancel_appointments",
    )
    add_fields = AppointmentBookAdminForm.Meta.fields
    change_fieldsets = (
        (
            None,
            {
                "fields": (
                    ("appointment_number", "status"),
                    "patient",
                    "service_type",
                    "clinic",
                    "provider",
                    "room",
                    ("scheduled_date", "scheduled_time", "duration"),
                    "notes",
                )
            },
        ),
        (
            _("Gates and timeline"),
            {
                "fields": (
                    ("finance_cleared", "finance_cleared_by", "finance_cleared_at"),
                    ("consent_verified", "consent_verified_at"),
                    ("confirmed_at", "arrived_at", "started_at"),
                    ("completed_at", "cancelled_at", "no_show_at"),
                    ("cancel_reason", "reschedule_count"),
                    ("created_by", "created_at", "updated_at"),
                )
            },
        ),
    )

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return ((None, {"fields": self.add_fields}),)
        return self.change_fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = AppointmentBookAdminForm if obj is None else AppointmentRescheduleForm
        return super().get_form(request, obj, change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        every_field = [
            name for fieldset in self.change_fieldsets for name in field_names(fieldset[1]["fields"])
        ]
        reschedulable = obj.status in (Appointment.Status.BOOKED, Appointment.Status.CONFIRMED)
        return [name for name in every_field if not (reschedulable and name in RESCHEDULE_FIELDS)]

    def has_delete_permission(self, request, obj=None):
        # Appointment numbers are never reused: cancel the appointment instead.
        return False

    def save_model(self, request, obj, form, change):
        with refused_on(form):
            if not change:
                copy_state(obj, AppointmentService.book_appointment(**form.cleaned_data, user=request.user))
            elif set(form.changed_data) & set(RESCHEDULE_FIELDS):
                AppointmentService.reschedule(obj, **form.cleaned_data, user=request.user)

    confirm_appointments = service_action(
        _("Confirm the selected appointments"),
        lambda appointment, user: AppointmentService.confirm(appointment, user=user),
        ngettext_lazy("%(count)d appointment confirmed.", "%(count)d appointments confirmed.", "count"),
    )

    clear_finance = service_action(
        _("Clear finance for the selected appointments"),
        lambda appointment, user: AppointmentService.clear_finance(appointment, user=user),
        ngettext_lazy(
            "Finance cleared for %(count)d appointment.",
            "Finance cleared for %(count)d appointments.",
            "count",
        ),
    )

    check_in_appointments = service_action(
        _("Check in the selected appointments"),
        lambda appointment, user: AppointmentService.check_in(appointment, user=user),
        ngettext_lazy("%(count)d appointment checked in.", "%(count)d appointments checked in.", "count"),
    )

    start_appointments = service_action(
        _("Start the selected appointments"),
        lambda appointment, user: AppointmentService.start(appointment, user=user),
        ngettext_lazy("%(count)d appointment started.", "%(count)d appointments started.", "count"),
    )

    complete_appointments = service_action(
        _("Complete the selected appointments"),
        lambda appointment, user: AppointmentService.complete(appointment, user=user),
        ngettext_lazy("%(count)d appointment completed.", "%(count)d appointments completed.", "count"),
    )

    mark_no_show = service_action(
        _("Mark the selected appointments as no-show"),
        lambda appointment, user: AppointmentService.mark_no_show(appointment, user=user),
        ngettext_lazy(
            "%(count)d appointment marked no-show.", "%(count)d appointments marked no-show.", "count"
        ),
    )

    cancel_appointments = service_action(
        _("Cancel the selected appointments"),
        lambda appointment, user: AppointmentService.cancel(
            appointment, admin_cancel_reason(user), user=user
        ),
        ngettext_lazy("%(count)d appointment cancelled.", "%(count)d appointments cancelled.", "count"),
    )


def field_names(fields: Iterable) -> list[str]:
    return [name for item in fields for name in (item if isinstance(item, tuple) else (item,))]


@admin.register(AppointmentNumberCounter)
class AppointmentNumberCounterAdmin(TenantScopedAdmin):
    """Read-only: the counters are advanced only inside booking transactions."""

    list_display = ("tenant", "year", "last_number")
    list_filter = ("year",)
    list_select_related = ("tenant",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# The family messages' admins (appointments.reminders.admin) register when this module loads.
from appointments.reminders import admin as reminders_admin  # noqa: E402, F401
