"""Django admin for operators: history pages say what changed in labels and local time, in the page's
language, and every changelist of dated rows opens on the newest.
"""

import datetime

import pytest
from django.conf import settings
from django.contrib import admin
from django.db import models
from django.utils import translation
from django.utils.formats import date_format
from django.utils.timezone import localtime

from appointments.models import Appointment, Session, SessionParticipant
from appointments.session_service import SessionService
from core.models import User, UserPrivilegeChange
from core.tests.admin_helpers import admin_url, registered_admins
from core.tests.view_helpers import booked, group_session, legacy_appointment

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

Status = SessionParticipant.Status
OUR_APPS = ("core", "appointments", "psychology", "ot", "aba")


def changes_shown(client, participant: SessionParticipant, language: str):
    """The participant's admin history page, and the "Changes" of its latest version: field -> (old, new)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(admin_url(SessionParticipant, "history", participant.pk))
    assert response.status_code == 200
    latest = response.context["page_obj"][0]
    changes = {change["field"]: (change["old"], change["new"]) for change in latest.history_delta_changes}
    return response, changes


@pytest.mark.parametrize("language", ["en", "ar"])
def test_participant_history_shows_status_labels_and_local_times(admin_client, clinic, provider, language):
    participant = booked(group_session(provider, clinic))
    SessionService.confirm_participant(participant)
    confirmed_at = SessionParticipant.objects.get(pk=participant.pk).confirmed_at

    response, changes = changes_shown(admin_client, participant, language)

    with translation.override(language):
        booked_label, confirmed_label = str(Status.BOOKED.label), str(Status.CONFIRMED.label)
        status_field = str(SessionParticipant._meta.get_field("status").verbose_name).capitalize()
        confirmed_at_field = str(SessionParticipant._meta.get_field("confirmed_at").verbose_name).capitalize()
        history_date = date_format(localtime(participant.history.latest().history_date), "DATETIME_FORMAT")
    assert changes[status_field] == (booked_label, confirmed_label)
    # 10:00 in Riyadh (07:00 UTC), day first.
    assert localtime(confirmed_at).strftime("%H:%M") == "10:00"
    assert changes[confirmed_at_field] == ("—", "15/03/2026 10:00")
    assert history_date.endswith("10:00")
    assert history_date in response.content.decode()


def test_privilege_changes_show_the_roles_and_flags_in_words(admin_client, tenant):
    huda = User.objects.create_user("huda", tenant=tenant, role=User.Role.FRONT_DESK)
    huda.role = User.Role.FINANCE
    huda.is_active = False
    huda.save()

    response = admin_client.get(admin_url(UserPrivilegeChange, "changelist") + f"?user__id__exact={huda.pk}")

    page = response.content.decode()
    assert '<td class="field-old_shown">Front desk</td><td class="field-new_shown">Finance</td>' in page
    assert '<td class="field-old_shown">Yes</td><td class="field-new_shown">No</td>' in page
    assert "front_desk" not in page


# Changelists: the first thing each orders by (the rows of a model without a date keep their order).
NEWEST_FIRST = {
    "core.AccessLog": "-id",
    "core.AuditSeal": "-id",
    "core.BreakGlassGrant": "acknowledged_at",  # unacknowledged first, then newest (-started_at)
    "core.ClinicHoliday": "-date",
    "core.Consent": "-signed_at",
    "core.OpeningHoursOverride": "-date",
    "core.Patient": "-created_at",
    "core.ProviderLeave": "-starts_at",
    "core.UserPrivilegeChange": "-id",
    "appointments.Appointment": "-scheduled_date",
    "appointments.CheckInRefusal": "-refused_at",
    "appointments.SeriesEnrolment": "-enrolled_at",
    "appointments.SeriesSkippedDate": "-date",
    "appointments.Session": "-scheduled_date",
    "appointments.SessionParticipant": "-session__scheduled_date",
    "appointments.Reminder": "-send_after",
    "appointments.SessionSeries": "-start_date",
    "appointments.WaitlistEntry": "-added_at",
    "psychology.PsychologySession": "-session_date",
    "psychology.PsychologyNoteAddendum": "-note__session_date",
    "ot.OTSession": "-session_date",
    "ot.OTNoteAddendum": "-note__session_date",
    "ot.OTTargetSkill": "-note__session_date",
    "aba.ABASession": "-session_date",
    "aba.ABANoteAddendum": "-note__session_date",
    "aba.ABABehaviourRecord": "-note__session_date",
    "aba.ABASkillTarget": "-note__session_date",
}
# Dated, yet listed another way on purpose: the users by login name, message templates by
# organisation, purpose and name.
LISTED_BY_NAME = {"core.User", "appointments.MessageTemplate"}


def first_ordering(model_admin: admin.ModelAdmin) -> str:
    """What the changelist orders by first: the admin's ordering, else the model's."""
    first = (model_admin.ordering or model_admin.model._meta.ordering)[0]
    return first if isinstance(first, str) else first.expression.name


def has_a_date(model: type[models.Model]) -> bool:
    return any(isinstance(field, models.DateField) for field in model._meta.concrete_fields)


def test_every_changelist_of_dated_rows_opens_on_the_newest():
    admins = {
        model._meta.label: model_admin
        for app in OUR_APPS
        for model, model_admin in registered_admins(app).items()
    }
    dated = {label for label, model_admin in admins.items() if has_a_date(model_admin.model)}

    assert dated - LISTED_BY_NAME <= set(NEWEST_FIRST)
    assert {label: first_ordering(admins[label]) for label in NEWEST_FIRST} == NEWEST_FIRST


def test_session_and_appointment_changelists_list_the_latest_day_first(admin_client, clinic, provider):
    today = datetime.date(2026, 3, 15)
    days = [today + datetime.timedelta(days=offset) for offset in (1, 3, 2)]
    sessions = [group_session(provider, clinic, day=day) for day in days]
    appointments = [legacy_appointment(provider, clinic, day=day) for day in days]

    listed = {
        model: list(admin_client.get(admin_url(model, "changelist")).context["cl"].result_list)
        for model in (Session, Appointment)
    }

    assert listed[Session] == [sessions[1], sessions[2], sessions[0]]
    assert listed[Appointment] == [appointments[1], appointments[2], appointments[0]]
