"""Messages to families in Django admin: the template editor and its checks, the rules, the sent rows."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments.reminders.models import MessageTemplate, Reminder, ReminderRule
from appointments.tests.factories import AppointmentFactory, ParticipantFactory
from core.models import AccessLog, Guardian, User
from core.tests.admin_helpers import admin_url, form_data, tenant_admin_staff
from core.tests.factories import ClinicFactory, TenantFactory
from core.tests.view_helpers import staff_member

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

SMS, EMAIL = Guardian.Channel.SMS, Guardian.Channel.EMAIL
AR_BODY = "موعد {first_name} يوم {date} الساعة {time}. للتأكيد أو الإلغاء: {link}"


@pytest.fixture
def other_tenant():
    return TenantFactory(code="OTHER", name_en="Other Centre", name_ar="مركز آخر")


@pytest.fixture
def clinic_admin(client, tenant):
    client.force_login(tenant_admin_staff(tenant))
    return client


def make_template(tenant, name="Reminder by SMS", **fields):
    values = {
        "purpose": MessageTemplate.Purpose.REMINDER,
        "channel": SMS,
        "body_en": "{first_name} on {date} at {time}: {link}",
        "body_ar": AR_BODY,
        **fields,
    }
    return MessageTemplate.objects.create(tenant=tenant, name=name, **values)


def template_form(tenant, **fields):
    return {
        "tenant": str(tenant.pk),
        "name": "Reminder by SMS",
        "purpose": MessageTemplate.Purpose.REMINDER,
        "channel": SMS,
        "subject_en": "",
        "subject_ar": "",
        "body_en": "{first_name} on {date} at {time}: {link}",
        "body_ar": AR_BODY,
        "is_active": "on",
        **fields,
    }


def errors(response) -> dict:
    return response.context["adminform"].form.errors


def listed(client, model, query: str = "") -> list:
    response = client.get(admin_url(model, "changelist") + query)
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


# Templates ---------------------------------------------------------------------------------------


def test_template_admin_adds_a_valid_template(clinic_admin, tenant):
    response = clinic_admin.post(admin_url(MessageTemplate, "add"), template_form(tenant))

    assert response.status_code == 302, errors(response)
    saved = MessageTemplate.objects.get()
    assert (saved.tenant, saved.body_ar, saved.names_discipline) == (tenant, AR_BODY, False)


def test_template_admin_refuses_unknown_placeholders_in_each_text(clinic_admin, tenant):
    response = clinic_admin.post(
        admin_url(MessageTemplate, "add"),
        template_form(tenant, subject_en="{name}", body_ar="{الاسم} {link}"),
    )

    assert response.status_code == 200
    assert list(errors(response)) == ["subject_en", "body_ar"]
    assert errors(response)["subject_en"][0].startswith("Unknown placeholder: {name}. Use {first_name}, ")
    assert errors(response)["body_ar"][0].startswith("Unknown placeholder: {الاسم}.")
    assert not MessageTemplate.objects.exists()


def test_template_admin_refuses_the_clinic_without_the_opt_in(clinic_admin, tenant):
    data = template_form(tenant, body_en="{first_name} at {clinic}: {link}")

    refused = clinic_admin.post(admin_url(MessageTemplate, "add"), data)
    accepted = clinic_admin.post(admin_url(MessageTemplate, "add"), data | {"names_discipline": "on"})

    assert errors(refused) == {
        "body_en": ['{clinic} tells what the child is treated for: tick "may name the clinic" to use it.']
    }
    assert accepted.status_code == 302
    assert MessageTemplate.objects.get().names_discipline is True


def test_template_admin_requires_the_link_in_both_bodies(clinic_admin, tenant):
    response = clinic_admin.post(
        admin_url(MessageTemplate, "add"), template_form(tenant, body_en="{first_name}", body_ar="موعد")
    )

    message = "The message needs the {link} placeholder: the family confirms or cancels there."
    assert errors(response) == {"body_en": [message], "body_ar": [message]}


def test_template_admin_editor_carries_the_sample_and_the_counting_script(clinic_admin, tenant):
    response = clinic_admin.get(admin_url(MessageTemplate, "add"))

    html = response.content.decode()
    assert "js/message_length.js" in html
    assert 'data-message-length="ar"' in html
    assert "محمد" in html  # the typical first name the script fills {first_name} with
    assert "<script>" not in html.replace('<script src="', "")


def test_template_admin_change_page_shows_each_body_rendered_with_its_length(clinic_admin, tenant):
    template = make_template(tenant)

    response = clinic_admin.get(admin_url(MessageTemplate, "change", template.pk))

    html = response.content.decode()
    assert "Mohammed on Wednesday 02/12/2026 at 19:30: http" in html
    assert "موعد محمد يوم الأربعاء 02/12/2026 الساعة 19:30." in html
    # The English sample is GSM-7 and fits two messages; the Arabic one is UCS-2.
    assert "SMS parts: 2 (160 to one SMS, 153 to each part)" in html
    assert "(Arabic: 70 to one SMS, 67 to each part)" in html


def test_template_admin_email_template_shows_characters_only(clinic_admin, tenant):
    template = make_template(tenant, channel=EMAIL, subject_en="Reminder")

    html = clinic_admin.get(admin_url(MessageTemplate, "change", template.pk)).content.decode()

    assert "Characters: " in html
    assert "SMS parts" not in html.split('class="message-sample"', 1)[1]


def test_template_admin_shows_and_edits_only_the_organisations_templates(clinic_admin, tenant, other_tenant):
    own = make_template(tenant)
    foreign = make_template(other_tenant, name="Theirs")

    assert listed(clinic_admin, MessageTemplate) == [own]
    page = clinic_admin.get(admin_url(MessageTemplate, "change", foreign.pk))
    posted = clinic_admin.post(
        admin_url(MessageTemplate, "change", foreign.pk), template_form(tenant, name="Taken over")
    )

    assert (page.status_code, page.url) == (302, "/admin/")
    assert (posted.status_code, posted.url) == (302, "/admin/")
    foreign.refresh_from_db()
    assert (foreign.name, foreign.tenant) == ("Theirs", other_tenant)


def test_template_admin_refuses_another_organisation_as_the_tenant(clinic_admin, tenant, other_tenant):
    response = clinic_admin.post(admin_url(MessageTemplate, "add"), template_form(other_tenant))

    assert list(errors(response)) == ["tenant"]
    assert not MessageTemplate.objects.exists()


def test_template_admin_refused_to_staff_who_are_not_administrators(client, tenant):
    client.force_login(staff_member(tenant, User.Role.FRONT_DESK, is_staff=True))

    assert client.get(admin_url(MessageTemplate, "changelist")).status_code == 403


# Rules -------------------------------------------------------------------------------------------


def rule_form(clinic, template, **fields):
    return {
        "clinic": str(clinic.pk),
        "hours_before": "48",
        "channel": SMS,
        "template": str(template.pk),
        "is_active": "on",
        **fields,
    }


def test_rule_admin_adds_a_rule_with_a_template_of_its_channel(clinic_admin, tenant, clinic):
    template = make_template(tenant)

    response = clinic_admin.post(admin_url(ReminderRule, "add"), rule_form(clinic, template))

    assert response.status_code == 302, errors(response)
    rule = ReminderRule.objects.get()
    assert (rule.clinic, rule.hours_before, rule.channel, rule.template) == (clinic, 48, SMS, template)


def test_rule_admin_refuses_a_template_of_another_channel(clinic_admin, tenant, clinic):
    template = make_template(tenant, channel=EMAIL)

    response = clinic_admin.post(admin_url(ReminderRule, "add"), rule_form(clinic, template))

    assert errors(response) == {
        "template": ["This template is for E-mail: choose one for the rule's channel."]
    }


def test_rule_admin_offers_only_the_organisations_active_reminder_templates(
    clinic_admin, tenant, clinic, other_tenant
):
    own = make_template(tenant)
    make_template(tenant, name="Moved", purpose=MessageTemplate.Purpose.MOVED)
    make_template(tenant, name="Old", is_active=False)
    foreign = make_template(other_tenant, name="Theirs")

    page = clinic_admin.get(admin_url(ReminderRule, "add"))
    response = clinic_admin.post(admin_url(ReminderRule, "add"), rule_form(clinic, foreign))

    assert list(page.context["adminform"].form.fields["template"].queryset) == [own]
    assert list(errors(response)) == ["template"]
    assert not ReminderRule.objects.exists()


def test_rule_admin_superuser_cannot_pair_a_clinic_with_another_organisations_template(
    admin_client, clinic, other_tenant
):
    foreign = make_template(other_tenant, name="Theirs")

    response = admin_client.post(admin_url(ReminderRule, "add"), rule_form(clinic, foreign))

    assert errors(response) == {"template": ["Choose a template of the clinic's own organisation."]}


def test_rule_admin_refuses_a_second_rule_at_the_same_hours_and_channel(clinic_admin, tenant, clinic):
    template = make_template(tenant)
    ReminderRule.objects.create(clinic=clinic, hours_before=48, channel=SMS, template=template)

    response = clinic_admin.post(admin_url(ReminderRule, "add"), rule_form(clinic, template))

    assert errors(response)["__all__"] == [
        "This clinic already has a reminder this many hours before by this channel."
    ]


def test_rule_admin_lists_only_the_organisations_rules(clinic_admin, tenant, clinic, other_tenant):
    own = ReminderRule.objects.create(
        clinic=clinic, hours_before=2, channel=SMS, template=make_template(tenant)
    )
    ReminderRule.objects.create(
        clinic=ClinicFactory(tenant=other_tenant),
        hours_before=2,
        channel=SMS,
        template=make_template(other_tenant, name="Theirs"),
    )

    assert listed(clinic_admin, ReminderRule) == [own]


# Sent rows ---------------------------------------------------------------------------------------


def reminder(booking, status=Reminder.Status.SENT, **fields):
    """A row as the sender leaves it (the sender itself is tested with appointments.reminders.sending)."""
    is_participant = hasattr(booking, "session")
    start = timezone.make_aware((booking.session if is_participant else booking).starts_at)
    tenant = booking.patient.tenant
    return Reminder.objects.create(
        tenant=tenant,
        participant=booking if is_participant else None,
        appointment=None if is_participant else booking,
        channel=SMS,
        masked_address="+9665•••••567",
        scheduled_start=start,
        send_after=start - datetime.timedelta(hours=48),
        status=status,
        sent_at=start - datetime.timedelta(hours=48) if status == Reminder.Status.SENT else None,
        **fields,
    )


def test_reminder_admin_lists_the_organisations_rows_filtered_by_status(clinic_admin, clinic, other_tenant):
    sent = reminder(ParticipantFactory(session__clinic=clinic))
    failed = reminder(AppointmentFactory(clinic=clinic), Reminder.Status.FAILED, last_error="Gateway 503")
    reminder(ParticipantFactory(session__clinic=ClinicFactory(tenant=other_tenant)))

    assert set(listed(clinic_admin, Reminder)) == {sent, failed}
    assert listed(clinic_admin, Reminder, "?status__exact=failed") == [failed]
    html = clinic_admin.get(admin_url(Reminder, "changelist")).content.decode()
    assert "Gateway 503" in html
    assert failed.appointment.appointment_number in html
    assert sent.participant.appointment_number in html


def test_reminder_admin_is_read_only(clinic_admin, clinic):
    row = reminder(ParticipantFactory(session__clinic=clinic), Reminder.Status.FAILED)
    page = clinic_admin.get(admin_url(Reminder, "change", row.pk))

    posted = clinic_admin.post(admin_url(Reminder, "change", row.pk), form_data(page) | {"status": "sent"})

    assert page.status_code == 200
    assert clinic_admin.get(admin_url(Reminder, "add")).status_code == 403
    assert posted.status_code == 403
    assert clinic_admin.post(admin_url(Reminder, "delete", row.pk), {"post": "yes"}).status_code == 403
    row.refresh_from_db()
    assert row.status == Reminder.Status.FAILED


def test_reminder_admin_page_logs_a_read_of_the_child_of_a_legacy_appointment(clinic_admin, clinic):
    row = reminder(AppointmentFactory(clinic=clinic))

    clinic_admin.get(admin_url(Reminder, "change", row.pk))

    logged = AccessLog.objects.latest("pk")
    assert (logged.object_type, logged.object_id, logged.patient_id) == (
        "appointments.reminder",
        str(row.pk),
        row.appointment.patient_id,
    )


def test_reminder_admin_redirects_away_from_another_organisations_row(clinic_admin, other_tenant):
    foreign = reminder(ParticipantFactory(session__clinic=ClinicFactory(tenant=other_tenant)))

    response = clinic_admin.get(admin_url(Reminder, "change", foreign.pk))

    assert (response.status_code, response.url) == (302, "/admin/")


# session, user, the planner's estimate and the capped count, the page (bookings joined), the
# access-log row
REMINDER_LIST_QUERIES = 6


def test_reminder_admin_list_queries_do_not_grow_with_the_rows(clinic_admin, clinic):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert clinic_admin.get(admin_url(Reminder, "changelist")).status_code == 200
        return len(captured)

    reminder(ParticipantFactory(session__clinic=clinic))
    reminder(AppointmentFactory(clinic=clinic))
    with_two = queries()
    for _ in range(4):
        reminder(ParticipantFactory(session__clinic=clinic))
        reminder(AppointmentFactory(clinic=clinic))

    assert (with_two, queries()) == (REMINDER_LIST_QUERIES, REMINDER_LIST_QUERIES)
