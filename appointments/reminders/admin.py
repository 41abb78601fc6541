"""Django admin for messages to families: the templates, each clinic's reminder rules, and the sent rows.

Imported at the end of ``appointments.admin``, which registers the app's admins. The
template editor refuses unknown placeholders, the clinic's name without the opt-in and a
body without the link (``messages.validate_template_text``), and shows each body's length
as a family's phone counts it: live while typing (``static/js/message_length.js``, on a
typical family's values) and on the saved template (a rendered sample). Reminder rows are
written by the sender only: their page is a read-only list for the front desk's questions.
"""

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models.expressions import Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils.html import format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from appointments.reminders.messages import (
    PLACEHOLDERS,
    message_length,
    sample_message,
    sample_values,
    validate_template_text,
)
from appointments.reminders.models import MessageTemplate, Reminder, ReminderRule
from core.access_logging import AccessLoggedAdminMixin
from core.admin import TenantScopedAdmin
from core.admin_paging import LargeListAdminMixin
from core.audit_admin import ReadOnlyAdminMixin
from core.models import Guardian
from core.tenancy import for_user

# (field, language, is the body): the texts of a template, each checked and measured in its language.
TEMPLATE_TEXTS = (
    ("subject_en", "en", False),
    ("subject_ar", "ar", False),
    ("body_en", "en", True),
    ("body_ar", "ar", True),
)


def length_text(text: str, *, sms: bool) -> str:
    """ "Characters: 120 · SMS parts: 2 (70 characters each in Arabic)" for a text message."""
    length = message_length(text)
    if not sms:
        return gettext("Characters: %(characters)s") % {"characters": length.characters}
    if length.unicode:
        template = gettext(
            "Characters: %(characters)s · SMS parts: %(segments)s (Arabic: 70 to one SMS, 67 to each part)"
        )
    else:
        template = gettext(
            "Characters: %(characters)s · SMS parts: %(segments)s (160 to one SMS, 153 to each part)"
        )
    return template % {"characters": length.characters, "segments": length.segments}


class MessageTemplateForm(forms.ModelForm):
    class Meta:
        model = MessageTemplate
        fields = (
            "tenant",
            "name",
            "purpose",
            "channel",
            "names_discipline",
            "subject_en",
            "subject_ar",
            "body_en",
            "body_ar",
            "is_active",
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        placeholders = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
        tenant = self.instance.tenant if self.instance.tenant_id else None
        for name, language, is_body in TEMPLATE_TEXTS:
            field = self.fields[name]
            field.widget.attrs["dir"] = "rtl" if language == "ar" else "ltr"
            if not is_body:
                continue
            field.help_text = gettext("Placeholders: %(names)s. {link} is required.") % {
                "names": placeholders
            }
            # message_length.js counts the body filled in with a typical family's values.
            field.widget.attrs.update(
                {
                    "data-message-length": language,
                    "data-sample": json.dumps(sample_values(language, tenant), ensure_ascii=False),
                    "data-label-characters": gettext("Characters"),
                    "data-label-segments": gettext("SMS parts"),
                }
            )

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        names_discipline = bool(cleaned.get("names_discipline"))
        for name, _language, is_body in TEMPLATE_TEXTS:
            text = cleaned.get(name)
            if not text:
                continue
            try:
                validate_template_text(text, names_discipline=names_discipline, requires_link=is_body)
            except forms.ValidationError as error:
                self.add_error(name, error)
        return cleaned


@admin.register(MessageTemplate)
class MessageTemplateAdmin(TenantScopedAdmin):
    form = MessageTemplateForm
    list_display = ("name", "purpose", "channel", "names_discipline", "is_active", "tenant")
    list_filter = ("purpose", "channel", "names_discipline", "is_active")
    list_select_related = ("tenant",)
    search_fields = ("name",)
    readonly_fields = ("message_lengths",)
    fieldsets = (
        (None, {"fields": ("tenant", "name", "purpose", "channel", "is_active")}),
        (
            _("Words"),
            {
                "fields": (
                    "names_discipline",
                    "subject_en",
                    "subject_ar",
                    "body_en",
                    "body_ar",
                    "message_lengths",
                )
            },
        ),
    )

    class Media:
        js = ("js/message_length.js",)

    @admin.display(description=_("as a family receives it"))
    def message_lengths(self, obj: MessageTemplate | None) -> SafeString | str:
        """Each saved body filled in with a typical family's values, and its length."""
        if obj is None or obj.pk is None:
            return gettext("Shown once the template is saved.")
        sms = obj.channel == Guardian.Channel.SMS
        rows = []
        for body, language in ((obj.body_en, "en"), (obj.body_ar, "ar")):
            sample = sample_message(body, language=language, tenant=obj.tenant)
            rows.append(
                (language, "rtl" if language == "ar" else "ltr", sample, length_text(sample, sms=sms))
            )
        return format_html_join(
            "",
            '<div class="message-sample" lang="{}" dir="{}"><p class="message-sample-text">{}</p>'
            '<p class="message-sample-length">{}</p></div>',
            rows,
        )


class ReminderRuleForm(forms.ModelForm):
    class Meta:
        model = ReminderRule
        fields = ("clinic", "hours_before", "channel", "template", "is_active")

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        clinic, channel, template = cleaned.get("clinic"), cleaned.get("channel"), cleaned.get("template")
        if template is None:
            return cleaned
        if clinic is not None and template.tenant_id != clinic.tenant_id:
            self.add_error("template", gettext("Choose a template of the clinic's own organisation."))
        elif channel and template.channel != channel:
            self.add_error(
                "template",
                gettext("This template is for %(channel)s: choose one for the rule's channel.")
                % {"channel": template.get_channel_display()},
            )
        return cleaned


@admin.register(ReminderRule)
class ReminderRuleAdmin(TenantScopedAdmin):
    form = ReminderRuleForm
    list_display = ("clinic", "hours_before", "channel", "template", "is_active")
    list_filter = ("clinic", "channel", "is_active")
    list_select_related = ("clinic", "template")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "template" and formfield is not None:
            formfield.queryset = formfield.queryset.filter(
                purpose=MessageTemplate.Purpose.REMINDER, is_active=True
            ).select_related("tenant")
        return formfield


@admin.register(Reminder)
class ReminderAdmin(AccessLoggedAdminMixin, ReadOnlyAdminMixin, LargeListAdminMixin, TenantScopedAdmin):
    """What was sent to families, or failed: the sender writes the rows, nobody edits them here."""

    list_display = (
        "send_after",
        "kind",
        "status",
        "channel",
        "masked_address",
        "booking_number",
        "attempts",
        "sent_at",
        "last_error",
    )
    list_filter = ("status", "kind", "channel")
    list_select_related = ("participant", "appointment")
    actions = None
    fields = (
        "kind",
        "status",
        "channel",
        "masked_address",
        "participant",
        "appointment",
        "guardian",
        "rule",
        "template",
        "scheduled_start",
        "send_after",
        "claimed_at",
        "sent_at",
        "attempts",
        "gateway_message_id",
        "last_error",
        "voided_at",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description=_("booking number"))
    def booking_number(self, obj: Reminder) -> str:
        return obj.booking_number

    def logged_patient(self, request: HttpRequest, pk: str) -> Subquery:
        # A row is about a participant or a legacy appointment: the child of whichever it names.
        rows = for_user(Reminder.objects.filter(pk=pk), request.user).order_by()
        child = Coalesce("participant__patient_id", "appointment__patient_id")
        return Subquery(rows.annotate(child=child).values("child")[:1])
