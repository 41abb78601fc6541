from django.contrib import admin

from appointments.notes.admin import AddendumInline, ClinicalNoteAdmin, NotePartAdmin
from psychology.models import PsychologyNoteAddendum, PsychologySession


class PsychologyNoteAddendumInline(AddendumInline):
    model = PsychologyNoteAddendum


@admin.register(PsychologySession)
class PsychologySessionAdmin(ClinicalNoteAdmin):
    list_display = (*ClinicalNoteAdmin.list_display, "risk_assessment")
    list_filter = (*ClinicalNoteAdmin.list_filter, "risk_assessment")
    inlines = (PsychologyNoteAddendumInline,)


@admin.register(PsychologyNoteAddendum)
class PsychologyNoteAddendumAdmin(NotePartAdmin):
    list_display = ("note", "author", "created_at")
    list_select_related = (*NotePartAdmin.list_select_related, "author")
