"""Django admin's audit pages: who read a child's record, what a user read, privilege changes,
break-the-glass accesses and refused attempts.

A regulator, or a family, asks an organisation's administrator "who looked at this
child's record?"; these pages answer from the audit tables (``core.AccessLog``,
``core.UserPrivilegeChange``, ``core.BreakGlassGrant``):

- the access log, filtered by a patient's MRN (who accessed patient X), by user and
  dates (what user Y read, and when), or by action (``denied``: the refused attempts;
  ``break_glass``: the reads under a break-the-glass grant);
- privilege changes (role, organisation, staff, superuser and active flags);
- break-the-glass accesses, unacknowledged first, with an "Acknowledge" action
  (``core.break_glass.acknowledge_grant``).

They are audit records: every page is read-only (no add, change or delete, for
superusers too), inside the administrator's organisation like every admin of ours
(``core.admin.TenantScopedAdmin``), paginated and exportable to CSV ("Export CSV" exports
the list as filtered). Reading the log can itself disclose a child's record: an access
log filtered by a patient writes a ``view`` row for that patient, and every export
writes an ``export`` row (``core.access_log.record_access``), both naming the query.
"""

import csv
import datetime
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG, ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F, QuerySet
from django.db.models.constants import LOOKUP_SEP
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_stubs_ext import StrOrPromise
from simple_history.admin import SimpleHistoryAdmin

from core import clock
from core.access_log import record_access
from core.access_logging import AccessLoggedAdminMixin
from core.admin import TenantScopedAdmin
from core.break_glass import acknowledge_grant
from core.form_fields import CalendarDateField
from core.models import (
    MRN_MAX_LENGTH,
    AccessLog,
    AuditSeal,
    BreakGlassGrant,
    Patient,
    User,
    UserPrivilegeChange,
    normalise_mrn,
)
from core.permissions import StaffRequest

DAY_FIRST = "%d/%m/%Y %H:%M:%S"
# What a date box sends (ISO), and a date typed day first; never month first.
DATE_INPUT_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")
# A cell a spreadsheet would read as a formula (CSV injection): exported with a leading quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
REASON_SHOWN_CHARACTERS = 80
# How core.privileges records a flag.
FLAG_VALUES = {"True": _("Yes"), "False": _("No")}


def day_first(moment: datetime.datetime | None) -> str:
    """``moment`` in the installation's time zone, day first (31/12/2026 14:05:09), as clinics write dates."""
    if moment is None:
        return ""
    return timezone.localtime(moment, timezone.get_default_timezone()).strftime(DAY_FIRST)


def start_of(day: datetime.date) -> datetime.datetime:
    """Midnight starting ``day`` in the installation's time zone."""
    return timezone.make_aware(
        datetime.datetime.combine(day, datetime.time()), timezone.get_default_timezone()
    )


# Filters the administrator types into -----------------------------------------------------------


class InputFilter(ABC, admin.ListFilter):
    """A list filter with a box to type a value into (an MRN, a date), for values too many to list.

    Input it can't read, or that names nothing the administrator may see, is shown as an
    error beside the box, and the list is then empty: a list or an export must never look
    filtered while it isn't.
    """

    template = "core/admin/input_filter.html"
    parameter_name: str
    input_type = "text"

    def __init__(self, request, params, model, model_admin) -> None:
        super().__init__(request, params, model, model_admin)
        values = params.pop(self.parameter_name, None)
        self.raw: str | None = values[-1] if values else None
        if self.raw is not None:
            self.used_parameters[self.parameter_name] = self.raw
        self.error = ""
        self.value: Any = None
        if self.raw is not None and self.raw.strip():
            try:
                self.value = self.parse(request, self.raw.strip())
            except ValidationError as error:
                self.error = " ".join(error.messages)

    @abstractmethod
    def parse(self, request: HttpRequest, raw: str) -> Any:
        """The value ``raw`` stands for; ValidationError (its message shown) if it stands for none."""

    @abstractmethod
    def apply(self, queryset: QuerySet, value: Any) -> QuerySet:
        """``queryset`` narrowed to ``value``."""

    def shown(self) -> str:
        """What the box's value was read as, shown under it."""
        return ""

    def has_output(self) -> bool:
        return True

    def expected_parameters(self) -> list[str | None]:
        return [self.parameter_name]

    def queryset(self, request, queryset):
        if self.error:
            return queryset.none()
        return queryset if self.value is None else self.apply(queryset, self.value)

    def choices(self, changelist: ChangeList) -> Iterator[dict[str, Any]]:
        # One choice, "All", which also carries the list's other parameters for the box's form.
        yield {
            "selected": self.raw is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": _("All"),
            "hidden": [
                (name, value)
                for name, values in changelist.filter_params.items()
                if name != self.parameter_name
                for value in values
            ],
        }


class PatientMrnFilter(InputFilter):
    """Who accessed patient X: the patient is named by MRN, looked up inside the administrator's
    organisation (another organisation's MRN is answered as an unknown one)."""

    title = _("patient (MRN)")
    parameter_name = "mrn"

    def parse(self, request: HttpRequest, raw: str) -> list[Patient]:
        mrn = normalise_mrn(raw)
        # A superuser may find one MRN in two organisations: the list shows both children. An MRN
        # too long for any patient is looked up nowhere (a NUL never gets here: AuditAdmin.lookup_allowed).
        patients = (
            list(Patient.objects.for_user(request.user).filter(mrn=mrn)[:10])
            if len(mrn) <= MRN_MAX_LENGTH
            else []
        )
        if not patients:
            raise ValidationError(_("No patient has this MRN."))
        return patients

    def apply(self, queryset: QuerySet, value: list[Patient]) -> QuerySet:
        return queryset.filter(patient_id__in=[patient.pk for patient in value])

    def shown(self) -> str:
        return ", ".join(str(patient) for patient in self.value or [])

    def patients(self) -> list[Patient]:
        return [] if self.error else list(self.value or [])


class DateBoundFilter(InputFilter):
    """One end of a date range on ``field_path``: days of the installation's time zone, both included."""

    input_type = "date"
    field_path: str

    def parse(self, request: HttpRequest, raw: str) -> datetime.date:
        return CalendarDateField(input_formats=DATE_INPUT_FORMATS).clean(raw)


class DateFromFilter(DateBoundFilter):
    title = _("from date")

    def apply(self, queryset: QuerySet, value: datetime.date) -> QuerySet:
        return queryset.filter(**{f"{self.field_path}__gte": start_of(value)})


class DateToFilter(DateBoundFilter):
    title = _("to date")

    def apply(self, queryset: QuerySet, value: datetime.date) -> QuerySet:
        return queryset.filter(**{f"{self.field_path}__lt": start_of(value + datetime.timedelta(days=1))})


def date_range(field_path: str) -> tuple[type[DateFromFilter], type[DateToFilter]]:
    """The "from date" and "to date" filters of ``field_path``."""
    return (
        type("DateFromFilter", (DateFromFilter,), {"field_path": field_path, "parameter_name": "date_from"}),
        type("DateToFilter", (DateToFilter,), {"field_path": field_path, "parameter_name": "date_to"}),
    )


class AcknowledgedFilter(admin.SimpleListFilter):
    title = _("acknowledged")
    parameter_name = "acknowledged"

    def lookups(self, request, model_admin):
        return (("no", _("No")), ("yes", _("Yes")))

    def queryset(self, request, queryset):
        if self.value() in ("no", "yes"):
            return queryset.filter(acknowledged_at__isnull=self.value() == "no")
        return queryset


# The pages ----------------------------------------------------------------------------------------


def csv_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Echo:
    """A file whose ``write`` hands back what it is given: csv.writer then yields each line."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: list[str], rows: Iterable[list[object]]) -> Iterator[str]:
    """CSV lines, the first with a UTF-8 byte order mark: Excel then reads Arabic names right."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(header)
    for row in rows:
        yield writer.writerow([csv_cell(value) for value in row])


Column = tuple[StrOrPromise, Callable[[Any], object]]


class ReadOnlyAdminMixin(admin.ModelAdmin):
    """Audit records: nobody adds, changes or deletes them by hand, superusers included."""

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AuditAdmin(ReadOnlyAdminMixin, TenantScopedAdmin):
    """A read-only page over audit records, with "Export CSV" of the list as filtered.

    ``export_columns`` names the export's columns; ``export_object_type`` is the
    ``object_type`` of the ``export`` row each export writes to the access log.
    """

    change_list_template = "core/admin/audit_change_list.html"
    list_per_page = 50
    # The log grows for years: no count of the whole table and no facet counts on every page.
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    actions: Any = None
    export_object_type: str
    export_columns: tuple[Column, ...]
    # Rows per fetch while streaming an export (a server-side cursor, so memory stays flat).
    export_chunk_size = 2000

    def get_list_display(self, request):
        shown = super().get_list_display(request)
        return (*shown, "tenant") if request.user.is_superuser else shown

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        return (*filters, "tenant") if request.user.is_superuser else filters

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        export = path(
            "export/", self.admin_site.admin_view(self.export_view), name="{}_{}_export".format(*info)
        )
        return [export, *super().get_urls()]

    def filtered_patients(self, changelist: ChangeList) -> list[Patient]:
        """The patients the list is filtered by (their reads are logged)."""
        return [
            patient
            for spec in changelist.filter_specs
            if isinstance(spec, PatientMrnFilter)
            for patient in spec.patients()
        ]

    def export_view(self, request: HttpRequest) -> HttpResponseBase:
        """The list as filtered, as a streamed CSV file; the export itself is logged."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist_url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseRedirect(f"{changelist_url}?{ERROR_FLAG}=1")
        if any(getattr(spec, "error", "") for spec in changelist.filter_specs):
            # The list page shows the filter's error beside its box.
            return HttpResponseRedirect(f"{changelist_url}?{request.GET.urlencode()}")
        query = request.GET.urlencode()
        patients: list[Patient | None] = [*self.filtered_patients(changelist)] or [None]
        written = [
            record_access(
                request,
                action=AccessLog.Action.EXPORT,
                object_type=self.export_object_type,
                object_id=query,
                patient_id=patient.pk if patient else None,
                tenant_id=patient.tenant_id if patient else None,
            ).pk
            for patient in patients
        ]
        listed = changelist.queryset
        if self.model is AccessLog:
            # The list as it was asked for: without the row recording this very export.
            listed = listed.exclude(pk__in=written)
        # The file is written after this view returns: headers now, in the request's language.
        header = [str(title) for title, _value in self.export_columns]
        language = translation.get_language()
        rows = listed.iterator(chunk_size=self.export_chunk_size)

        def lines() -> Iterator[str]:
            with translation.override(language):
                yield from csv_lines(
                    header, ([value(row) for _title, value in self.export_columns] for row in rows)
                )

        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
        filename = f"{self.export_object_type.removesuffix('_export')}-{clock.now():%Y%m%d-%H%M}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


def shown_patient(log: AccessLog) -> Patient | None:
    """The row's patient, when of the row's organisation (a refused attempt may name another's id)."""
    patient = log.patient if log.patient_id is not None else None
    return patient if patient is not None and patient.tenant_id == log.tenant_id else None


def user_and_actor(log: AccessLog) -> str:
    """The login name the row recorded, with the user's name today when it differs."""
    name = log.user.get_full_name() if log.user is not None else ""
    return f"{log.actor} ({name})" if name and name != log.actor else log.actor


@admin.register(AccessLog)
class AccessLogAdmin(AuditAdmin):
    """Who accessed patient X (the MRN filter), what user Y read (user and date filters), and the
    denied attempts and break-the-glass reads (the action filter)."""

    list_display = ("at_shown", "who", "action", "object_type", "object_id", "patient_shown", "ip")
    list_filter = (PatientMrnFilter, "user", "action", *date_range("at"))
    list_select_related = ("user", "patient", "tenant")
    search_fields = ("actor", "object_type", "object_id")
    export_object_type = "access_log_export"
    export_columns: tuple[Column, ...] = (
        (_("at"), lambda log: day_first(log.at)),
        (_("actor"), lambda log: log.actor),
        (_("user"), lambda log: log.user.get_full_name() if log.user is not None else ""),
        (_("action"), lambda log: log.get_action_display()),
        (_("object type"), lambda log: log.object_type),
        (_("object id"), lambda log: log.object_id),
        (_("medical record number"), lambda log: getattr(shown_patient(log), "mrn", "")),
        (_("patient"), lambda log: getattr(shown_patient(log), "full_name_en", "")),
        (_("patient (Arabic)"), lambda log: getattr(shown_patient(log), "full_name_ar", "")),
        (_("IP address"), lambda log: log.ip),
        (_("request id"), lambda log: log.request_id),
        (_("tenant"), lambda log: log.tenant.code if log.tenant is not None else ""),
    )

    @admin.display(description=_("at"), ordering="at")
    def at_shown(self, log: AccessLog) -> str:
        return day_first(log.at)

    @admin.display(description=_("user"), ordering="actor")
    def who(self, log: AccessLog) -> str:
        return user_and_actor(log)

    @admin.display(description=_("patient"))
    def patient_shown(self, log: AccessLog) -> str:
        patient = shown_patient(log)
        return "" if patient is None else str(patient)

    def lookup_allowed(self, lookup, value, request=None):
        # A patient's trail is found by the MRN filter only, which logs the read; a raw
        # ``?patient=<id>`` would show it unlogged.
        if lookup.split(LOOKUP_SEP)[0] in ("patient", "patient_id"):
            return False
        return super().lookup_allowed(lookup, value, request)

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        changelist = (getattr(response, "context_data", None) or {}).get("cl")
        if changelist is not None:
            # Who accessed patient X names X: that is a read of X's record, logged like any other.
            for patient in self.filtered_patients(changelist):
                record_access(
                    request,
                    action=AccessLog.Action.VIEW,
                    object_type="access_log",
                    object_id=request.GET.urlencode(),
                    patient_id=patient.pk,
                    tenant_id=patient.tenant_id,
                )
        return response


def privilege_value(change: UserPrivilegeChange, value: str) -> str:
    """A recorded value as the page reads it: a role's label, "Yes"/"No" for a flag, an organisation's
    code as it is (the export keeps the values as recorded)."""
    if change.field == UserPrivilegeChange.Field.ROLE:
        return str(dict(User.Role.choices).get(value, value))
    if change.field != UserPrivilegeChange.Field.TENANT and value in FLAG_VALUES:
        return str(FLAG_VALUES[value])
    return value


@admin.register(UserPrivilegeChange)
class UserPrivilegeChangeAdmin(AuditAdmin):
    list_display = ("at_shown", "user", "field", "old_shown", "new_shown", "changed_by")
    list_filter = ("field", "user", "changed_by", *date_range("at"))
    list_select_related = ("user", "changed_by", "tenant")
    export_object_type = "privilege_change_export"
    export_columns: tuple[Column, ...] = (
        (_("at"), lambda change: day_first(change.at)),
        (_("user"), lambda change: change.user.get_username()),
        (_("name"), lambda change: change.user.get_full_name()),
        (_("field"), lambda change: change.get_field_display()),
        (_("old value"), lambda change: change.old_value),
        (_("new value"), lambda change: change.new_value),
        (_("changed by"), lambda change: change.changed_by.get_username() if change.changed_by else ""),
        (_("tenant"), lambda change: change.tenant.code if change.tenant is not None else ""),
    )

    @admin.display(description=_("at"), ordering="at")
    def at_shown(self, change: UserPrivilegeChange) -> str:
        return day_first(change.at)

    @admin.display(description=_("old value"))
    def old_shown(self, change: UserPrivilegeChange) -> str:
        return privilege_value(change, change.old_value)

    @admin.display(description=_("new value"))
    def new_shown(self, change: UserPrivilegeChange) -> str:
        return privilege_value(change, change.new_value)


def acknowledgement_message(count: int) -> str:
    return ngettext(
        "%(count)d break-the-glass access acknowledged.",
        "%(count)d break-the-glass accesses acknowledged.",
        count,
    ) % {"count": count}


@admin.register(BreakGlassGrant)
class BreakGlassGrantAdmin(AccessLoggedAdminMixin, AuditAdmin, SimpleHistoryAdmin):
    """Break-the-glass accesses for review, unacknowledged first; "Acknowledge" records the review."""

    list_display = (
        "started_shown",
        "user",
        "patient",
        "reason_shown",
        "expires_shown",
        "acknowledged",
        "acknowledged_by",
        "acknowledged_shown",
    )
    list_filter = (AcknowledgedFilter, ("user", admin.RelatedOnlyFieldListFilter), *date_range("started_at"))
    list_select_related = ("user", "patient", "acknowledged_by", "tenant")
    # Unacknowledged (no acknowledgement time) first, newest first.
    ordering = (F("acknowledged_at").desc(nulls_first=True), "-started_at")
    actions = ("acknowledge",)
    # Grants change only through core.break_glass: their versions are listed, never written back.
    history_revert = False
    export_object_type = "break_glass_export"
    export_columns: tuple[Column, ...] = (
        (_("started at"), lambda grant: day_first(grant.started_at)),
        (_("clinician"), lambda grant: grant.user.get_username()),
        (_("name"), lambda grant: grant.user.get_full_name()),
        (_("medical record number"), lambda grant: grant.patient.mrn),
        (_("patient"), lambda grant: grant.patient.full_name_en),
        (_("patient (Arabic)"), lambda grant: grant.patient.full_name_ar),
        (_("reason"), lambda grant: grant.reason),
        (_("expires at"), lambda grant: day_first(grant.expires_at)),
        (
            _("acknowledged by"),
            lambda grant: grant.acknowledged_by.get_username() if grant.acknowledged_by else "",
        ),
        (_("acknowledged at"), lambda grant: day_first(grant.acknowledged_at)),
        (_("tenant"), lambda grant: grant.tenant.code),
    )

    @admin.display(description=_("started at"), ordering="started_at")
    def started_shown(self, grant: BreakGlassGrant) -> str:
        return day_first(grant.started_at)

    @admin.display(description=_("expires at"), ordering="expires_at")
    def expires_shown(self, grant: BreakGlassGrant) -> str:
        return day_first(grant.expires_at)

    @admin.display(description=_("acknowledged at"), ordering="acknowledged_at")
    def acknowledged_shown(self, grant: BreakGlassGrant) -> str:
        return day_first(grant.acknowledged_at)

    @admin.display(description=_("acknowledged"), boolean=True)
    def acknowledged(self, grant: BreakGlassGrant) -> bool:
        return grant.acknowledged_at is not None

    @admin.display(description=_("reason"))
    def reason_shown(self, grant: BreakGlassGrant) -> str:
        return Truncator(grant.reason).chars(REASON_SHOWN_CHARACTERS)

    @admin.action(description=_("Acknowledge"))
    def acknowledge(self, request: StaffRequest, queryset: QuerySet[BreakGlassGrant]) -> None:
        """Acknowledge each ticked grant through the service; a refusal is reported, the rest go on."""
        done = 0
        for grant in queryset.order_by("pk"):
            try:
                acknowledge_grant(grant.pk, user=request.user)
            except ValidationError as error:
                self.message_user(request, f"{grant}: {' '.join(error.messages)}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, acknowledgement_message(done), messages.SUCCESS)


@admin.register(AuditSeal)
class AuditSealAdmin(ReadOnlyAdminMixin):
    """The audit tables' seals, for the platform's operators.

    A seal spans every organisation, so it declares no tenant and the admin site shows it
    to superusers only (``core.admin_site``).
    """

    list_display = (
        "id",
        "kind",
        "table_name",
        "first_id",
        "last_id",
        "row_count",
        "sealed_shown",
        "chain_head",
    )
    list_filter = ("kind", "table_name")
    # Changelists open on the newest rows.
    ordering = ("-id",)
    fields = list_display
    readonly_fields = list_display
    list_per_page = 50
    show_full_result_count = False

    @admin.display(description=_("sealed at"), ordering="sealed_at")
    def sealed_shown(self, seal: AuditSeal) -> str:
        return day_first(seal.sealed_at)

    @admin.display(description=_("chain hash"))
    def chain_head(self, seal: AuditSeal) -> str:
        return bytes(seal.chain_hash).hex()
