"""The SMS gateway's replies: 404 without the shared secret; a STOP opts the sender's guardians out."""

import json

import pytest
from django.urls import reverse

from appointments.tests.test_family_link import child, guardian_of
from core.models import Guardian

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

SECRET = "gateway-shared-secret"
URL = "/family/sms/inbound/"


@pytest.fixture
def mother(tenant) -> Guardian:
    return guardian_of(child(tenant))


@pytest.fixture
def with_secret(settings):
    settings.SMS_INBOUND_SECRET = SECRET


def opted_out(guardian: Guardian) -> bool:
    guardian.refresh_from_db()
    return guardian.sms_opted_out_at is not None


def test_the_address_is_family_sms_inbound():
    assert reverse("family:sms_inbound") == URL


def test_without_a_configured_secret_the_address_answers_404(client, settings, mother):
    settings.SMS_INBOUND_SECRET = ""

    response = client.post(URL, {"from": mother.phone, "text": "STOP"}, HTTP_X_GATEWAY_SECRET="")

    assert response.status_code == 404
    assert not opted_out(mother)


@pytest.mark.usefixtures("with_secret")
@pytest.mark.parametrize(
    "headers", [{}, {"HTTP_X_GATEWAY_SECRET": "wrong"}, {"HTTP_X_GATEWAY_SECRET": SECRET + "x"}]
)
def test_a_missing_or_wrong_secret_answers_404(client, mother, headers):
    response = client.post(URL, {"from": mother.phone, "text": "STOP"}, **headers)

    assert response.status_code == 404
    assert not opted_out(mother)


@pytest.mark.usefixtures("with_secret")
def test_a_stop_posted_as_a_form_opts_the_phone_out(client, mother):
    response = client.post(URL, {"from": mother.phone, "text": " stop "}, HTTP_X_GATEWAY_SECRET=SECRET)

    assert response.status_code == 204
    assert opted_out(mother)


@pytest.mark.usefixtures("with_secret")
def test_a_stop_posted_as_json_opts_the_phone_out_without_a_csrf_token(mother):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(
        URL,
        json.dumps({"from": mother.phone, "text": "إيقاف"}),
        content_type="application/json",
        HTTP_X_GATEWAY_SECRET=SECRET,
    )

    assert response.status_code == 204
    assert opted_out(mother)


@pytest.mark.usefixtures("with_secret")
@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ({"from": "+966501234567", "text": "Thanks, see you"}, None),
        ("not json", "application/json"),
        ("[1, 2]", "application/json"),
    ],
)
def test_any_other_reply_is_read_and_changes_nothing(client, mother, body, content_type):
    extra = {"content_type": content_type} if content_type else {}

    response = client.post(URL, body, HTTP_X_GATEWAY_SECRET=SECRET, **extra)

    assert response.status_code == 204
    assert not opted_out(mother)


@pytest.mark.usefixtures("with_secret")
def test_the_address_takes_posts_only(client):
    assert client.get(URL, HTTP_X_GATEWAY_SECRET=SECRET).status_code == 405
