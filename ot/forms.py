from django.forms import inlineformset_factory

from appointments.notes.forms import TEXT_AREA, ClinicalNoteForm, NoteRowForm, NoteRowsFormSet
from ot.models import RATING_MAX, RATING_MIN, RATING_SCALE_MESSAGE, OTSession, OTTargetSkill


class OTSessionForm(ClinicalNoteForm):
    class Meta:
        model = OTSession
        fields = OTSession.CONTENT_FIELDS
        widgets = {
            name: TEXT_AREA
            for name in OTSession.CONTENT_FIELDS
            if name not in ("attention_level", "cooperation_level")
        }


class OTTargetSkillForm(NoteRowForm):
    """A target skill and its rating on the 0-10 scale (the model's validators)."""

    class Meta:
        model = OTTargetSkill
        fields = OTTargetSkill.ROW_FIELDS
        widgets = {"comments": TEXT_AREA}
        error_messages = {"rating": {"min_value": RATING_SCALE_MESSAGE, "max_value": RATING_SCALE_MESSAGE}}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rating"].widget.attrs.update({"min": RATING_MIN, "max": RATING_MAX})


OTTargetSkillFormSet = inlineformset_factory(
    OTSession, OTTargetSkill, form=OTTargetSkillForm, formset=NoteRowsFormSet, extra=1, can_delete=True
)
