from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from aba.models import ABABehaviourRecord, ABANoteAddendum, ABASession, ABASkillTarget
from appointments.notes.admin import AddendumInline, ClinicalNoteAdmin, NotePartAdmin, NoteRowInline


class ABABehaviourRecordInline(NoteRowInline):
    model = ABABehaviourRecord
    fields = ABABehaviourRecord.ROW_FIELDS


class ABASkillTargetInline(NoteRowInline):
    model = ABASkillTarget
    fields = (*ABASkillTarget.ROW_FIELDS, "percent_correct")
    readonly_fields = ("percent_correct",)

    @admin.display(description=_("percent correct"))
    def percent_correct(self, target: ABASkillTarget):
        return "-" if target.pk is None or target.percent_correct is None else f"{target.percent_correct}%"


class ABANoteAddendumInline(AddendumInline):
    model = ABANoteAddendum


@admin.register(ABASession)
class ABASessionAdmin(ClinicalNoteAdmin):
    inlines = (ABABehaviourRecordInline, ABASkillTargetInline, ABANoteAddendumInline)


@admin.register(ABABehaviourRecord)
class ABABehaviourRecordAdmin(NotePartAdmin):
    list_display = ("note", "behaviour", "frequency", "duration_seconds", "intensity")


@admin.register(ABASkillTarget)
class ABASkillTargetAdmin(NotePartAdmin):
    list_display = ("note", "target", "trials", "correct", "percent_correct")


@admin.register(ABANoteAddendum)
class ABANoteAddendumAdmin(NotePartAdmin):
    list_display = ("note", "author", "created_at")
    list_select_related = (*NotePartAdmin.list_select_related, "author")
