from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PsychologyConfig(AppConfig):
    name = "psychology"
    verbose_name = _("Psychology")

    def ready(self) -> None:
        from appointments.notes.registry import NoteKind, register_note_kind
        from psychology.demo import demo_note_content
        from psychology.forms import PsychologySessionForm
        from psychology.models import PsychologySession
        from psychology.progress import psychology_progress

        register_note_kind(
            NoteKind(
                model=PsychologySession,
                form=PsychologySessionForm,
                progress=psychology_progress,
                demo_content=demo_note_content,
            )
        )
