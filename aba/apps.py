from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AbaConfig(AppConfig):
    name = "aba"
    verbose_name = _("Applied behaviour analysis")

    def ready(self) -> None:
        from aba.demo import demo_note_content
        from aba.forms import ABABehaviourRecordFormSet, ABASessionForm, ABASkillTargetFormSet
        from aba.models import ABASession
        from aba.progress import aba_progress
        from appointments.notes.registry import CarriedRows, NoteKind, register_note_kind

        register_note_kind(
            NoteKind(
                model=ABASession,
                form=ABASessionForm,
                formsets=(ABABehaviourRecordFormSet, ABASkillTargetFormSet),
                rows_template="notes/_rows_aba.html",
                # The programme's targets and their prompt levels carry over; each session counts
                # its own trials and correct answers. Behaviour records are the session's own.
                carried_over=(CarriedRows("skill_targets", fields=("target", "prompt_level")),),
                progress=aba_progress,
                demo_content=demo_note_content,
            )
        )
