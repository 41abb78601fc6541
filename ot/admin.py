from django.contrib import admin

from appointments.notes.admin import AddendumInline, ClinicalNoteAdmin, NotePartAdmin, NoteRowInline
from ot.models import OTNoteAddendum, OTSession, OTTargetSkill


class OTTargetSkillInline(NoteRowInline):
    model = OTTargetSkill
    fields = OTTargetSkill.ROW_FIELDS


class OTNoteAddendumInline(AddendumInline):
    model = OTNoteAddendum


@admin.register(OTSession)
class OTSessionAdmin(ClinicalNoteAdmin):
    inlines = (OTTargetSkillInline, OTNoteAddendumInline)


@admin.register(OTTargetSkill)
class OTTargetSkillAdmin(NotePartAdmin):
    list_display = ("note", "skill", "rating")


@admin.register(OTNoteAddendum)
class OTNoteAddendumAdmin(NotePartAdmin):
    list_display = ("note", "author", "created_at")
    list_select_related = (*NotePartAdmin.list_select_related, "author")
