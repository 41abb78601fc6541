"""Admin building blocks shared by the psychology, OT and ABA note admins.

A draft is edited like any model (``save()`` enforces invariant 7); a signed note
is read-only - its fields, its rows - and takes only new addenda, written through
``NoteService.add_addendum``. Signing is an admin action calling
``NoteService.sign_note``. Signed notes can't be deleted, and "delete selected"
is not offered: it would bypass that rule.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.forms.models import construct_instance
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin

from appointments.notes.exceptions import NoteError
from appointments.notes.models import ClinicalNote, ClinicalNoteAddendum
from appointments.notes.services import NoteService
from appointments.workflow import copy_state
from core.admin import ProviderListFilter, TenantScopedAdmin

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


class ClinicalNoteAdminForm(forms.ModelForm):
    """Fills in what the links imply, and shows a broken link as a form error, before Django
    validates the model (its constraints need the filled-in session)."""

    def _post_clean(self) -> None:
        if not self._errors and not self.instance.is_signed:
            construct_instance(self, self.instance, self._meta.fields, self._meta.exclude)
            try:
                self.instance.check_links()
            except ValidationError as error:
                self.add_error(None, error)
                return
            for name in self.cleaned_data.keys() & set(FILLED_FROM_LINKS):
                self.cleaned_data[name] = getattr(self.instance, name)
        super()._post_clean()


class NoteRowInline(admin.TabularInline):
    """A note's content rows: editable on a draft, read-only once the note is signed."""

    extra = 0

    def has_add_permission(self, request, obj=None) -> bool:
        return not (obj is not None and obj.is_signed) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return not (obj is not None and obj.is_signed) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return not (obj is not None and obj.is_signed) and super().has_delete_permission(request, obj)


class AddendumInline(admin.TabularInline):
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


class ClinicalNoteAdmin(TenantScopedAdmin, SimpleHistoryAdmin):
    tenant_path = "patient__tenant"
    form = ClinicalNoteAdminForm
    list_display = ("patient", "session_date", "provider", "status", "session", "appointment", "signed_at")
    list_filter = ("status", "session_date", ("provider", ProviderListFilter))
    list_select_related = ("patient", "provider__user", "session", "appointment")
    search_fields = PATIENT_SEARCH_FIELDS
    raw_id_fields = ("patient", "provider", *LINK_FIELDS)
    date_hierarchy = "session_date"
    actions = ("sign_notes",)

    def get_fieldsets(self, request, obj=None):
        return [
            (None, {"fields": ("patient", "provider", "session_date")}),
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

    def revert_disabled(self, request, obj=None) -> bool:
        return stored_as_signed(obj) or super().revert_disabled(request, obj)

    def save_model(self, request, obj, form, change) -> None:
        if change and stored_as_signed(obj):
            return  # nothing of a signed note is editable; only its new addenda are saved
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change) -> None:
        if issubclass(formset.model, ClinicalNoteAddendum):
            for addendum in formset.save(commit=False):
                saved = NoteService.add_addendum(form.instance, text=addendum.text, user=request.user)
                copy_state(addendum, saved)  # the change message names the saved addendum
            return
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


class NotePartAdmin(TenantScopedAdmin, SimpleHistoryAdmin):
    """Rows and addenda listed on their own, read-only: they are written on their note's page."""

    tenant_path = "note__patient__tenant"
    list_select_related = ("note__patient",)
    search_fields = tuple(f"note__{name}" for name in PATIENT_SEARCH_FIELDS)
    raw_id_fields = ("note",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
