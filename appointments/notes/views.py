"""Clinical-note pages, reached from the session page: write, edit, read, sign, add an addendum.

Views are thin: the discipline's form and row formsets validate, one
``NoteService`` call writes, a ``NoteError`` is shown on the form or as a message,
and a successful POST redirects (post/redirect/get). Who may do what is decided
by ``appointments.notes.access``.

Nothing typed is lost: each page sends back the note's ``version`` it showed. When
the note changed (or was signed) meanwhile, the edit page comes back with the
clinician's text still in the form and the note as saved now beside it, and
an addendum refused for its text or a stale version comes back in its form.
"""

import datetime
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_stubs_ext import StrOrPromise

from appointments import timing
from appointments.models import SessionParticipant
from appointments.notes.access import (
    DisciplineWithoutNotes,
    access_note,
    access_participant_for_notes,
    note_actions,
)
from appointments.notes.exceptions import (
    DuplicateNoteError,
    NoteContentError,
    NoteError,
    SignedNoteError,
    StaleNoteError,
)
from appointments.notes.forms import NoteRowsFormSet, NoteVersionForm, merge_untouched
from appointments.notes.models import ClinicalNote, NoteTextLengthValidator, changed_at_text, user_name
from appointments.notes.registry import note_kind
from appointments.notes.selectors import CarriedOver, carried_over_rows, next_child
from appointments.notes.services import NoteService
from core import clock
from core.access_log import read_under_break_glass
from core.models import User
from core.permissions import StaffRequest, can_write_notes, is_admin

SIGNED_NOTE_IS_READ_ONLY = gettext_lazy("This note is signed and can't be changed; add an addendum instead.")


class AddendumForm(forms.Form):
    """The text of an addendum; parsed here so odd input (NUL characters) is a message, not a 500.

    ``version`` is the version of the note the author read (see ``NoteVersionForm``).
    """

    text = forms.CharField(
        label=gettext_lazy("Addendum"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": gettext_lazy("Write the text of the addendum.")},
        validators=[NoteTextLengthValidator()],
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)


class NoteForms:
    """A discipline's content form and its row formsets, validated and handed to the service together.

    ``carried_over``: the rows a new note's blank page starts with (``carried_over_rows``).
    """

    def __init__(
        self,
        note_model: type[ClinicalNote],
        data: QueryDict | None = None,
        note: ClinicalNote | None = None,
        carried_over: CarriedOver | None = None,
    ) -> None:
        kind = note_kind(note_model.specialty)
        instance = note if note is not None else note_model()
        self.form = kind.form(data, instance=instance)
        self.carried_over = carried_over
        carried_rows = carried_over.rows if carried_over is not None else {}
        self.formsets = []
        for formset_class in kind.formsets:
            rows = carried_rows.get(formset_class.get_default_prefix(), [])
            # Every discipline builds its formsets with formset=NoteRowsFormSet; django-stubs'
            # inlineformset_factory forgets that class.
            formset = cast(NoteRowsFormSet, formset_class(data, instance=instance, initial=rows or None))
            if rows:
                # One form per carried row, instead of the blank one ("Add a row" adds more).
                formset.extra = len(rows)
            formset.title = formset.model._meta.verbose_name_plural
            self.formsets.append(formset)
        self.version_form = NoteVersionForm(
            data, initial={"version": note.version if note is not None else None}
        )

    def posted_version(self) -> int | None:
        return self.version_form.posted_version()

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


def _next_child_url(
    user: User, note_model: type[ClinicalNote], participant: SessionParticipant | None
) -> str:
    """Where "Next child" goes from ``participant``'s note; "" after the last child, for a note
    of no session (a legacy appointment's) and for a user who doesn't write the discipline.

    The next child's note: a draft opens to be edited, a signed one to be read; a child
    without one opens on its writing page.
    """
    if participant is None or not can_write_notes(user, note_model.specialty):
        return ""
    following = next_child(note_model, participant, user)
    if following is None:
        return ""
    if following.note_pk is None:
        return reverse("notes:participant_note_write", args=[following.participant.pk])
    action = "note_detail" if following.note_signed else "note_edit"
    return reverse(f"notes:{action}", args=[note_model.specialty, following.note_pk])


def _can_save_and_sign(user: User, note_model: type[ClinicalNote], participant, note, conflict) -> bool:
    """Whether the form offers "Save and sign": to whoever could sign the saved note now.

    A new note is the writer's own, so only the timing decides (``timing.signing_problem``,
    asked of the note as it would be saved); never beside a conflict, which is resolved first.
    """
    if conflict is not None:
        return False
    if note is not None:
        return note_actions(user, note).can_sign
    # Links of every discipline's model, unknown to the plugin on the abstract ClinicalNote.
    unsaved = note_model(  # type: ignore[misc]
        patient=participant.patient, session=participant.session, session_participant=participant
    )
    return timing.signing_problem(unsaved) is None


def _form_page(
    request: StaffRequest, note_forms: NoteForms, participant, note_model, note=None, conflict=None
) -> HttpResponse:
    context = {
        "note_forms": note_forms,
        "note": note,
        "note_model_name": note_model._meta.verbose_name,
        "participant": participant,
        "session": participant.session if participant is not None else None,
        "patient": participant.patient if participant is not None else note.patient,
        "conflict": conflict,
        "can_save_and_sign": _can_save_and_sign(request.user, note_model, participant, note, conflict),
        "next_child_url": _next_child_url(request.user, note_model, participant),
    }
    return render(request, "notes/note_form.html", context)


# What the note form's buttons do after the save (its submit button's ``then``): "Save and sign"
# goes on to the signing page's confirmation, "Save and next child" to the next child's note.
THEN_SIGN = "sign"
THEN_NEXT_CHILD = "next"


def _after_save(request: StaffRequest, note: ClinicalNote) -> HttpResponse:
    then = request.POST.get("then")
    if then == THEN_SIGN:
        return redirect(reverse("notes:note_sign", args=[note.specialty, note.pk]))
    if then == THEN_NEXT_CHILD:
        following = _next_child_url(request.user, type(note), note.session_participant)
        if following:
            return redirect(following)
    return redirect(_note_url(note))


@dataclass(frozen=True)
class ConflictField:
    """One content field on the conflict page: what the clinician sent, what is saved, who changed it.

    ``changed_by``: ``"theirs"`` (only the other save changed it: the form now holds the
    saved text), ``"mine"`` (only this clinician), ``"both"`` (the conflict to look at)
    or ``"none"``.
    """

    label: object
    mine: object
    saved: object
    changed_by: str


@dataclass(frozen=True)
class Conflict:
    """Why a save was refused, and the saved note beside what the clinician wrote."""

    headline: str
    fields: list[ConflictField]
    rows_template: str
    signed: bool


def _shown(note: ClinicalNote, name: str, value: str) -> str:
    choices = dict(note.content_field(name).flatchoices)
    return str(choices.get(value, value)) if choices else value


def _conflict_page(request: StaffRequest, note: ClinicalNote, posted_forms: NoteForms, headline: str = ""):
    """The edit page again: the clinician's text in the form, the saved note beside it.

    Fields the clinician didn't touch since the version their page showed are brought up
    to date in the form; their rows become new rows (the ids they posted may be gone, and
    the service replaces every row anyway). Saving the page again writes no old text back.
    """
    posted_version = posted_forms.posted_version()
    if note.is_signed:
        headline = _(
            "This note was signed by %(user)s at %(time)s while you were editing, so it can't be changed "
            "any more. Your text is kept below: add what is still needed as an addendum."
        ) % {
            "user": user_name(note.signed_by),
            "time": changed_at_text(cast(datetime.datetime, note.signed_at)),
        }
    elif posted_version is None:
        headline = _(
            "This page didn't say which version of the note it edits. "
            "Compare your text with the saved note, then save again."
        )
    elif not headline:
        headline = note.stale_error(_("Compare your text with the saved note, then save again.")).messages[0]
    data, changed_by = merge_untouched(
        request.POST, note.CONTENT_FIELDS, note, note.saved_at_version(posted_version)
    )
    fields = [
        ConflictField(
            label,
            _shown(note, name, request.POST.get(name, "")),
            saved if saved is not None else "",
            changed_by[name],
        )
        for name, (label, saved) in zip(note.CONTENT_FIELDS, _content_fields(note), strict=True)
    ]
    data["version"] = str(note.version)
    for formset in posted_forms.formsets:
        data[f"{formset.prefix}-INITIAL_FORMS"] = "0"
        for key in [key for key in data if key.startswith(f"{formset.prefix}-") and key.endswith("-id")]:
            del data[key]
    conflict = Conflict(headline, fields, note_kind(note.specialty).rows_template, note.is_signed)
    note_forms = NoteForms(type(note), data, note=note)
    return _form_page(request, note_forms, note.session_participant, type(note), note, conflict)


@require_http_methods(["GET", "POST"])
def participant_note_write(request: StaffRequest, pk: int) -> HttpResponse:
    """Write the note of the session's discipline for one participant (an existing note opens instead)."""
    try:
        participant, note_model = access_participant_for_notes(request.user, pk)
    except DisciplineWithoutNotes as error:
        context = {"message": error.message, "session": error.participant.session}
        return render(request, "notes/note_unavailable.html", context, status=404)
    carried_over = None
    if request.method == "GET":
        existing = note_model.objects.filter(session_participant=participant).first()
        if existing is not None:
            return redirect(_note_url(existing))
        carried_over = carried_over_rows(note_model, participant, request.user)
    note_forms = NoteForms(note_model, _posted(request), carried_over=carried_over)
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
            existing = note_model.objects.get(session_participant=participant)
            return redirect(_note_url(existing))
        except NoteError as error:
            note_forms.show_error(error)
        else:
            messages.success(request, _("Note saved as a draft."))
            return _after_save(request, note)
    return _form_page(request, note_forms, participant, note_model)


def _detail_page(
    request: StaffRequest, note: ClinicalNote, addendum_form: AddendumForm | None = None
) -> HttpResponse:
    context = {
        "note": note,
        "note_model_name": note._meta.verbose_name,
        "actions": note_actions(request.user, note),
        "content_fields": _content_fields(note),
        "rows_template": note_kind(note.specialty).rows_template,
        "history_url": _history_url(request, note),
        "addendum_form": addendum_form or AddendumForm(initial={"version": note.version}),
        "under_break_glass": read_under_break_glass(request.user),
        "next_child_url": _next_child_url(request.user, type(note), note.session_participant),
    }
    return render(request, "notes/note_detail.html", context)


@require_GET
def note_detail(request: StaffRequest, specialty: str, pk: int) -> HttpResponse:
    # The one note page a break-the-glass grant opens: it only shows the note.
    return _detail_page(request, access_note(request.user, specialty, pk, under_break_glass=True))


@require_http_methods(["GET", "POST"])
def note_edit(request: StaffRequest, specialty: str, pk: int) -> HttpResponse:
    note = access_note(request.user, specialty, pk, write=True)
    if note.is_signed and request.method == "GET":
        messages.error(request, SIGNED_NOTE_IS_READ_ONLY)
        return redirect(_note_url(note))
    note_forms = NoteForms(type(note), _posted(request), note=note)
    if request.method == "POST":
        # Signed or saved by someone else since the page was built: its rows may be gone too.
        if note.is_signed or note_forms.posted_version() != note.version:
            return _conflict_page(request, note, note_forms)
        if note_forms.is_valid():
            try:
                NoteService.update_note(
                    note,
                    user=request.user,
                    expected_version=note_forms.posted_version(),
                    **note_forms.content(),
                )
            except (StaleNoteError, SignedNoteError) as error:
                current = access_note(request.user, specialty, pk, write=True)
                return _conflict_page(request, current, note_forms, " ".join(error.messages))
            except NoteError as error:
                note_forms.show_error(error)
            else:
                messages.success(request, _("Note saved."))
                return _after_save(request, note)
    return _form_page(request, note_forms, note.session_participant, type(note), note)


def _autosave_refused(message: StrOrPromise) -> JsonResponse:
    return JsonResponse({"saved": False, "message": str(message)})


@require_POST
def note_autosave(request: StaffRequest, specialty: str, pk: int) -> JsonResponse:
    """Save the edit page's draft before the session times out (``static/js/idle.js``).

    The edit page's access, form and service call, with the page's ``version``: a save
    from an older version or of a note signed meanwhile is refused, never written over
    it. The page posts it as a background request, which doesn't keep the session
    alive (``core.session_timeout``). Nothing is kept in the browser: what isn't saved
    here stays in the open page. Answers 200 with ``saved``, the note's new ``version``
    (the page sends it with its next save) or a ``message`` saying why not.
    """
    note = access_note(request.user, specialty, pk, write=True)
    note_forms = NoteForms(type(note), request.POST, note=note)
    version = note_forms.posted_version()
    if version is None:
        return _autosave_refused(_("This page didn't say which version of the note it edits."))
    if not note_forms.is_valid():
        return _autosave_refused(
            _("The draft could not be saved automatically: correct the form and save it.")
        )
    try:
        NoteService.update_note(note, user=request.user, expected_version=version, **note_forms.content())
    except NoteError as error:
        return _autosave_refused(" ".join(error.messages))
    message = _("Draft saved at %(time)s.") % {"time": clock.now().strftime("%H:%M")}
    return JsonResponse({"saved": True, "version": note.version, "message": message})


@require_http_methods(["GET", "POST"])
def note_sign(request: StaffRequest, specialty: str, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST signs (the service decides who may)."""
    note = access_note(request.user, specialty, pk)
    if request.method == "POST":
        version = NoteVersionForm(request.POST).posted_version()
        try:
            NoteService.sign_note(note, user=request.user, expected_version=version)
        except StaleNoteError as error:
            # Changed since it was read: read it again before signing.
            _report(request, error)
            return redirect(reverse("notes:note_sign", args=[note.specialty, note.pk]))
        except NoteError as error:
            _report(request, error)
        else:
            messages.success(request, _("Note signed. Corrections from now on go in an addendum."))
        return redirect(_note_url(note))
    if note.is_signed:
        messages.info(request, _("This note is already signed."))
        return redirect(_note_url(note))
    too_early = timing.signing_problem(note)
    if too_early is not None:
        messages.error(request, too_early)
        return redirect(_note_url(note))
    context = {
        "note": note,
        "note_model_name": note._meta.verbose_name,
        "content_fields": _content_fields(note),
        "version_form": NoteVersionForm(initial={"version": note.version}),
    }
    return render(request, "notes/note_sign.html", context)


@require_POST
def note_add_addendum(request: StaffRequest, specialty: str, pk: int) -> HttpResponse:
    note = access_note(request.user, specialty, pk)
    form = AddendumForm(request.POST)
    if not form.is_valid():
        if "text" in form.errors and (request.POST.get("text") or "").strip():
            # Text was written (too long, say): show it again with the reason, so none is lost.
            return _detail_page(request, note, form)
        for errors in form.errors.values():
            for message in errors:
                # Iterating an ErrorList yields its messages; django-stubs says ValidationError too.
                messages.error(request, message)  # type: ignore[arg-type]
        return redirect(_note_url(note))
    try:
        NoteService.add_addendum(
            note,
            text=form.cleaned_data["text"],
            user=request.user,
            expected_version=form.cleaned_data["version"],
        )
    except StaleNoteError as error:
        # Another addendum came first: the page shows it now, and this one is still in its form.
        current = access_note(request.user, specialty, pk)
        data = request.POST.copy()
        data["version"] = str(current.version)
        kept = AddendumForm(data)
        kept.is_valid()
        kept.add_error(None, error.messages)
        return _detail_page(request, current, kept)
    except NoteContentError as error:
        form.add_error("text" if hasattr(error, "error_dict") else None, error.messages)
        return _detail_page(request, note, form)
    except NoteError as error:
        _report(request, error)
    else:
        messages.success(request, _("Addendum added."))
    return redirect(_note_url(note))
