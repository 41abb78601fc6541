"""Admin building blocks shared by the psychology, OT and ABA note admins.

A draft is edited like any model (``save()`` enforces invariant 7); a signed note
is read-only - its fields, its rows - and takes only new addenda, written through
``NoteService.add_addendum`` when the page saves. A note or addendum refused
there is shown on its form (``core.admin.ServiceAdmin``). Signing is an admin
action calling ``NoteService.sign_note``. Signed notes can't be deleted (the delete
page says so), and "delete selected" is not offered: it would bypass that rule. A
note's history lists its versions; none is ever written back (no revert).

A draft's page carries the version of the note it was built from
(``loaded_version``); a save from an older version is refused on the form
(``NoteService.save_draft``), and the page shown again carries the current version,
so the edit can be checked against the note's history and saved again.
"""

from typing import Any, ClassVar, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.forms.models import construct_instance
from django.http import HttpResponseRedirect, QueryDict
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from appointments.notes.exceptions import NoteError
from appointments.notes.forms import merge_untouched
from appointments.notes.models import ClinicalNote, ClinicalNoteAddendum
from appointments.notes.services import NoteService
from appointments.workflow import copy_state
from core.access_logging import AccessLoggedAdminMixin
from core.admin import ProviderListFilter, ServiceAdmin, TenantScopedAdmin, TenantScopedInline, refused_on

SIGNED_NOTE_IS_KEPT = _("A signed note is part of the record and can't be deleted; add an addendum instead.")
LINK_FIELDS = ("session", "session_participant", "appointment")
FILLED_FROM_LINKS = ("patient", "provider", "session_date", "session", "session_participant")
SIGNATURE_FIELDS = ("status", "signed_by", "signed_at", "created_by", "created_at", "updated_at")
PATIENT_SEARCH_FIELDS = (
    "patient__mrn",
    "patient__first_name_en",
    "patient__last_name_en",
    "patient__first_name_ar",
    "patient__last_name_ar",
    "session_participant__appointment_number",
    "appointment__appointment_number",
)


def stored_as_signed(note: ClinicalNote | None) -> bool:
    """Whether the saved row is signed (the in-memory object may hold a reverted draft)."""
    if note is None or note.pk is None:
        return False
    return type(note)._base_manager.filter(pk=note.pk, status=ClinicalNote.Status.SIGNED).exists()


def _draft_fields(note: ClinicalNote) -> tuple[str, ...]:
    """What the admin edits on a draft (the links and the signature are read-only)."""
    return ("provider", "session_date", *note.CONTENT_FIELDS)


def _as_version(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


class ClinicalNoteAdminForm(forms.ModelForm):
    """Fills in what the links imply, and shows a broken link as a form error, before Django
    validates the model (its constraints need the filled-in session).

    ``loaded_version``: the version of the note the page was built from. A POST from
    another version is refused; the form shown again carries the version saved now.
    """

    loaded_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        note = self.instance
        self.current_version: int | None = None
        self.posted_version: int | None = None
        if note.pk is not None:
            stored = type(note)._base_manager.filter(pk=note.pk).values_list("version", flat=True)
            self.current_version = stored.first()
        if self.current_version is None or note.is_signed:
            # A new note has no version yet; a signed one takes only addenda (appended, never overwritten).
            del self.fields["loaded_version"]
            return
        self.fields["loaded_version"].initial = self.current_version
        key = self.add_prefix("loaded_version")
        if self.is_bound:
            self.posted_version = _as_version(self.data.get(key))
            # A bound admin form's data is the request's QueryDict; django-stubs says Mapping.
            data = cast(QueryDict, self.data).copy()
            if self.posted_version != self.current_version:
                # Shown again with the refusal: what this admin didn't touch takes the saved value,
                # so saving the page again writes no old text back.
                base = note.saved_at_version(self.posted_version)
                data, _changes = merge_untouched(data, _draft_fields(note), note, base, self.prefix)
            data[key] = str(self.current_version)
            self.data = data

    def clean(self) -> dict[str, Any]:
        super().clean()
        if "loaded_version" in self.fields and self.posted_version != self.current_version:
            stale = self.instance.stale_error(_("Compare your text with the saved note, then save again."))
            raise ValidationError(stale.messages)
        if self.errors or self.instance.is_signed:
            return self.cleaned_data
        construct_instance(self, self.instance, self._meta.fields, self._meta.exclude)
        try:
            self.instance.check_links()  # a NoteLinkError becomes the form's own error
        finally:
            # Django copies cleaned_data onto the note before validating it: keep what was filled in.
            for name in self.cleaned_data.keys() & set(FILLED_FROM_LINKS):
                self.cleaned_data[name] = getattr(self.instance, name)
        return self.cleaned_data


class NoteRowInline(TenantScopedInline, admin.TabularInline):
    """A note's content rows: editable on a draft, read-only once the note is signed."""

    extra = 0

    def has_add_permission(self, request, obj=None) -> bool:
        return not (obj is not None and obj.is_signed) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return not (obj is not None and obj.is_signed) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return not (obj is not None and obj.is_signed) and super().has_delete_permission(request, obj)


class AddendumInline(TenantScopedInline, admin.TabularInline):
    """Addenda: listed read-only; a signed note takes new ones (saved through NoteService)."""

    fields = ("text", "author", "created_at")
    readonly_fields = ("author", "created_at")
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author")

    def get_extra(self, request, obj=None, **kwargs) -> int:
        return 1 if obj is not None and obj.is_signed else 0

    def has_add_permission(self, request, obj=None) -> bool:
        return obj is not None and obj.is_signed and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ClinicalNoteAdmin(AccessLoggedAdminMixin, TenantScopedAdmin, ServiceAdmin):
    form = ClinicalNoteAdminForm
    # A past version is never written back over a note: a draft is edited, a signed note
    # takes addenda (TenantScopedAdmin.history_revert).
    history_revert = False
    # Typed as open-ended tuples: each discipline's admin extends them.
    list_display: tuple[str, ...] = (
        "patient",
        "session_date",
        "provider",
        "status",
        "session",
        "appointment",
        "signed_at",
    )
    list_filter: ClassVar[tuple[str | tuple[str, type[admin.FieldListFilter]], ...]] = (
        "status",
        "session_date",
        ("provider", ProviderListFilter),
    )
    list_select_related: ClassVar[tuple[str, ...]] = ("patient", "provider__user", "session", "appointment")
    search_fields = PATIENT_SEARCH_FIELDS
    raw_id_fields = ("patient", "provider", *LINK_FIELDS)
    date_hierarchy = "session_date"
    actions = ("sign_notes",)

    def get_fieldsets(self, request, obj=None):
        # A signed note shows nothing editable; a draft's page says which version it edits.
        first = (
            ("patient", "provider", "session_date")
            if obj is None or obj.is_signed
            else ("patient", "provider", "session_date", "loaded_version")
        )
        return [
            (None, {"fields": first}),
            (_("Links"), {"fields": LINK_FIELDS}),
            (_("Content"), {"fields": self.model.CONTENT_FIELDS}),
            (_("Signature"), {"fields": SIGNATURE_FIELDS}),
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return SIGNATURE_FIELDS
        if obj.is_signed:
            return (
                "patient",
                "provider",
                "session_date",
                *LINK_FIELDS,
                *self.model.CONTENT_FIELDS,
                *SIGNATURE_FIELDS,
            )
        # Who and which booking a note is about is fixed once written: a note is
        # never moved to another child.
        return ("patient", *LINK_FIELDS, *SIGNATURE_FIELDS)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request, obj=None) -> bool:
        return not (obj is not None and obj.is_signed) and super().has_delete_permission(request, obj)

    def delete_view(self, request, object_id, extra_context=None):
        note = self.get_object(request, unquote(object_id))
        if stored_as_signed(note):
            self.message_user(request, SIGNED_NOTE_IS_KEPT, messages.ERROR)
            opts = self.opts
            return HttpResponseRedirect(
                reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[note.pk])
            )
        return super().delete_view(request, object_id, extra_context)

    def get_deleted_objects(self, objs, request):
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        # Signed meanwhile: listed as protected, so Django says "cannot delete" and deletes nothing.
        signed = [str(note) for note in objs if stored_as_signed(note)]
        return deleted, model_count, perms_needed, [*protected, *signed]

    def save_model(self, request, obj, form, change) -> None:
        if change and stored_as_signed(obj):
            return  # nothing of a signed note is editable; only its new addenda are saved
        if not change:
            obj.created_by = request.user
            with refused_on(form):  # save() enforces invariant 7, and may still lose a race
                super().save_model(request, obj, form, change)
            return
        with refused_on(form):  # the version the page was built from, checked with the note locked
            NoteService.save_draft(obj, expected_version=form.posted_version, user=request.user)

    def save_formset(self, request, form, formset, change) -> None:
        if issubclass(formset.model, ClinicalNoteAddendum):
            formset.save(commit=False)  # collects the new addenda, for the change message too
            for addendum_form in formset.saved_forms:
                with refused_on(addendum_form, "text"):
                    saved = NoteService.add_addendum(
                        form.instance, text=addendum_form.instance.text, user=request.user
                    )
                copy_state(addendum_form.instance, saved)  # the change message names the saved addendum
            return
        with refused_on(form):  # a row refuses to save once its note is signed (by someone meanwhile)
            super().save_formset(request, form, formset, change)

    @admin.action(description=_("Sign the selected draft notes"))
    def sign_notes(self, request, queryset) -> None:
        signed = 0
        # Primary-key order: signing locks each note, and a fixed order keeps two admins from deadlocking.
        for note in queryset.order_by("pk"):
            try:
                NoteService.sign_note(note, user=request.user)
            except NoteError as error:
                self.message_user(request, f"{note}: {' '.join(error.messages)}", messages.ERROR)
            else:
                signed += 1
        if signed:
            self.message_user(
                request,
                ngettext("%(count)d note signed.", "%(count)d notes signed.", signed) % {"count": signed},
                messages.SUCCESS,
            )


class NotePartAdmin(AccessLoggedAdminMixin, TenantScopedAdmin, SimpleHistoryAdmin):
    """Rows and addenda listed on their own, read-only: they are written on their note's page."""

    access_log_patient_path = "note__patient"
    # Changelists open on the newest rows: the parts of the latest notes, each note's in order.
    ordering = ("-note__session_date", "-note_id", "pk")

    history_revert = False
    list_select_related: ClassVar[tuple[str, ...]] = ("note__patient",)  # extended by the disciplines
    search_fields = tuple(f"note__{name}" for name in PATIENT_SEARCH_FIELDS)
    raw_id_fields = ("note",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
