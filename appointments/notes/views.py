"""Clinical-note pages, reached from the session page: write, edit, read, sign, add an addendum.

Views are thin: the discipline's form and row formsets validate, one
``NoteService`` call writes, a ``NoteError`` is shown on the form or as a message,
and a successful POST redirects (post/redirect/get). Who may do what is decided
by ``appointments.notes.access``.
"""

from typing import Any, cast

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_stubs_ext import StrOrPromise

from appointments.notes.access import (
    DisciplineWithoutNotes,
    access_note,
    access_participant_for_notes,
    note_actions,
)
from appointments.notes.exceptions import DuplicateNoteError, NoteError
from appointments.notes.forms import NoteRowsFormSet
from appointments.notes.models import ClinicalNote
from appointments.notes.registry import note_kind
from appointments.notes.services import NoteService
from core.permissions import StaffRequest, is_admin

SIGNED_NOTE_IS_READ_ONLY = gettext_lazy("This note is signed and can't be changed; add an addendum instead.")


class AddendumForm(forms.Form):
    """The text of an addendum; parsed here so odd input (NUL characters) is a message, not a 500."""

    text = forms.CharField(
        label=gettext_lazy("Addendum"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": gettext_lazy("Write the text of the addendum.")},
    )


class NoteForms:
    """A discipline's content form and its row formsets, validated and handed to the service together."""

    def __init__(
        self, note_model: type[ClinicalNote], data: QueryDict | None = None, note: ClinicalNote | None = None
    ) -> None:
        kind = note_kind(note_model.specialty)
        instance = note if note is not None else note_model()
        self.form = kind.form(data, instance=instance)
        # Every discipline builds its formsets with formset=NoteRowsFormSet; django-stubs'
        # inlineformset_factory forgets that class.
        self.formsets = [
            cast(NoteRowsFormSet, formset_class(data, instance=instance)) for formset_class in kind.formsets
        ]
        for formset in self.formsets:
            formset.title = formset.model._meta.verbose_name_plural

    def is_valid(self) -> bool:
        # Every part is validated, so all errors show at once.
        results = [self.form.is_valid(), *(formset.is_valid() for formset in self.formsets)]
        return all(results)

    def content(self) -> dict[str, Any]:
        """The service's keyword arguments: content fields, then each formset's rows by related name."""
        # A bound formset's prefix is a string (its default prefix); django-stubs says str | None.
        return {**self.form.cleaned_data, **{formset.prefix: formset.rows() for formset in self.formsets}}  # type: ignore[misc]

    def show_error(self, error: NoteError) -> None:
        if hasattr(error, "error_dict") and set(error.error_dict) <= set(self.form.fields):
            self.form.add_error(None, error)
        else:
            self.form.add_error(None, error.messages)


def _posted(request: HttpRequest) -> QueryDict | None:
    """Form data of a POST (even an empty one, so its errors show), None on GET."""
    return request.POST if request.method == "POST" else None


def _note_url(note: ClinicalNote) -> str:
    return reverse("notes:note_detail", args=[note.specialty, note.pk])


def _report(request: HttpRequest, error: NoteError, level: int = messages.ERROR) -> None:
    for message in error.messages:
        messages.add_message(request, level, message)


def _content_fields(note: ClinicalNote) -> list[tuple[StrOrPromise, object]]:
    """(label, shown value) of each content field, choices by their label."""
    shown: list[tuple[StrOrPromise, object]] = []
    for name in note.CONTENT_FIELDS:
        field = note.content_field(name)
        value = getattr(note, f"get_{name}_display")() if field.choices else getattr(note, name)
        shown.append((field.verbose_name, value))
    return shown


def _history_url(request: StaffRequest, note: ClinicalNote) -> str:
    """The admin history of the note, for administrators who can use the admin."""
    if not (request.user.is_staff and is_admin(request.user)):
        return ""
    opts = note._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[note.pk])


def _form_page(request: StaffRequest, note_forms: NoteForms, participant, note_model, note=None):
    context = {
        "note_forms": note_forms,
        "note": note,
        "note_model_name": note_model._meta.verbose_name,
        "participant": participant,
        "session": participant.session if participant is not None else None,
        "patient": participant.patient if participant is not None else note.patient,
    }
    return render(request, "notes/note_form.html", context)


@require_http_methods(["GET", "POST"])
def participant_note_write(request: StaffRequest, pk: int) -> HttpResponse:
    """Write the note of the session's discipline for one participant (an existing note opens instead)."""
    try:
        participant, note_model = access_participant_for_notes(request.user, pk)
    except DisciplineWithoutNotes as error:
        context = {"message": error.message, "session": error.participant.session}
        return render(request, "notes/note_unavailable.html", context, status=404)
    if request.method == "GET":
        # The plugin checks lookups against the abstract ClinicalNote; every note model has this link.
        existing = note_model.objects.filter(session_participant=participant).first()  # type: ignore[misc]
        if existing is not None:
            return redirect(_note_url(existing))
    note_forms = NoteForms(note_model, _posted(request))
    if request.method == "POST" and note_forms.is_valid():
        try:
            note = NoteService.create_note(
                note_model,
                participant=participant,
                provider=request.user.provider,
                user=request.user,
                **note_forms.content(),
            )
        except DuplicateNoteError as error:
            # A double submit or a colleague first: show the note that exists.
            _report(request, error, messages.WARNING)
            existing = note_model.objects.get(session_participant=participant)  # type: ignore[misc]
            return redirect(_note_url(existing))
        except NoteError as error:
            note_forms.show_error(error)
        else:
            messages.success(request, _("Note saved as a draft."))
            return redirect(_note_url(note))
    return _form_page(request, note_forms, participant, note_model)


def _detail_page(request: StaffRequest, note: ClinicalNote) -> HttpResponse:
    context = {
        "note": note,
        "note_model_name": note._meta.verbose_name,
        "actions": note_actions(request.user, note),
        "content_fields": _content_fields(note),
        "rows_template": note_kind(note.specialty).rows_template,
        "history_url": _history_url(request, note),
        "addendum_form": AddendumForm(),
    }
    return render(request, "notes/note_detail.html", context)


@require_GET
def note_detail(request: StaffRequest, specialty: str, pk: int) -> HttpResponse:
    return _detail_page(request, access_note(request.user, specialty, pk))


@require_http_methods(["GET", "POST"])
def note_edit(request: StaffRequest, specialty: str, pk: int) -> HttpResponse:
    note = access_note(request.user, specialty, pk, write=True)
    if note.is_signed:
        messages.error(request, SIGNED_NOTE_IS_READ_ONLY)
        return redirect(_note_url(note))
    note_forms = NoteForms(type(note), _posted(request), note=note)
    if request.method == "POST" and note_forms.is_valid():
        try:
            NoteService.update_note(note, user=request.user, **note_forms.content())
        except NoteError as error:
            note_forms.show_error(error)
        else:
            messages.success(request, _("Note saved."))
            return redirect(_note_url(note))
    return _form_page(request, note_forms, note.session_participant, type(note), note)


@require_http_methods(["GET", "POST"])
def note_sign(request: StaffRequest, specialty: str, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST signs (the service decides who may)."""
    note = access_note(request.user, specialty, pk)
    if request.method == "POST":
        try:
            NoteService.sign_note(note, user=request.user)
        except NoteError as error:
            _report(request, error)
        else:
            messages.success(request, _("Note signed. Corrections from now on go in an addendum."))
        return redirect(_note_url(note))
    if note.is_signed:
        messages.info(request, _("This note is already signed."))
        return redirect(_note_url(note))
    context = {
        "note": note,
        "note_model_name": note._meta.verbose_name,
        "content_fields": _content_fields(note),
    }
    return render(request, "notes/note_sign.html", context)


@require_POST
def note_add_addendum(request: StaffRequest, specialty: str, pk: int) -> HttpResponse:
    note = access_note(request.user, specialty, pk)
    form = AddendumForm(request.POST)
    if not form.is_valid():
        for message in form.errors["text"]:
            # Iterating an ErrorList yields its messages; django-stubs says ValidationError too.
            messages.error(request, message)  # type: ignore[arg-type]
        return redirect(_note_url(note))
    try:
        NoteService.add_addendum(note, text=form.cleaned_data["text"], user=request.user)
    except NoteError as error:
        _report(request, error)
    else:
        messages.success(request, _("Addendum added."))
    return redirect(_note_url(note))
