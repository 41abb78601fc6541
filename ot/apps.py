from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OtConfig(AppConfig):
    name = "ot"
    verbose_name = _("Occupational therapy")

    def ready(self) -> None:
        from appointments.notes.registry import CarriedRows, NoteKind, register_note_kind
        from ot.demo import demo_note_content
        from ot.forms import OTSessionForm, OTTargetSkillFormSet
        from ot.models import OTSession
        from ot.progress import ot_progress

        register_note_kind(
            NoteKind(
                model=OTSession,
                form=OTSessionForm,
                formsets=(OTTargetSkillFormSet,),
                rows_template="notes/_rows_ot.html",
                # The skills worked on carry over to the next note; each session rates them afresh.
                carried_over=(CarriedRows("target_skills", fields=("skill",)),),
                progress=ot_progress,
                demo_content=demo_note_content,
            )
        )
