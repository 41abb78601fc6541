from appointments.notes.forms import TEXT_AREA, ClinicalNoteForm
from psychology.models import PsychologySession


class PsychologySessionForm(ClinicalNoteForm):
    """A psychology note's content; a moderate or high risk needs a safety plan (model ``clean``)."""

    class Meta:
        model = PsychologySession
        fields = PsychologySession.CONTENT_FIELDS
        widgets = {name: TEXT_AREA for name in PsychologySession.CONTENT_FIELDS if name != "risk_assessment"}
