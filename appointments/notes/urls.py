from typing import Any

from django.db.models import Subquery
from django.http import HttpRequest
from django.urls import path

from appointments.models import SessionParticipant
from appointments.notes import views as note_views
from appointments.notes.services import NoteService
from core.access_logging import logs_access, patient_of, scoped_value

app_name = "notes"


def note_patient(request: HttpRequest, kwargs: dict[str, Any]) -> Subquery | None:
    """The patient of the ``specialty`` note the URL names (a page that answered knows the discipline)."""
    note_model = NoteService.note_model_for_specialty(kwargs["specialty"])
    return None if note_model is None else scoped_value(note_model, request, kwargs["pk"], "patient")


# Every note page logs its reads (core.access_logging), as "<specialty>_note" with the note's
# patient; signing and addenda too, so a refused one is logged (a done one redirects).
note = logs_access("{specialty}_note", patient=note_patient)

urlpatterns = [
    path(
        "participants/<int:pk>/write/",
        logs_access("participant", patient=patient_of(SessionParticipant))(note_views.participant_note_write),
        name="participant_note_write",
    ),
    path("<slug:specialty>/<int:pk>/", note(note_views.note_detail), name="note_detail"),
    path("<slug:specialty>/<int:pk>/edit/", note(note_views.note_edit), name="note_edit"),
    path("<slug:specialty>/<int:pk>/autosave/", note(note_views.note_autosave), name="note_autosave"),
    path("<slug:specialty>/<int:pk>/sign/", note(note_views.note_sign), name="note_sign"),
    path("<slug:specialty>/<int:pk>/addenda/", note(note_views.note_add_addendum), name="note_add_addendum"),
]
