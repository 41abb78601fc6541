"""A family link's token never reaches a log: Django's request and server logs, gunicorn's access log."""

import datetime
import logging
from unittest import mock

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils.log import AdminEmailHandler

from appointments.reminders.tokens import make_link_token
from appointments.tests.test_family_link import child, guardian_of, reminder_for
from config.gunicorn import AccessLogWithoutHealthChecks
from core.log_filters import RedactFamilyLinkTokens, redact_family_tokens
from core.tests.view_helpers import booked, group_session

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_today")]

TOKEN = "eyJyIjpbMV0sInMiOjE3NzM3MzEwMDB9:1a2B3c-d_E"


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        (f"Not Found: /family/{TOKEN}/", "Not Found: /family/[redacted]/"),
        (f'"GET /family/{TOKEN}/?cancel=3 HTTP/1.1" 200', '"GET /family/[redacted]/?cancel=3 HTTP/1.1" 200'),
        (f"https://clinic.example.org/family/{TOKEN}/", "https://clinic.example.org/family/[redacted]/"),
        ("POST /family/sms/inbound/ HTTP/1.1", "POST /family/sms/inbound/ HTTP/1.1"),
        ("GET /patients/12/ HTTP/1.1", "GET /patients/12/ HTTP/1.1"),
    ],
)
def test_redact_family_tokens(text, redacted):
    assert redact_family_tokens(text) == redacted


def test_the_filter_formats_the_message_once_without_the_token():
    record = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "%s: %s", ("Gone", f"/family/{TOKEN}/"), None
    )

    assert RedactFamilyLinkTokens().filter(record) is True
    assert record.getMessage() == "Gone: /family/[redacted]/"


def test_a_404_and_a_429_of_the_link_are_logged_without_the_token(
    client, caplog, settings, provider, clinic, tenant
):
    participant = booked(group_session(provider, clinic, day=datetime.date(2026, 3, 17)), child(tenant))
    token = make_link_token([reminder_for(participant, guardian_of(participant.patient))])
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")

    with caplog.at_level(logging.INFO):
        not_found = client.get(reverse("family:link", args=[tampered]))
        settings.FAMILY_LINK_RATE_LIMIT = 1
        limited = client.get(reverse("family:link", args=[token]))

    assert (not_found.status_code, limited.status_code) == (404, 429)
    assert [record.getMessage() for record in caplog.records if record.name == "django.request"] == [
        "Not Found: /family/[redacted]/",
        "Too Many Requests: /family/[redacted]/",
    ]
    assert token not in caplog.text
    assert tampered not in caplog.text


def test_every_handler_django_writes_requests_to_redacts():
    console = [handler for handler in logging.getLogger().handlers if type(handler) is logging.StreamHandler]
    server = logging.getLogger("django.server").handlers

    assert console
    assert server
    for handler in [*console, *server]:
        assert any(isinstance(found, RedactFamilyLinkTokens) for found in handler.filters)
    for name in ("django.request", "django.security.csrf"):
        assert any(isinstance(found, RedactFamilyLinkTokens) for found in logging.getLogger(name).filters)


def test_no_error_is_mailed_with_the_request_in_it():
    handlers = [
        handler for name in ("django", "django.request") for handler in logging.getLogger(name).handlers
    ]

    assert not any(isinstance(handler, AdminEmailHandler) for handler in handlers)
    assert logging.getLogger("django").propagate


def test_gunicorn_access_log_line_has_no_token():
    access_log = AccessLogWithoutHealthChecks.__new__(AccessLogWithoutHealthChecks)
    access_log.cfg = mock.Mock(access_log_format='%(h)s "%(r)s" %(s)s %(U)s %(f)s')
    access_log._access_log_enabled = True
    access_log.access_log = mock.Mock()
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/family/{TOKEN}/",
        "PATH_INFO": f"/family/{TOKEN}/",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.5",
        "HTTP_REFERER": f"https://clinic.example.org/family/{TOKEN}/",
    }
    response = mock.Mock(status="200 OK", headers=[], sent=10)

    access_log.access(response, mock.Mock(headers=[]), environ, datetime.timedelta(milliseconds=5))

    fmt, atoms = access_log.access_log.info.call_args.args
    line = fmt % atoms
    assert TOKEN not in line
    assert line == (
        '203.0.113.5 "GET /family/[redacted]/ HTTP/1.1" 200 /family/[redacted]/ '
        "https://clinic.example.org/family/[redacted]/"
    )
