"""Junk ids in the admin: a form error, a 404 or "no items selected", never a 500.

Driven by ``admin.site._registry``, so an admin added later is covered: every add
page with each of its id fields (autocomplete, raw id, choices) given as ``abc`` in
the query string and posted back; every history page of a simple-history admin with
an object id that can't be a primary key; every changelist action with a forged
tick. Each used to answer 500 (see ``config/tests/test_fuzz.py``, which finds them).
"""

import pytest
from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.test import RequestFactory
from simple_history.admin import SimpleHistoryAdmin

from appointments.models import Session
from core.admin_input import ReadableAutocompleteSelect
from core.models import Clinic, Consent, User
from core.tests.admin_helpers import admin_url, message_texts
from core.tests.factories import ConsentFactory, PatientFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

JUNK_IDS = ["abc", "1.5", "1e9", "\u202e1", "1\x00", str(2**63)]
NO_ITEM_SELECTED = "Items must be selected in order to perform actions on them. No items have been changed."


def id_fields(model_admin: admin.ModelAdmin) -> list[str]:
    """The add form's fields that pick a row by its id."""
    request = RequestFactory().get("/admin/")
    request.user = User(username="collecting", is_superuser=True, is_staff=True)  # unsaved: no database here
    form_class = model_admin.get_form(request, None, change=False)
    return sorted(
        name for name, field in form_class.base_fields.items() if isinstance(field, forms.ModelChoiceField)
    )


ADD_PAGES = [
    pytest.param(model, name, id=f"{model._meta.label}.{name}")
    for model, model_admin in admin.site._registry.items()
    for name in id_fields(model_admin)
]
HISTORY_PAGES = [
    pytest.param(model, id=model._meta.label)
    for model, model_admin in admin.site._registry.items()
    if isinstance(model_admin, SimpleHistoryAdmin)
]


def test_add_pages_cover_the_autocomplete_and_raw_id_fields():
    covered = {f"{param.values[0]._meta.label}.{param.values[1]}" for param in ADD_PAGES}

    assert {
        "appointments.Session.patient",
        "appointments.SessionParticipant.patient",
        "appointments.SessionParticipant.session",
        "appointments.Appointment.patient",
        "core.Consent.patient",
        "psychology.PsychologySession.patient",
        "psychology.PsychologySession.session_participant",
    } <= covered


@pytest.mark.parametrize(("model", "name"), ADD_PAGES)
def test_admin_add_page_with_a_junk_id_in_the_query_string_shows_the_form(admin_client, model, name):
    url = admin_url(model, "add")

    statuses = {admin_client.get(url, {name: junk}).status_code for junk in JUNK_IDS}

    assert statuses <= {200, 403}


@pytest.mark.parametrize(("model", "name"), ADD_PAGES)
def test_admin_add_page_posting_a_junk_id_shows_it_as_a_form_error(admin_client, model, name):
    url = admin_url(model, "add")

    for junk in JUNK_IDS:
        response = admin_client.post(url, {name: junk})

        assert response.status_code in (200, 403)
        if response.status_code == 200:
            assert name in response.context["adminform"].form.errors


def test_session_add_page_keeps_its_patient_autocomplete_after_a_junk_id(admin_client):
    response = admin_client.get(admin_url(Session, "add"), {"patient": "abc"})

    assert response.status_code == 200
    widget = response.context["adminform"].form.fields["patient"].widget
    widget = widget.widget if isinstance(widget, RelatedFieldWidgetWrapper) else widget
    assert isinstance(widget, ReadableAutocompleteSelect)


@pytest.mark.parametrize("model", HISTORY_PAGES)
def test_admin_history_page_of_an_id_that_cannot_be_a_key_is_404(admin_client, model):
    statuses = {admin_client.get(admin_url(model, "history", junk)).status_code for junk in JUNK_IDS[:5]}

    assert statuses == {404}


def _actions_of(model_admin) -> list[str]:
    """The actions a superuser is offered (an unsaved user: collection can't touch the database)."""
    request = RequestFactory().get("/admin/")
    request.user = User(username="collector", is_superuser=True, is_staff=True, is_active=True)
    return list(model_admin.get_actions(request))


@pytest.mark.parametrize(
    ("model", "action"),
    [
        pytest.param(model, actions[0], id=model._meta.label)
        for model, model_admin in admin.site._registry.items()
        if (actions := _actions_of(model_admin))
    ],
)
def test_admin_action_with_forged_ticks_selects_nothing(admin_client, model, action):
    response = admin_client.post(
        admin_url(model, "changelist"),
        {"action": action, "index": "0", "_selected_action": ["abc", "1\x00", "1.5"]},
        follow=True,
    )

    assert response.status_code == 200
    assert NO_ITEM_SELECTED in message_texts(response)


@pytest.mark.parametrize("view", ["change", "delete"])
def test_admin_change_and_delete_pages_read_an_empty_to_field_as_the_primary_key(admin_client, tenant, view):
    consent = ConsentFactory(patient=PatientFactory(tenant=tenant))
    url = admin_url(Consent, view, consent.pk)

    assert admin_client.get(url, {"_to_field": ""}).status_code == 200
    assert admin_client.post(url, {"_to_field": ""}).status_code in (200, 302)


@pytest.mark.parametrize(
    ("model", "query"),
    [(User, "role__exact=%00"), (Clinic, "specialty__exact=%00"), (Session, "status__exact=a%00b")],
)
def test_admin_list_filter_holding_a_nul_is_a_bad_request(admin_client, model, query):
    # PostgreSQL refuses a NUL in text; the admin answers 400 rather than a server error.
    response = admin_client.get(f"{admin_url(model, 'changelist')}?{query}")

    assert response.status_code == 400
