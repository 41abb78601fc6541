"""Form building blocks shared by the psychology, OT and ABA note forms.

The forms validate; the views pass what they cleaned to ``NoteService``:
``NoteService.create_note(model, participant=..., provider=..., user=...,
**form.cleaned_data, target_skills=formset.rows())``.
"""

import datetime
from collections.abc import Iterable
from typing import Any, cast

from crispy_forms.helper import FormHelper
from django import forms
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.forms.models import BaseInlineFormSet
from django.http import QueryDict
from django.utils.translation import gettext as _
from django_stubs_ext import StrOrPromise

from appointments.notes.models import (
    NOTE_TEXT_MAX_LENGTH,
    ClinicalNote,
    NoteChildRow,
    NoteTextLengthValidator,
)

TEXT_AREA = forms.Textarea(attrs={"rows": 3})


def explain_text_limits(form: forms.ModelForm) -> None:
    """Say the limit under each free-text field that has one (``NoteTextLengthValidator``)."""
    # Every ModelForm's Meta names its model; django-stubs types it as optional.
    model = form._meta.model
    limit = _("At most %(limit)s characters.") % {"limit": f"{NOTE_TEXT_MAX_LENGTH:,}"}
    for name, field in form.fields.items():
        try:
            validators = getattr(model._meta.get_field(name), "validators", ())
        except FieldDoesNotExist:
            continue
        if any(isinstance(validator, NoteTextLengthValidator) for validator in validators):
            field.help_text = f"{field.help_text} {limit}" if field.help_text else limit


def as_posted(value: object) -> str:
    """A stored value as a form posts it back, for comparing the two (line ends, outer blanks)."""
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value if value is not None else "").replace("\r\n", "\n").strip()


def merge_untouched(
    data: QueryDict, names: Iterable[str], note: ClinicalNote, base: Any, prefix: str | None = None
) -> tuple[QueryDict, dict[str, str]]:
    """``data`` posted from an older version of ``note``, with the fields its user didn't touch
    brought up to date: those sent back as they were at that version (``base``, its history
    record) take the value saved now, so saving again never writes an old text back.

    Returns the new data and, for each field in ``names``, who changed it since ``base``:
    ``"theirs"`` (brought up to date), ``"mine"`` (kept), ``"both"`` (kept, and the saved
    value differs: the conflict to look at) or ``"none"``. Without ``base`` every differing
    field is ``"both"``.
    """
    merged = data.copy()
    changes: dict[str, str] = {}
    for name in names:
        # Concrete columns of the note (content, provider, date), never a reverse relation.
        field = cast(models.Field, type(note)._meta.get_field(name))
        key = f"{prefix}-{name}" if prefix else name
        posted, saved = as_posted(data.get(key, "")), as_posted(field.value_from_object(note))
        old = as_posted(field.value_from_object(base)) if base is not None else None
        if posted == saved:
            changes[name] = "none"
        elif old is not None and posted == old:
            changes[name] = "theirs"
            merged[key] = saved
        elif old is not None and saved == old:
            changes[name] = "mine"
        else:
            changes[name] = "both"
    return merged, changes


class NoteVersionForm(forms.Form):
    """The version of the note a page showed, sent back with the page (optimistic locking).

    The services refuse a save from another version (``StaleNoteError``); a page
    without it (an old tab) can't prove it edits the current note.
    """

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)

    def posted_version(self) -> int | None:
        """The version the page was built from; None when it sent none (or garbage)."""
        if not self.is_bound or not self.is_valid():
            return None
        return self.cleaned_data["version"]


def form_helper() -> FormHelper:
    """Crispy helper for a form rendered inside the page's own <form> (with its formsets)."""
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    return helper


class ClinicalNoteForm(forms.ModelForm):
    """The content of a note: ``Meta.fields`` is the model's ``CONTENT_FIELDS``."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = form_helper()
        explain_text_limits(self)


class NoteRowForm(forms.ModelForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = form_helper()
        self.helper.form_show_labels = True
        explain_text_limits(self)


class NoteRowsFormSet(BaseInlineFormSet):
    """Child rows of a note (OT skills, ABA records and targets) as the note service takes them."""

    # Set by ``inlineformset_factory``: the row model.
    model: type[NoteChildRow]
    # Set by the note pages: the heading shown above the rows.
    title: StrOrPromise | None

    def rows(self) -> list[dict[str, Any]]:
        """The kept rows as dicts of ``ROW_FIELDS``: blank extra forms and deleted rows left out."""
        fields = self.model.ROW_FIELDS
        return [
            {name: form.cleaned_data[name] for name in fields}
            for form in self.forms
            # Django's own BaseFormSet helper (what deleted_forms uses); django-stubs omits it.
            if form.cleaned_data and not self._should_delete_form(form)  # type: ignore[attr-defined]
        ]
