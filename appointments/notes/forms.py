"""Form building blocks shared by the psychology, OT and ABA note forms.

The forms validate; the views pass what they cleaned to ``NoteService``:
``NoteService.create_note(model, participant=..., provider=..., user=...,
**form.cleaned_data, target_skills=formset.rows())``.
"""

from typing import Any

from crispy_forms.helper import FormHelper
from django import forms
from django.forms.models import BaseInlineFormSet
from django_stubs_ext import StrOrPromise

from appointments.notes.models import NoteChildRow

TEXT_AREA = forms.Textarea(attrs={"rows": 3})


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


class NoteRowForm(forms.ModelForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = form_helper()
        self.helper.form_show_labels = True


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
