from django.forms import inlineformset_factory

from aba.models import (
    NEGATIVE_CORRECT,
    NEGATIVE_DURATION,
    NEGATIVE_FREQUENCY,
    NEGATIVE_TRIALS,
    ABABehaviourRecord,
    ABASession,
    ABASkillTarget,
)
from appointments.notes.forms import TEXT_AREA, ClinicalNoteForm, NoteRowForm, NoteRowsFormSet


class ABASessionForm(ClinicalNoteForm):
    class Meta:
        model = ABASession
        fields = ABASession.CONTENT_FIELDS
        widgets = {name: TEXT_AREA for name in ABASession.CONTENT_FIELDS}


class ABABehaviourRecordForm(NoteRowForm):
    class Meta:
        model = ABABehaviourRecord
        fields = ABABehaviourRecord.ROW_FIELDS
        widgets = {"antecedent": TEXT_AREA, "consequence": TEXT_AREA}
        error_messages = {
            "frequency": {"min_value": NEGATIVE_FREQUENCY},
            "duration_seconds": {"min_value": NEGATIVE_DURATION},
        }


class ABASkillTargetForm(NoteRowForm):
    """A skill target; correct responses can't exceed the trials run (the model's ``clean``)."""

    class Meta:
        model = ABASkillTarget
        fields = ABASkillTarget.ROW_FIELDS
        error_messages = {
            "trials": {"min_value": NEGATIVE_TRIALS},
            "correct": {"min_value": NEGATIVE_CORRECT},
        }


ABABehaviourRecordFormSet = inlineformset_factory(
    ABASession,
    ABABehaviourRecord,
    form=ABABehaviourRecordForm,
    formset=NoteRowsFormSet,
    extra=1,
    can_delete=True,
)
ABASkillTargetFormSet = inlineformset_factory(
    ABASession, ABASkillTarget, form=ABASkillTargetForm, formset=NoteRowsFormSet, extra=1, can_delete=True
)
